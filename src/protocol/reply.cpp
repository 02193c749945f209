// NAME
//   reply.cpp - frame one policy reply for the wire
// SYNOPSIS
//   See reply.h.
// DESCRIPTION
//   One allocation: the line plus its "\n" and the empty line's "\n".
#include "protocol/reply.h"

namespace policyd {

std::string format_reply(std::string_view action_line)
{
    std::string wire;
    wire.reserve(action_line.size() + 2);
    wire.append(action_line).append("\n\n");
    return wire;
}

}  // namespace policyd
