// NAME
//   framer.cpp - cut a policy-protocol byte stream into complete requests
// SYNOPSIS
//   See framer.h.
// DESCRIPTION
//   The buffer holds the unconsumed requests; the consumed prefix is
//   dropped at the next feed(), so returned views survive until then.
//   scan_ remembers how far the current request has been searched, so a
//   request that trickles in byte by byte is still scanned only once.
#include "protocol/framer.h"

#include <algorithm>
#include <cstring>

namespace policyd {

RequestFramer::RequestFramer(std::size_t max_bytes) : max_bytes_(max_bytes) {}

void RequestFramer::feed(const char* data, std::size_t n)
{
    if (too_large_)
        return;
    if (start_ > 0) {
        buf_.erase(0, start_);
        scan_ -= start_;
        start_ = 0;
    }
    buf_.append(data, n);
}

std::optional<std::string_view> RequestFramer::next()
{
    if (too_large_)
        return std::nullopt;
    // The terminator must end within max_bytes of the request start.
    const std::size_t limit = std::min(buf_.size(), start_ + max_bytes_);
    const char* const b = buf_.data();
    std::size_t i = scan_;
    while (i < limit) {
        const void* lf = std::memchr(b + i, '\n', limit - i);
        if (lf == nullptr) {
            i = limit;
            break;
        }
        i = static_cast<const char*>(lf) - b;
        std::size_t j = i + 1;  // where the empty line's LF must be
        if (j < limit && b[j] == '\r')
            ++j;
        if (j >= limit)
            break;  // undecided: rescan this LF when more bytes arrive
        if (b[j] == '\n') {
            std::size_t end = i;  // drop the last line's LF (and its CR)
            if (end > start_ && b[end - 1] == '\r')
                --end;
            std::string_view text(b + start_, end - start_);
            start_ = scan_ = j + 1;
            return text;
        }
        ++i;
    }
    if (buf_.size() - start_ >= max_bytes_)
        too_large_ = true;  // no terminator can end within the limit now
    else
        scan_ = i;
    return std::nullopt;
}

}  // namespace policyd
