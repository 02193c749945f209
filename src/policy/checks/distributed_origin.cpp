// NAME
//   distributed_origin.cpp - too many origins for one key (see distributed_origin.h)
// DESCRIPTION
//   One request is one transaction of one statement: an INSERT ... ON
//   DUPLICATE KEY UPDATE of two rows, the key's own row and the origin,
//   that returns for each the number of the key's origins within the span
//   once that row is written (RETURNING with a subquery on KEY(_key,_last)).
//   Recording before counting alone already guarantees that no more than
//   LIMIT origins are ever accepted, whatever several daemons do at once:
//   the k-th origin to be recorded sees at least k rows. The key row makes
//   it exact: every decision for a key writes that one row first, so on one
//   server its row lock puts the decisions one after the other, and on a
//   Galera cluster two decisions made at once on different nodes conflict
//   at certification, one commits and the other is rolled back and run
//   again (db::Session::transaction) and then sees the first one's origin.
//   Exactly the first LIMIT origins pass, as if one daemon decided. (A
//   named lock, GET_LOCK, would only exclude sessions on the same node.)
//
//   Why the count sees every decision committed before it: it runs after
//   the key row's lock was granted, that is after the decision that held it
//   committed, and whether MariaDB takes it as a locking read (as InnoDB
//   takes the reads of an INSERT ... SELECT) or as a plain one, it sees
//   that commit: a plain read's view opens at a transaction's first plain
//   read, which is this count. The subquery names the written
//   row's key (it is correlated) so that the server evaluates it after each
//   row rather than once before the first: the key row's count is then the
//   origins before ours is written, the origin row's the origins after, and
//   the two tell a new origin (one more) from a known one. An origin whose
//   row had aged out of the span but was not deleted yet counts as new.
//   That the server evaluates the correlated subquery once per row, not
//   once per key from a cache, is its behaviour rather than a documented
//   rule: the tests that tell new from known origins and race two daemons
//   on a key stand guard.
//
//   Why a transaction around one statement: its answer is used only once
//   COMMIT has succeeded. Sent alone (autocommit), on the Galera cluster
//   with cleanup running beside a burst, one decision was answered by a
//   later execution than the one that had recorded its origin (4 of LIMIT
//   5 admitted in 7 runs of 8; docs/FAILURES.md). COMMIT is prepared before
//   the statement runs and nothing runs between them, so the unit needs no
//   "is the transaction still open?" (db::Session::commit).
//
//   The key row is the key's row with the empty origin, which no request
//   has (distributed_origin_of never returns "" for a checked request). Its
//   _last is the key's last decision, so cleanup expires it with the rest;
//   its _first counts decisions, so every decision changes the row: Galera
//   certifies only rows that change, and an unchanged row would not
//   conflict. The count only has to change; it restarts long before the
//   column would wrap.
//
//   A refused request records its origin too: an attack that goes on keeps
//   its key refused, and the LIMIT+1-th origin is what puts the key over
//   the limit in the first place. Rows age out by _last; the cleanup
//   program deletes those older than DISTRIBUTED_ORIGIN_TIME.
#include "policy/checks/distributed_origin.h"

#include <arpa/inet.h>
#include <openssl/evp.h>

#include <cstring>
#include <string>

#include "db/session.h"
#include "policy/checks/list_entries.h"

namespace policyd {
namespace {

// ?1 key, ?2 now (the key row); ?3 key, ?4 origin, ?5 now (_first), ?6 now
// (_last); ?7 the oldest _last still in the span. An existing key row
// counts the decision in _first; an existing origin keeps its _first.
// GREATEST: a daemon with a slow clock never moves _last back. Returns per
// row whether it is the key row and the key's origins in the span once it
// is written.
const std::string kDecide =
    "INSERT INTO distributed_origin (_key,_origin,_first,_last) VALUES (?,'',1,?),(?,?,?,?) "
    "ON DUPLICATE KEY UPDATE "
    "_first = IF(_origin = '', IF(_first BETWEEN 1 AND 1999999999, _first + 1, 2), _first), "
    "_last = GREATEST(_last, VALUES(_last)) "
    "RETURNING _origin = '', (SELECT COUNT(*) FROM distributed_origin AS span "
    "WHERE span._key = distributed_origin._key AND span._origin <> '' AND span._last >= ?)";

constexpr std::string_view kSaslPrefix = "sasl=";

// distributed_origin._key is char(60). A longer key is stored as its first
// 27 characters, '#' and 32 hex digits (128 bits) of its SHA-256: the
// request filter never keeps a '#', so this form never equals a key stored
// as it is, and two long keys are one only if their digests are.
constexpr std::size_t kKeyColumn = 60;
constexpr std::size_t kDigestHex = 32;
constexpr std::size_t kKeptPrefix = kKeyColumn - 1 - kDigestHex;

std::string sender_key(const Request& r) {
    return r.sender_full == "<>" ? std::string() : r.sender_full;
}

std::string sasl_key(const Request& r) {
    return r.sasl_full.empty() ? std::string() : std::string(kSaslPrefix) + r.sasl_full;
}

std::string sha256_hex(std::string_view text, std::size_t digits) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr) != 1)
        throw db::Error("distributed_origin: SHA-256 failed");
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < size && out.size() < digits; ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 0x0f];
    }
    return out;
}

}  // namespace

