// NAME
//   fuzz_request.cpp - libFuzzer target: the request path of the event loop
// SYNOPSIS
//   tests/fuzz/run.sh            (builds with clang++ -fsanitize=fuzzer,address,undefined)
// DESCRIPTION
//   Runs hostile bytes through what Connection::read_requests does with
//   them: RequestFramer (with a small size limit, so "too large" is reached
//   too), Attributes and normalize(). The first input bytes choose the size
//   limit, GREYLIST_HOSTADDR, GREYLIST_IPV6_PREFIX and how the stream is
//   cut into reads.
//
//   Besides the sanitizers' memory and undefined-behaviour checks it
//   asserts what the rest of the daemon relies on:
//   - framing does not depend on how the bytes were cut into reads;
//   - no request is longer than the limit;
//   - every normalised key respects the reference's length caps and,
//     except client_address, its character filter.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/attributes.h"
#include "protocol/framer.h"
#include "protocol/normalizer.h"

using namespace policyd;

namespace {

void require(bool condition) {
    if (!condition) std::abort();
}

bool filtered(const std::string& s) {
    for (char c : s) {
        const bool kept = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '@' ||
                          c == '|' || c == '.' || c == ':' || c == '_' || c == '-' || c == '/' ||
                          c == ' ';
        if (!kept) return false;
    }
    return true;
}

void check_request(std::string_view text, int hostaddr, int ipv6_prefix) {
    const Attributes attrs(text);
    const Request r = normalize(attrs, hostaddr, ipv6_prefix);
    require(r.ip.size() <= 49);
    require(r.sender == "<>" || r.sender.size() <= 57);
    require(r.rcpt.size() <= 54 && r.helo.size() <= 54 && r.name.size() <= 52);
    require(r.sasl.size() <= 50 && r.instance.size() <= 55 && r.size.size() <= 59);
    for (const std::string* s : {&r.rcpt, &r.helo, &r.name, &r.sasl, &r.instance, &r.size,
                                 &r.sdom, &r.rdom})
        require(filtered(*s));
    require(r.sender == "<>" || filtered(r.sender));
    // The IPv6 network key is at most "<8 groups>/127"; every other host key is
    // cut from the address.
    require(r.net6.size() <= 43);
    require(r.net6.empty() ? r.ghost.size() <= r.ip.size() : r.ghost == r.net6);
}

// Every request the framer yields for `data` cut into the given reads.
std::vector<std::string> frame(std::string_view data, std::size_t max_bytes,
                               const std::vector<std::size_t>& cuts, bool& too_large) {
    RequestFramer framer(max_bytes);
    std::vector<std::string> out;
    std::size_t at = 0;
    for (std::size_t i = 0; at < data.size(); ++i) {
        const std::size_t n = std::min(cuts.empty() ? data.size() : cuts[i % cuts.size()],
                                       data.size() - at);
        framer.feed(data.data() + at, n);
        at += n;
        while (auto request = framer.next()) out.emplace_back(*request);
    }
    too_large = framer.too_large();
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size < 4) return 0;
    const std::size_t max_bytes = 1 + ((bytes[0] << 8 | bytes[1]) % 4096);
    const int hostaddr = bytes[2] % 6;  // 0 and 5 are out of range on purpose
    const int ipv6_prefix = 32 + bytes[2] / 6 % 97;  // 32..128, the key's range
    std::vector<std::size_t> cuts;
    for (unsigned c = bytes[3]; c != 0; c >>= 2) cuts.push_back(1 + (c & 3) * 7);
    const std::string_view data(reinterpret_cast<const char*>(bytes) + 4, size - 4);

    bool whole_too_large = false, cut_too_large = false;
    const auto whole = frame(data, max_bytes, {}, whole_too_large);
    const auto cut = frame(data, max_bytes, cuts, cut_too_large);
    require(whole == cut);
    require(whole_too_large == cut_too_large);
    for (const auto& request : whole) {
        require(request.size() < max_bytes);
        check_request(request, hostaddr, ipv6_prefix);
    }
    return 0;
}
