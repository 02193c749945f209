// NAME
//   cidr_lengths.h - the prefix lengths the CIDR rows of an IP list use
// SYNOPSIS
//   #include "policy/checks/cidr_lengths.h"
//   static CidrLengths lengths("whitelist");
//   CidrLengths::Set s = lengths.in_use(ctx.db, ctx.config, ctx.now);
//   if (s.test(CidrLengths::index(AF_INET6, 48))) ...
// DESCRIPTION
//   A CIDR row matches when its _cidr key is among the keys of the
//   client's networks (list_entries.h). Asking for all 33 (IPv6: 129) of
//   them costs the server one index probe and its range analysis each,
//   which measured three to four times the lookup of the literal keys;
//   real lists use a handful of lengths (/24, /48, /64). So the daemon
//   keeps, per table and for the whole process, the set of lengths its
//   CIDR rows use, and asks only for the client's networks of those.
//
//   The set is read with one statement over the _cidr index
//   (SELECT DISTINCT of the keys' lengths) at the first lookup, then
//   again when it is older than kRefreshSeconds or the configuration was
//   reloaded (SIGHUP). A row whose length is already in use takes effect at
//   once, like any row; a row of a length no row of its table had before
//   takes effect at the next refresh, within kRefreshSeconds (or at once
//   after SIGHUP). The daemon's own netblock entries of IPv6 clients use
//   GREYLIST_IPV6_PREFIX, which the callers always ask for.
//
//   One refresh at a time: a worker that finds the set due while another
//   is reading it goes on with the set it has, so no request waits.
//   Thread-safe; objects are static, one per table, and live as long as
//   the program.
#pragma once

#include <bitset>
#include <ctime>
#include <mutex>

#include "config/config.h"
#include "db/session.h"

namespace policyd {

class CidrLengths {
public:
    // Bit index(AF_INET, n) for IPv4 /n (n 0..32), index(AF_INET6, n) for
    // IPv6 /n (n 0..128).
    using Set = std::bitset<33 + 129>;
    static constexpr int kRefreshSeconds = 60;
    static std::size_t index(int family, int prefix);

    // `table` is a string literal with a _cidr column (DATABASE.mysql).
    explicit CidrLengths(const char* table) : table_(table) {}
    CidrLengths(const CidrLengths&) = delete;
    CidrLengths& operator=(const CidrLengths&) = delete;

    // The lengths in use, refreshed first when due (see above). Throws
    // db::Error when the refresh fails; the next lookup tries again.
    Set in_use(db::Session& db, const Config& config, std::time_t now);

private:
    const char* table_;
    std::mutex mutex_;
    Set set_;
    std::time_t loaded_ = 0;        // 0: never read
    const Config* loaded_for_ = nullptr;  // the configuration it was read under
    bool refreshing_ = false;
};

}  // namespace policyd
