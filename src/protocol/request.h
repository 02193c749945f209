// NAME
//   request.h - one Postfix policy request, normalised into database keys
// SYNOPSIS
//   #include "protocol/request.h"
// DESCRIPTION
//   A Request holds the values every check uses, already turned into the
//   exact strings the reference policyd stores in and looks up from MySQL
//   (lower-cased, character-filtered, length-capped; see normalizer.h).
//   It is built once per request on the event-loop thread and then only
//   read, so it may be handed to a worker thread by value or const reference.
#pragma once

#include <string>

namespace policyd {

struct Request {
    // client_address: lower-cased, NOT character-filtered,
    // capped at 49 characters. Empty when the attribute is absent.
    std::string ip;
    // Literal netblock strings "a.b.c.%", "a.b.%.%", "a.%.%.%" derived from
    // an IPv4 address; empty for IPv6 or when GREYLIST_HOSTADDR stops early.
    std::string net3, net2, net1;
    // IPv6 only (ours): the client's network of GREYLIST_IPV6_PREFIX bits
    // in CIDR notation, "2001:db8:1:2::/64"; empty for IPv4 clients and
    // with a prefix of 128 (the default), where the address is the key.
    std::string net6;
    // Greylist host key: the first GREYLIST_HOSTADDR octets (or the whole
    // address for HOSTADDR=4), for IPv6 net6 or else the whole address.
    std::string ghost;

    std::string name;          // client_name (filtered); "" if absent
    std::string sender;        // sender (filtered); "<>" if empty; "" if absent
    std::string sdom;          // part of sender after the last '@'; "" if none
    std::string rcpt;          // recipient (filtered)
    std::string rdom;          // part of recipient after the last '@'; "" if none
    std::string helo;          // helo_name (filtered; brackets removed)
    std::string size;          // size (filtered string); "" if absent
    std::string sasl;          // sasl_username (filtered); "" if absent
    std::string instance;      // instance (filtered); "" if absent
    // sender and sasl_username filtered like the two above but not cut to
    // the reference's 64-byte row, for keys of our own (distributed_origin),
    // where two long values sharing a prefix must never count as one.
    std::string sender_full;   // "<>" if empty; "" if absent
    std::string sasl_full;
    // No protocol_state: no check looks at it. No
    // local parts: the reference computed them but no module read them.
};

}  // namespace policyd
