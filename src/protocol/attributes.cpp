// NAME
//   attributes.cpp - the name=value lines of one policy request
// SYNOPSIS
//   See attributes.h.
// DESCRIPTION
//   Lines are kept in request order and get() searches from the end, which
//   gives "last one wins" without a map: a request has a few dozen lines
//   and the pipeline asks for about ten names.
#include "protocol/attributes.h"

#include <algorithm>

#include "protocol/ascii.h"

namespace policyd {

namespace {

bool iequal(std::string_view a, std::string_view b)
{
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(),
                      [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

}  // namespace

Attributes::Attributes(std::string_view text)
{
    text = text.substr(0, text.find('\0'));
    while (!text.empty()) {
        const std::size_t lf = text.find('\n');
        std::string_view line = text.substr(0, lf);
        text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        const std::size_t eq = line.find('=');
        if (eq != std::string_view::npos)
            lines_.push_back({line.substr(0, eq), line.substr(eq + 1)});
    }
}

std::optional<std::string_view> Attributes::get(std::string_view name) const
{
    const auto it = std::find_if(lines_.rbegin(), lines_.rend(),
                                 [name](const Line& l) { return iequal(l.name, name); });
    if (it == lines_.rend())
        return std::nullopt;
    return it->value;
}

}  // namespace policyd
