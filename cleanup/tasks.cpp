// NAME
//   tasks.cpp - the cleanup step list and the batched delete (see tasks.h)
// DESCRIPTION
//   The messages are the reference's, byte for byte, for its nine steps:
//   administrators grep cron mail for them. Durations in messages are whole
//   days (integer division), as the reference printed them; in messages 3-5
//   the number in parentheses is NOW itself.
#include "cleanup/tasks.h"

namespace policyd {
namespace {

constexpr long kDay = 86400;
constexpr long kInstanceAge = 3600;  // hard-coded in the reference too

std::string days(long seconds) { return std::to_string(seconds / kDay); }

std::string in_parens(long long value) { return " (" + std::to_string(value) + ")"; }

// "_expire != 0 AND _expire <= NOW": exactly the rows the daemon no longer
// matches (list_entries.h not_expired()).
Task past_expire(std::string table, std::vector<std::string> key_columns, std::string message,
                 long long now) {
    return Task{std::move(table), std::move(key_columns), "_expire != 0 AND _expire <= ?",
                {now}, std::move(message) + in_parens(now), {}, {}};
}

// Why an age of `age` seconds named `age_key` cannot be used at `now`;
// "" when it can: positive, and leaving a cut-off of at least 0.
std::string unusable_age(long long now, long age, const std::string& age_key) {
    if (age > 0 && age <= now) return {};
    return age_key + " is " + std::to_string(age) +
           " seconds, not a positive age up to the current time; the task is refused";
}

// Module state unused for `age` seconds (cut-off NOW - age), in the
// reference's "older than <days> days (<cut-off>)" wording; the days are
// rounded down, so every row deleted is older than the age logged. It does
// not run while `switch_off` names a switch that is off, nor when the age
// key `age_key` is 0 (the reference would have deleted every row).
Task older_than(std::string table, std::vector<std::string> key_columns, std::string condition,
                long long now, long age, const std::string& what, std::string switch_off,
                const std::string& age_key) {
    std::string skipped = !switch_off.empty() ? std::move(switch_off)
                          : age == 0          ? age_key + " is 0"
                                              : std::string();
    return Task{std::move(table), std::move(key_columns), std::move(condition), {now - age},
                "expiring " + what + " older than " + days(age) + " days" + in_parens(now - age),
                std::move(skipped), unusable_age(now, age, age_key)};
}

std::string off_unless(long flag, const char* key) {
    return flag == 1 ? std::string() : std::string(key) + " is not 1";
}

}  // namespace

std::vector<Task> cleanup_tasks(const Config& c, std::time_t now_t) {
    const long long now = now_t;
    const std::vector<std::string> triplet_key = {"_host", "_from", "_rcpt"};
    std::vector<Task> tasks;
    tasks.push_back(older_than("triplet", triplet_key, "_datelast < ?", now,
                               c.triplet_auth_timeout, "validated records",
                               off_unless(c.greylisting, "GREYLISTING"), "TRIPLET_AUTH_TIMEOUT"));
    tasks.push_back(older_than("triplet", triplet_key, "_datenew < ? AND _count = 0", now,
                               c.triplet_unauth_timeout, "unvalidated records",
                               off_unless(c.greylisting, "GREYLISTING"), "TRIPLET_UNAUTH_TIMEOUT"));
    tasks.push_back(past_expire("blacklist", {"_blacklist"}, "expiring blacklisted records", now));
    tasks.push_back(past_expire("whitelist", {"_whitelist"},
                                "expiring autowhitelisted records older than " +
                                    days(c.auto_whitelist_expire) + " days",
                                now));
    tasks.push_back(past_expire("helo", {"_host", "_helo"},
                                "expiring helo records older than " +
                                    days(c.helo_auto_expire) + " days",
                                now));
    tasks.push_back(older_than("throttle", {"_from"}, "_date < ?", now, c.sender_inactive_expire,
                               "throttlesender records",
                               off_unless(c.senderthrottle, "SENDERTHROTTLE"),
                               "SENDER_INACTIVE_EXPIRE"));
    tasks.push_back({"throttle_from_instance", {"_instance"}, "_expire < ?",
                     {now - kInstanceAge},
                     "expiring throttlesender instances older than 1 hour" +
                         in_parens(now - kInstanceAge),
                     {},
                     {}});
    tasks.push_back(older_than("throttle_rcpt", {"_rcpt"}, "_date < ?", now,
                               c.recipient_inactive_expire, "throttlerecipient records",
                               off_unless(c.recipientthrottle, "RECIPIENTTHROTTLE"),
                               "RECIPIENT_INACTIVE_EXPIRE"));
    // policy_training._expire is the time the row was added (docs/GREYLISTING.md).
    tasks.push_back(older_than("policy_training", {"_rcpt"}, "_expire != 0 AND _expire < ?", now,
                               c.training_policy_timeout, "training policies records", {},
                               "TRAINING_POLICY_TIMEOUT"));
    // Ours from here on.
    tasks.push_back(past_expire("blacklist_sender", {"_blacklist"},
                                "expiring blacklisted sender records", now));
    tasks.push_back(past_expire("whitelist_sender", {"_whitelist"},
                                "expiring whitelisted sender records", now));
    tasks.push_back(past_expire("blacklist_dnsname", {"_blacklist"},
                                "expiring blacklisted dnsname records", now));
    tasks.push_back(past_expire("whitelist_dnsname", {"_whitelist"},
                                "expiring whitelisted dnsname records", now));
    // The daemon counts _last >= NOW - TIME, so older rows are dead.
    tasks.push_back({"distributed_origin", {"_key", "_origin"}, "_last < ?",
                     {now - c.distributed_origin_time},
                     "expiring distributed origin records older than " +
                         std::to_string(c.distributed_origin_time) + " seconds" +
                         in_parens(now - c.distributed_origin_time),
                     {},
                     unusable_age(now, c.distributed_origin_time, "DISTRIBUTED_ORIGIN_TIME")});
    return tasks;
}

void expire(db::Session& session, const Task& task, std::size_t batch, std::uint64_t& deleted) {
    std::string keys, match;
    for (const auto& column : task.key_columns) {
        keys += (keys.empty() ? "" : ",") + column;
        match += column + "=? AND ";
    }
    const std::string select = "SELECT " + keys + " FROM " + task.table + " WHERE " +
                               task.condition + " LIMIT " + std::to_string(batch);
    const std::string remove =
        "DELETE FROM " + task.table + " WHERE " + match + "(" + task.condition + ")";
    for (;;) {
        const auto rows = session.query(select, task.params);
        if (rows.empty()) return;
        std::uint64_t in_batch = 0;
        // A conflict with a daemon writing on another node runs the batch again.
        session.transaction([&] {
            in_batch = 0;
            for (const auto& row : rows) {
                std::vector<db::Param> params;
                for (const auto& value : row) params.emplace_back(value.value_or(""));
                params.insert(params.end(), task.params.begin(), task.params.end());
                in_batch += session.execute(remove, params);
            }
        });
        deleted += in_batch;
        // in_batch == 0: every row found was refreshed meanwhile, or cannot
        // be deleted by its key; stop rather than find them again forever.
        if (rows.size() < batch || in_batch == 0) return;
    }
}

}  // namespace policyd
