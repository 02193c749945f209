// NAME
//   framer.h - cut a policy-protocol byte stream into complete requests
// SYNOPSIS
//   #include "protocol/framer.h"
//
//   RequestFramer framer;                 // or RequestFramer framer(max_bytes)
//   framer.feed(data, n);                 // whatever the socket delivered
//   while (auto text = framer.next())
//       handle(*text);                    // one request, in arrival order
//   if (framer.too_large())
//       close_connection();
// DESCRIPTION
//   A request is a run of attribute lines ended by an empty line. The
//   terminator is an LF followed by an empty line, i.e. "\n\n"; a CR before
//   either LF is tolerated ("\r\n\r\n", "\n\r\n", "\r\n\n"), unlike the
//   reference, which only knew "\n\n". A request that is
//   nothing but the terminator ("\n\n") is a complete empty request; the
//   reference needed a third byte before it saw it.
//
//   next() yields the request text without its final line end and without
//   the empty line: "a=b\nc=d\n\n" yields "a=b\nc=d", "\n\n" yields "".
//   Bytes are framed as they are: a NUL byte does not end a request here
//   (the attribute parser stops at it, see attributes.h).
//
//   The size of a request counts every byte up to and including the empty
//   line. When the current request cannot end within max_bytes (default
//   65536; the reference dropped requests over 1022 bytes silently), next()
//   returns nothing and too_large() becomes true for good; later input is
//   discarded. Requests that completed before it are still returned first.
//
//   Ownership and lifetime: the framer owns a copy of the bytes fed to it.
//   A string_view returned by next() points into that copy and stays valid
//   until the next call of feed() (further next() calls do not invalidate
//   it). Not thread-safe; one framer per connection.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace policyd {

class RequestFramer {
public:
    static constexpr std::size_t kDefaultMaxBytes = 65536;

    explicit RequestFramer(std::size_t max_bytes = kDefaultMaxBytes);

    // Appends n bytes (copied). Ignored once too_large() is true.
    void feed(const char* data, std::size_t n);

    // The next complete request, or nothing if the buffered bytes do not
    // (yet) hold one.
    std::optional<std::string_view> next();

    // The current request exceeded max_bytes; the connection should close.
    bool too_large() const { return too_large_; }

    // Bytes of a request that is not complete yet are buffered.
    bool has_partial() const { return start_ < buf_.size(); }

private:
    std::size_t max_bytes_;
    std::string buf_;
    std::size_t start_ = 0;  // first byte of the current request in buf_
    std::size_t scan_ = 0;   // bytes before this hold no terminator start
    bool too_large_ = false;
};

}  // namespace policyd