std::string distributed_origin_key(const Request& r, std::string_view keys) {
    if (keys == "sasl") return sasl_key(r);
    if (keys == "sender") return sender_key(r);
    return r.sasl.empty() ? sender_key(r) : sasl_key(r);
}

std::string distributed_origin_stored_key(const std::string& key) {
    if (key.size() <= kKeyColumn) return key;
    return key.substr(0, kKeptPrefix) + "#" + sha256_hex(key, kDigestHex);
}

std::string distributed_origin_of(std::string_view ip, bool netblock) {
    const std::string text(ip);
    unsigned char bytes[sizeof(in6_addr)] = {};
    int family = AF_INET;
    if (inet_pton(AF_INET, text.c_str(), bytes) != 1) {
        if (inet_pton(AF_INET6, text.c_str(), bytes) != 1) return {};
        family = AF_INET6;
        static const unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(bytes, kMappedPrefix, sizeof kMappedPrefix) == 0) {
            std::memmove(bytes, bytes + 12, 4);
            family = AF_INET;
        }
    }
    const std::size_t kept = family == AF_INET ? 3 : 8;  // bytes of /24, /64
    const std::size_t size = family == AF_INET ? 4 : 16;
    if (netblock) std::memset(bytes + kept, 0, size - kept);
    char out[INET6_ADDRSTRLEN] = {};
    inet_ntop(family, bytes, out, sizeof out);
    std::string origin = out;
    if (netblock) origin += family == AF_INET ? "/24" : "/64";
    return origin;
}

std::string distributed_origin_blacklist_entry(const Request& r, const std::string& key) {
    // blacklist_sender is looked up with the sender cut like 1.x cut it: an
    // entry for a longer sender would refuse every sender sharing its cut.
    if (key.empty() || r.sender == "<>" || r.sender.empty() || r.sender != r.sender_full) return {};
    if (key == r.sender || key == std::string(kSaslPrefix) + r.sender) return r.sender;
    return {};
}

Decision DistributedOriginCheck::run(CheckContext& ctx) const {
    const Config& c = ctx.config;
    const std::string key = distributed_origin_key(ctx.request, c.distributed_origin_keys);
    const std::string origin = distributed_origin_of(ctx.request.ip, c.distributed_origin_netblock == 1);
    if (key.empty() || origin.empty()) return Decision::Continue;
    const std::string stored = distributed_origin_stored_key(key);

    const long long now = ctx.now;
    std::optional<long long> before, origins;  // the key's origins before ours, with it
    ctx.db.transaction([&] {
        before.reset();
        origins.reset();
        for (const db::Row& row : ctx.db.query(kDecide, {stored, now, stored, origin, now, now,
                                                         now - c.distributed_origin_time})) {
            if (row.size() != 2 || !row[0] || !row[1]) continue;
            (*row[0] == "1" ? before : origins) = std::stoll(*row[1]);
        }
    });
    if (!before || !origins) throw db::Error("distributed_origin: the decision returned no count");
    const bool new_origin = *origins > *before;
    if (*origins <= c.distributed_origin_limit) {
        ctx.log_decision(new_origin ? "distributed_origin=new" : "distributed_origin=update");
        return Decision::Continue;
    }
    ctx.log_decision("distributed_origin=block", ", origins=" + std::to_string(*origins));
    if (c.distributed_origin_blacklist == 1) {
        const std::string entry = distributed_origin_blacklist_entry(ctx.request, key);
        if (!entry.empty())
            add_list_entry_after_decision(
                ctx, ListTable::BlacklistSender, entry,
                "# distributed origin: " + std::to_string(*origins) + " origins",
                expiry(ctx.now, c.distributed_origin_blacklist_expire));
    }
    return Decision::DistributedOrigin;
}

}  // namespace policyd
