// NAME
//   list_entries.cpp - shared list-table rules (see list_entries.h)
// DESCRIPTION
//   The four list tables differ only in their names and key columns; each
//   one's INSERT ... ON DUPLICATE KEY UPDATE text is built once, on first
//   use, not per write.
#include "policy/checks/list_entries.h"

#include "config/cidr.h"
#include "log/log.h"

namespace policyd {
namespace {

struct TableColumns {
    const char* table;
    const char* key_column;
};

// ?1 key, ?2 description, ?3 expiry.
std::string upsert_sql(const TableColumns& c) {
    return std::string("INSERT INTO ") + c.table + " (" + c.key_column +
           ",_description,_expire) VALUES (?,?,?) ON DUPLICATE KEY UPDATE "
           "_expire = IF(_expire = 0 OR VALUES(_expire) = 0, 0, "
           "GREATEST(_expire, VALUES(_expire)))";
}

TableColumns columns(ListTable table) {
    switch (table) {
    case ListTable::Whitelist: return {"whitelist", "_whitelist"};
    case ListTable::Blacklist: return {"blacklist", "_blacklist"};
    case ListTable::WhitelistSender: return {"whitelist_sender", "_whitelist"};
    case ListTable::BlacklistSender: return {"blacklist_sender", "_blacklist"};
    }
    return {"blacklist", "_blacklist"};
}

constexpr std::size_t kDescriptionColumn = 60;

}  // namespace

long long expiry(std::time_t now, long duration) {
    return duration > 0 ? static_cast<long long>(now) + duration : 0;
}

std::string not_expired() { return "(_expire = 0 OR _expire > ?)"; }

void add_list_entry(CheckContext& ctx, ListTable table, const std::string& key,
                    const std::string& description, long long expire) {
    static const std::string kUpsert[] = {
        upsert_sql(columns(ListTable::Whitelist)), upsert_sql(columns(ListTable::Blacklist)),
        upsert_sql(columns(ListTable::WhitelistSender)),
        upsert_sql(columns(ListTable::BlacklistSender))};
    ctx.db.execute(kUpsert[static_cast<std::size_t>(table)],
                   {key, description.substr(0, kDescriptionColumn), expire});
}

bool after_decision(CheckContext& ctx, const std::string& what,
                    const std::function<void()>& write) {
    try {
        write();
        return true;
    } catch (const db::Error& e) {
        ctx.log_line("warning: could not " + what + ": " + e.what());
        return false;
    }
}

bool add_list_entry_after_decision(CheckContext& ctx, ListTable table, const std::string& key,
                                   const std::string& description, long long expire) {
    return after_decision(ctx, std::string("record ") + columns(table).table + " entry " + key,
                          [&] { add_list_entry(ctx, table, key, description, expire); });
}

std::string list_key(const Request& r, bool netblock) {
    if (!netblock) return r.ip;
    if (!r.net3.empty()) return r.net3;
    return r.net6.empty() ? r.ip : r.net6;
}

std::vector<db::Param> address_candidates(const Request& r) {
    auto or_ip = [&](const std::string& net) { return net.empty() ? r.ip : net; };
    return {r.ip, or_ip(r.net3), or_ip(r.net2), or_ip(r.net1)};
}

std::vector<db::Param> network_candidates(const Request& r, const CidrLengths::Set& lengths,
                                          int ipv6_prefix) {
    std::vector<db::Param> keys;
    const std::optional<Cidr> host = Cidr::address(r.ip);
    if (!host) return keys;
    for (int bits = host->prefix; bits >= 0; --bits) {
        const bool own_entries = host->family == AF_INET6 && bits == ipv6_prefix && bits < 128;
        if (own_entries || lengths.test(CidrLengths::index(host->family, bits)))
            keys.emplace_back(host->network(bits).key());
    }
    return keys;
}

std::vector<db::Param> sender_candidates(const Request& r) {
    return {"@" + r.sdom, r.sender};
}

std::vector<db::Param> recipient_candidates(const Request& r) {
    return {r.rcpt, "@" + r.rdom};
}

ClientEntry list_client(CheckContext& ctx, ListTable table, bool netblock,
                        const std::string& description, long duration) {
    const long long e = expiry(ctx.now, duration);
    return {e, add_list_entry_after_decision(ctx, table, list_key(ctx.request, netblock),
                                             description, e)};
}

long long blacklist_client(CheckContext& ctx, bool netblock, const std::string& description,
                           long duration) {
    return list_client(ctx, ListTable::Blacklist, netblock, description, duration).expire;
}

}  // namespace policyd
