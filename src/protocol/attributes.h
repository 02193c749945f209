// NAME
//   attributes.h - the name=value lines of one policy request
// SYNOPSIS
//   #include "protocol/attributes.h"
//
//   Attributes attrs(text);               // text: one request from the framer
//   if (auto v = attrs.get("sender")) ... // present, possibly empty
// DESCRIPTION
//   Splits one complete request into lines and each line at its first '='.
//   Every line is read (the reference read only 20, and later lines
//   overwrote other connections' memory).
//   A trailing CR is stripped from each line (CRLF tolerance); lines
//   without '=' are ignored. The text is read only up to its first NUL
//   byte, as the reference's strlen() did.
//
//   Names are matched case-insensitively (ASCII), and when a name occurs
//   more than once the last occurrence wins. Values are
//   returned exactly as sent: lower-casing, filtering and length caps are
//   the Normalizer's business (normalizer.h).
//
//   Ownership and lifetime: Attributes does not copy the text. It and every
//   view it returns point into the caller's text, which must outlive them.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace policyd {

class Attributes {
public:
    explicit Attributes(std::string_view text);

    // The value of the last line called `name` (any case), or nothing if
    // no such line exists.
    std::optional<std::string_view> get(std::string_view name) const;

    // Number of name=value lines, duplicates included.
    std::size_t size() const { return lines_.size(); }

private:
    struct Line {
        std::string_view name;
        std::string_view value;
    };
    std::vector<Line> lines_;  // in request order
};

}  // namespace policyd
