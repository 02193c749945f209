// NAME
//   explain_input.h - the request policyd --explain evaluates, from its input
// SYNOPSIS
//   #include "explain/explain_input.h"
//   ExplainInput in = explain_input_from_text(stdin_text);      // request or log line
//   ExplainInput in = explain_input_from_attributes({"sender=a@b", ...});
// DESCRIPTION
//   --explain reads one of three things and makes of each the text of one
//   policy protocol request (name=value lines, as Postfix sends them):
//     - a request in the policy protocol's format (up to its empty line);
//     - a decision log line, with or without a syslog prefix:
//         rcpt=3, greylist=new, host=192.0.2.10 (mx.example.com),
//         from=alice@example.com, to=bob@example.org, size=1234
//       host, its name in parentheses, from, to, size (a throttle's
//       "size=1234/0" counts its first number), helo= and sasl_username=
//       become client_address, client_name, sender, recipient, size,
//       helo_name and sasl_username;
//     - name=value words given with --explain-attr.
//   Anything else is an error (std::invalid_argument naming the problem).
//   request=smtpd_access_policy and protocol_state=RCPT are added when
//   absent, as Postfix always sends them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace policyd {

struct ExplainInput {
    std::string request;  // name=value lines, '\n'-terminated, no empty line
    std::string origin;   // "request", "request of a decision log line (token greylist=new)",
                          // "request given as attributes"
};

ExplainInput explain_input_from_text(std::string_view text);
ExplainInput explain_input_from_attributes(const std::vector<std::string>& name_values);

}  // namespace policyd
