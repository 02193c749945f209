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
                {now}, std::move(message) + in_parens(now), {}};
}

}  // namespace

std::vector<Task> cleanup_tasks(const Config& c, std::time_t now_t) {
    const long long now = now_t;
    const std::string greylisting_off = c.greylisting == 1 ? "" : "GREYLISTING is not 1";
    auto unless = [](bool off, const std::string& why) { return off ? why : std::string(); };
    auto first_of = [](const std::string& a, const std::string& b) { return a.empty() ? b : a; };

    std::vector<Task> tasks;
    tasks.push_back({"triplet", {"_host", "_from", "_rcpt"}, "_datelast < ?",
                     {now - c.triplet_auth_timeout},
                     "expiring validated records older than " + days(c.triplet_auth_timeout) +
                         " days" + in_parens(now - c.triplet_auth_timeout),
                     first_of(greylisting_off, unless(c.triplet_auth_timeout == 0,
                                                      "TRIPLET_AUTH_TIMEOUT is 0"))});
    tasks.push_back({"triplet", {"_host", "_from", "_rcpt"}, "_datenew < ? AND _count = 0",
                     {now - c.triplet_unauth_timeout},
                     "expiring unvalidated records older than " + days(c.triplet_unauth_timeout) +
                         " days" + in_parens(now - c.triplet_unauth_timeout),
                     first_of(greylisting_off, unless(c.triplet_unauth_timeout == 0,
                                                      "TRIPLET_UNAUTH_TIMEOUT is 0"))});
    tasks.push_back(past_expire("blacklist", {"_blacklist"}, "expiring blacklisted records", now));
    tasks.push_back(past_expire("whitelist", {"_whitelist"},
                                "expiring autowhitelisted records older than " +
                                    days(c.auto_whitelist_expire) + " days",
                                now));
    tasks.push_back(past_expire("helo", {"_host", "_helo"},
                                "expiring helo records older than " +
                                    days(c.helo_auto_expire) + " days",
                                now));
    tasks.push_back({"throttle", {"_from"}, "_date < ?", {now - c.sender_inactive_expire},
                     "expiring throttlesender records older than " +
                         days(c.sender_inactive_expire) + " days" +
                         in_parens(now - c.sender_inactive_expire),
                     first_of(unless(c.senderthrottle != 1, "SENDERTHROTTLE is not 1"),
                              unless(c.sender_inactive_expire == 0,
                                     "SENDER_INACTIVE_EXPIRE is 0"))});
    tasks.push_back({"throttle_from_instance", {"_instance"}, "_expire < ?",
                     {now - kInstanceAge},
                     "expiring throttlesender instances older than 1 hour" +
                         in_parens(now - kInstanceAge),
                     {}});
    tasks.push_back({"throttle_rcpt", {"_rcpt"}, "_date < ?", {now - c.recipient_inactive_expire},
                     "expiring throttlerecipient records older than " +
                         days(c.recipient_inactive_expire) + " days" +
                         in_parens(now - c.recipient_inactive_expire),
                     first_of(unless(c.recipientthrottle != 1, "RECIPIENTTHROTTLE is not 1"),
                              unless(c.recipient_inactive_expire == 0,
                                     "RECIPIENT_INACTIVE_EXPIRE is 0"))});
    // policy_training._expire is the time the row was added (spec README).
    tasks.push_back({"policy_training", {"_rcpt"}, "_expire != 0 AND _expire < ?",
                     {now - c.training_policy_timeout},
                     "expiring training policies records older than " +
                         days(c.training_policy_timeout) + " days" +
                         in_parens(now - c.training_policy_timeout),
                     unless(c.training_policy_timeout == 0, "TRAINING_POLICY_TIMEOUT is 0")});
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
                     {}});
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
        session.begin();
        try {
            for (const auto& row : rows) {
                std::vector<db::Param> params;
                for (const auto& value : row) params.emplace_back(value.value_or(""));
                params.insert(params.end(), task.params.begin(), task.params.end());
                in_batch += session.execute(remove, params);
            }
            session.commit();
        } catch (...) {
            session.rollback();
            throw;
        }
        deleted += in_batch;
        // in_batch == 0: every row found was refreshed meanwhile, or cannot
        // be deleted by its key; stop rather than find them again forever.
        if (rows.size() < batch || in_batch == 0) return;
    }
}

}  // namespace policyd
