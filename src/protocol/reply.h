// NAME
//   reply.h - frame one policy reply for the wire
// SYNOPSIS
//   #include "protocol/reply.h"
//   std::string wire = format_reply("action=dunno");   // "action=dunno\n\n"
// DESCRIPTION
//   A reply is one "action=..." line followed by an empty line.
//   The caller passes the line without its line end; the
//   returned string owns its bytes.
#pragma once

#include <string>
#include <string_view>

namespace policyd {

std::string format_reply(std::string_view action_line);

}  // namespace policyd
