// NAME
//   normalizer.cpp - turn request attributes into the reference's database keys
// SYNOPSIS
//   See normalizer.h.
// DESCRIPTION
//   Re-implements generic.c:extract (cap, fold, filter), the domain half of
//   the sender/recipient split of policyd.c:parse_buf and
//   generic.c:extract_ipfill, plus our IPv6 network key. Every rule here
//   shapes a stored key; change none of them without a compatibility note
//   (docs/).
#include "protocol/normalizer.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "config/cidr.h"
#include "protocol/ascii.h"

namespace policyd {

namespace {

// The reference kept each line in a 64-byte row: columns 0..63.
constexpr std::size_t kLastColumn = 63;

// The value as the reference's row held it: what fits after "name=".
std::optional<std::string_view> row_value(const Attributes& attrs, std::string_view name)
{
    auto v = attrs.get(name);
    if (v)
        *v = v->substr(0, kLastColumn - name.size());
    return v;
}

bool kept_by_extract(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '@' || c == '|' ||
           c == '.' || c == ':' || c == '_' || c == '-' || c == '/' || c == ' ';
}

// generic.c:extract: fold, then delete what is not kept (upper-case letters
// have become lower-case ones by then).
std::string extract(std::string_view v)
{
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        c = ascii_lower(c);
        if (kept_by_extract(c))
            out.push_back(c);
    }
    return out;
}

std::string extracted(const Attributes& attrs, std::string_view name)
{
    return extract(row_value(attrs, name).value_or(std::string_view{}));
}

// What follows the last '@'; "" without one.
std::string domain_of(const std::string& addr)
{
    const std::size_t at = addr.rfind('@');
    return at == std::string::npos ? std::string{} : addr.substr(at + 1);
}

bool kept_by_ipfill(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
           c == '.' || c == ':';
}

// generic.c:extract_ipfill: the n-th dot (1..3) yields NETn from the kept
// characters before it; reaching the hostaddr-th dot ends the scan, and the
// kept characters so far are GHOST.
void fill_host_keys(Request& r, int hostaddr)
{
    if (hostaddr < 1 || hostaddr > 4)
        hostaddr = 3;
    std::string prefix;
    prefix.reserve(r.ip.size());
    int dots = 0;
    for (char c : r.ip) {
        if (!kept_by_ipfill(c))
            continue;
        if (c == '.') {
            if (dots == 0)
                r.net1 = prefix + ".%.%.%";
            else if (dots == 1)
                r.net2 = prefix + ".%.%";
            else if (dots == 2)
                r.net3 = prefix + ".%";
            if (++dots == hostaddr)
                break;
        }
        prefix.push_back(c);
    }
    r.ghost = std::move(prefix);
}

// NET6, and GHOST from it, for an IPv6 client when the prefix is below 128.
void fill_ipv6_network(Request& r, int ipv6_prefix)
{
    if (ipv6_prefix >= 128)
        return;
    const std::optional<Cidr> host = Cidr::address(r.ip);
    if (!host || host->family != AF_INET6)  // IPv4-mapped addresses parse as IPv4
        return;
    r.net6 = host->network(ipv6_prefix).str();
    r.ghost = r.net6;
}

}  // namespace

Request normalize(const Attributes& attrs, int greylist_hostaddr, int greylist_ipv6_prefix)
{
    Request r;

    const std::string_view ip = row_value(attrs, "client_address").value_or(std::string_view{});
    r.ip.reserve(ip.size());
    for (char c : ip)
        r.ip.push_back(ascii_lower(c));
    fill_host_keys(r, greylist_hostaddr);
    fill_ipv6_network(r, greylist_ipv6_prefix);

    if (const auto sender = row_value(attrs, "sender")) {
        r.sender = extract(*sender);
        if (r.sender.empty())
            r.sender = "<>";
        r.sdom = domain_of(r.sender);
    }
    r.rcpt = extracted(attrs, "recipient");
    r.rdom = domain_of(r.rcpt);

    r.name = extracted(attrs, "client_name");
    r.helo = extracted(attrs, "helo_name");
    r.size = extracted(attrs, "size");
    r.sasl = extracted(attrs, "sasl_username");
    if (const auto sender = attrs.get("sender")) {
        r.sender_full = extract(*sender);
        if (r.sender_full.empty())
            r.sender_full = "<>";
    }
    r.sasl_full = extract(attrs.get("sasl_username").value_or(std::string_view{}));
    r.instance = extracted(attrs, "instance");
    return r;
}

}  // namespace policyd
