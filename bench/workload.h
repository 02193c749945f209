// NAME
//   workload.h - the policy requests policyd-bench sends, by mix
// SYNOPSIS
//   #include "workload.h"
//   bench::Workload w(bench::parse_mix("new=3,retry=1"), options);
//   bench::Message m = w.next();         // thread-safe
//   for (auto& text : m) send(text);     // each ends with the empty line
// DESCRIPTION
//   Requests are grouped in messages: one request per message for every
//   kind except multi-rcpt, whose messages have `rcpts` recipients sharing
//   one `instance` (smtpd asks once per RCPT TO of the same transaction),
//   so a connection sends a message's requests in order, as smtpd does.
//
//   Kinds (what a policy server with greylisting should do with them):
//     new          unique client/sender/recipient: a new triplet each time
//     retry        a pool of `retry_pool` triplets, cycled; they pass once
//                  seeded (seed_request(): send each twice with TRIPLET_TIME=0)
//     whitelisted  clients from `whitelisted_prefix`.1-254 (the user
//                  whitelists "<prefix>.%"), otherwise unique triplets; an
//                  IPv6 prefix "2001:db8:77" gives clients 2001:db8:77::1-fe
//                  (whitelist "2001:db8:77::/48")
//     blacklisted  clients from `blacklisted_prefix`.1-254 (blacklist "<prefix>.%"),
//                  or IPv6 as for whitelisted
//     throttled    one sender (and SASL user) from one client, hammering
//                  unique recipients
//     multi-rcpt   see above
//   "mixed" is new=20,retry=50,whitelisted=15,blacklisted=5,throttled=5,
//   multi-rcpt=5. A mix is chosen per message, deterministically from the
//   message number, in proportion to the weights.
//
//   Every request carries the attribute set of Postfix 3.x smtpd at RCPT
//   time (request, protocol_state, ... compatibility_level, mail_version).
//   Client addresses come from 198.18.0.0/15 (RFC 2544 benchmarking) and
//   the TEST-NETs; names end in .bench.example. They are data only: the
//   bench connects to the server given on its command line.
//
//   `run_id` is put into senders and recipients so that each run creates
//   fresh triplets in a database that earlier runs filled.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

enum class Kind { New, Retry, Whitelisted, Blacklisted, Throttled, MultiRcpt };
constexpr std::size_t kKinds = 6;

std::string_view kind_name(Kind kind);

struct MixEntry {
    Kind kind;
    unsigned weight;
};
using Mix = std::vector<MixEntry>;

// "new", "mixed", or "kind=weight,kind=weight,...". Throws std::invalid_argument.
Mix parse_mix(std::string_view text);
// "new=20,retry=50,..." (for reports).
std::string describe(const Mix& mix);

using Message = std::vector<std::string>;

struct WorkloadOptions {
    std::string run_id = "r0";
    unsigned retry_pool = 2000;
    unsigned rcpts = 10;  // recipients per multi-rcpt message
    std::string whitelisted_prefix = "203.0.113";
    std::string blacklisted_prefix = "192.0.2";
};

class Workload {
public:
    Workload(Mix mix, WorkloadOptions options);

    // The next message of the mix. Thread-safe.
    Message next();
    // Whether the mix has retry messages, whose triplets must be seeded.
    bool needs_seeding() const;
    // Request for retry triplet `index` (0 <= index < retry_pool).
    std::string seed_request(std::uint64_t index) const;
    const WorkloadOptions& options() const { return options_; }
    const Mix& mix() const { return mix_; }

private:
    Kind kind_for(std::uint64_t message) const;
    Message build(Kind kind, std::uint64_t n) const;

    Mix mix_;
    WorkloadOptions options_;
    unsigned total_weight_ = 0;
    std::atomic<std::uint64_t> messages_{0};
    std::array<std::atomic<std::uint64_t>, kKinds> per_kind_{};
};

}  // namespace bench
