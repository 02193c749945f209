// NAME
//   explain_input.cpp - --explain's three input forms (see explain_input.h)
// DESCRIPTION
//   A decision log line is recognised by "rcpt=<digits>, " anywhere in the
//   first non-empty line (syslog and journal prefixes vary); its fields are
//   ", "-separated, which no field's value contains except the host's
//   name, in parentheses, which is taken whole.
#include "explain/explain_input.h"

#include <cctype>
#include <optional>
#include <stdexcept>

namespace policyd {
namespace {

bool valid_name(std::string_view name) {
    if (name.empty()) return false;
    for (const char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    return true;
}

void add(std::string& request, std::string_view name, std::string_view value) {
    request.append(name).append("=").append(value).append("\n");
}

bool has_attribute(const std::string& request, std::string_view name) {
    const std::string head = std::string(name) + "=";
    for (std::size_t at = 0; at < request.size();) {
        if (request.compare(at, head.size(), head) == 0) return true;
        const std::size_t nl = request.find('\n', at);
        if (nl == std::string::npos) break;
        at = nl + 1;
    }
    return false;
}

// What Postfix always sends, unless given.
ExplainInput completed(std::string request, std::string origin) {
    if (!has_attribute(request, "request")) add(request, "request", "smtpd_access_policy");
    if (!has_attribute(request, "protocol_state")) add(request, "protocol_state", "RCPT");
    return {std::move(request), std::move(origin)};
}

// The value of ", <key>=" in a decision line, up to the next ", ".
std::optional<std::string_view> field(std::string_view line, std::string_view key) {
    const std::string marker = ", " + std::string(key) + "=";
    const std::size_t at = line.find(marker);
    if (at == std::string_view::npos) return std::nullopt;
    std::string_view value = line.substr(at + marker.size());
    if (key == "host") {  // "IP (NAME)": the name may be anything but ')'
        const std::size_t close = value.find("), ");
        if (close != std::string_view::npos) return value.substr(0, close + 1);
    }
    return value.substr(0, value.find(", "));
}

std::optional<ExplainInput> from_log_line(std::string_view line) {
    std::size_t at = line.find("rcpt=");
    while (at != std::string_view::npos) {
        std::size_t digits = at + 5;
        while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits])))
            ++digits;
        if (digits > at + 5 && line.substr(digits, 2) == ", ") break;
        at = line.find("rcpt=", at + 1);
    }
    if (at == std::string_view::npos) return std::nullopt;
    line = line.substr(at);
    const std::size_t token_start = line.find(", ") + 2;
    const std::size_t token_end = line.find(", ", token_start);
    const std::string_view token = line.substr(token_start, token_end - token_start);
    // The fields after the token ("helo=abuse" is a token, ", helo=" a field).
    line = token_end == std::string_view::npos ? std::string_view() : line.substr(token_end);
    const auto host = field(line, "host");
    if (!host) throw std::invalid_argument("the decision log line has no host= field");
    std::string request;
    const std::size_t paren = host->find(" (");
    add(request, "client_address", host->substr(0, paren));
    if (paren != std::string_view::npos && host->back() == ')')
        add(request, "client_name", host->substr(paren + 2, host->size() - paren - 3));
    if (auto from = field(line, "from")) add(request, "sender", *from);
    if (auto to = field(line, "to")) add(request, "recipient", *to);
    if (auto size = field(line, "size")) add(request, "size", size->substr(0, size->find('/')));
    if (auto helo = field(line, "helo")) add(request, "helo_name", *helo);
    if (auto sasl = field(line, "sasl_username")) add(request, "sasl_username", *sasl);
    return completed(std::move(request), "request of a decision log line (token " +
                                             std::string(token) + ")");
}

}  // namespace

ExplainInput explain_input_from_text(std::string_view text) {
    const std::size_t first = text.find_first_not_of("\r\n \t");
    if (first == std::string_view::npos)
        throw std::invalid_argument("no request on standard input");
    text = text.substr(first);
    const std::string_view first_line = text.substr(0, text.find('\n'));
    if (auto rebuilt = from_log_line(first_line)) return *rebuilt;
    std::string request;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t nl = text.find('\n', at);
        std::string_view line = text.substr(at, nl == std::string_view::npos ? nl : nl - at);
        at = nl == std::string_view::npos ? text.size() : nl + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) break;  // the end of the request
        const std::size_t eq = line.find('=');
        if (eq == std::string_view::npos || !valid_name(line.substr(0, eq)))
            throw std::invalid_argument("not a name=value line of a policy request: '" +
                                        std::string(line) + "'");
        request.append(line).append("\n");
    }
    return completed(std::move(request), "request");
}

ExplainInput explain_input_from_attributes(const std::vector<std::string>& name_values) {
    std::string request;
    for (const std::string& word : name_values) {
        const std::size_t eq = word.find('=');
        if (eq == std::string::npos || !valid_name(std::string_view(word).substr(0, eq)) ||
            word.find('\n') != std::string::npos)
            throw std::invalid_argument("--explain-attr wants name=value, not '" + word + "'");
        request.append(word).append("\n");
    }
    if (request.empty()) throw std::invalid_argument("--explain-attr: no attributes");
    return completed(std::move(request), "request given as attributes");
}

}  // namespace policyd
