// NAME
//   cidr_lengths.cpp - the prefix lengths of an IP list's CIDR rows (see cidr_lengths.h)
// DESCRIPTION
//   A _cidr key is "<hex network>/<length>": 8 hex digits for IPv4, 32 for
//   IPv6. The statement reads the _cidr index only (the rows without a
//   network are NULL there and not read).
#include "policy/checks/cidr_lengths.h"

#include <sys/socket.h>

#include <string>

namespace policyd {

std::size_t CidrLengths::index(int family, int prefix) {
    return static_cast<std::size_t>(family == AF_INET ? prefix : 33 + prefix);
}

CidrLengths::Set CidrLengths::in_use(db::Session& db, const Config& config, std::time_t now) {
    {
        std::lock_guard lock(mutex_);
        const bool due = loaded_ == 0 || now - loaded_ >= kRefreshSeconds || loaded_for_ != &config;
        if (!due || refreshing_) return set_;
        refreshing_ = true;
    }
    Set fresh;
    try {
        const std::string sql = std::string("SELECT DISTINCT LENGTH(SUBSTRING_INDEX(_cidr, '/', 1)), "
                                            "SUBSTRING_INDEX(_cidr, '/', -1) FROM ") +
                                table_ + " WHERE _cidr IS NOT NULL";
        for (const db::Row& row : db.query(sql)) {
            if (row.size() != 2 || !row[0] || !row[1]) continue;
            const int family = *row[0] == "8" ? AF_INET : AF_INET6;
            const int prefix = std::stoi(*row[1]);
            if (prefix >= 0 && prefix <= (family == AF_INET ? 32 : 128))
                fresh.set(index(family, prefix));
        }
    } catch (...) {
        std::lock_guard lock(mutex_);
        refreshing_ = false;
        throw;
    }
    std::lock_guard lock(mutex_);
    set_ = fresh;
    loaded_ = now;
    loaded_for_ = &config;
    refreshing_ = false;
    return set_;
}

}  // namespace policyd
