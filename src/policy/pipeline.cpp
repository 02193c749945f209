// NAME
//   pipeline.cpp - the reference's chk_pol: order, short-circuits, FAILSAFE
// DESCRIPTION
//   The order of Pipeline::standard() is the reference's module order;
//   distributed_origin, which the reference does not have,
//   runs after the lists and spamtrap so an abused account is stopped before
//   greylisting and throttling count it.
#include "policy/pipeline.h"

#include <chrono>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>

#include "db/session.h"
#include "log/log.h"
#include "policy/checks/blacklist_helo.h"
#include "policy/checks/distributed_origin.h"
#include "policy/checks/greylist.h"
#include "policy/checks/helo.h"
#include "policy/checks/list_checks.h"
#include "policy/checks/rcpt_acl.h"
#include "policy/checks/spamtrap.h"
#include "policy/checks/throttle_recipient.h"
#include "policy/checks/throttle_sender.h"
#include "stats/stats.h"

namespace policyd {
namespace {

constexpr const char* kInvalidReply = "action=defer_if_permit Invalid data";

// A failing statement fails every request until it is fixed (a missing
// table, a read-only server): its detail is logged once a minute per check,
// while the reference's per-request "<check>=bypass" line stays.
void log_failure_detail(std::string_view check, const std::string& what) {
    static std::mutex mutex;
    static std::map<std::string, std::chrono::steady_clock::time_point> last_logged;
    const auto now = std::chrono::steady_clock::now();
    std::string key = std::string(check) + ": " + what;
    {
        std::lock_guard<std::mutex> lock(mutex);
        auto [it, inserted] = last_logged.try_emplace(key, now);
        if (!inserted) {
            if (now - it->second < std::chrono::minutes(1)) return;
            it->second = now;
        }
    }
    log::line("error: " + key);
}

Outcome outcome_of(Decision decision) {
    switch (decision) {
    case Decision::Continue:
    case Decision::Pass:
    case Decision::Accept: return Outcome::Accept;
    case Decision::GreyDefer: return Outcome::GreyDefer;
    case Decision::Blacklist: return Outcome::Blacklist;
    case Decision::SizeReject: return Outcome::SizeReject;
    case Decision::Spamtrap: return Outcome::Spamtrap;
    case Decision::SenderQuota: return Outcome::SenderQuota;
    case Decision::RecipientQuota: return Outcome::RecipientQuota;
    case Decision::DistributedOrigin: return Outcome::DistributedOrigin;
    }
    return Outcome::Invalid;
}

// Counts every decision token a check (or the pipeline) logs, and follows
// the check the context works for in `progress` (see working_for()).
class CountingContext final : public CheckContext {
public:
    CountingContext(const Request& request, const Config& config, db::Session& db,
                    std::time_t now, std::uint64_t rcpt_number, int fd, Stats* stats,
                    const std::vector<std::unique_ptr<Check>>* checks = nullptr,
                    RequestProgress* progress = nullptr)
        : CheckContext(request, config, db, now, rcpt_number, fd),
          stats_(stats), checks_(checks), progress_(progress) {}
    void log_decision_tail(std::string_view token, std::string_view tail) override {
        CheckContext::log_decision_tail(token, tail);
        if (stats_) stats_->token(token);
    }
    void working_for(const Check& check) override {
        if (!progress_ || !checks_) return;
        for (std::size_t i = 0; i < checks_->size(); ++i)
            if ((*checks_)[i].get() == &check) progress_->running_check = static_cast<int>(i);
    }

private:
    Stats* stats_;
    const std::vector<std::unique_ptr<Check>>* checks_;
    RequestProgress* progress_;
};

}  // namespace

std::string reply_for(Decision decision, const Request& request, const Config& config) {
    switch (decision) {
    case Decision::Continue:
    case Decision::Pass:
    case Decision::Accept:
        if (config.greylisting == 1 && config.greylist_x_header == 1)
            return "action=prepend X-Greylist: Passed host: " + request.ip;
        return "action=dunno";
    case Decision::GreyDefer: return config.greylist_reply;
    case Decision::Blacklist: return config.blacklist_reply;
    case Decision::SizeReject: return config.sender_size_reply;
    case Decision::Spamtrap: return config.spamtrap_reply;
    case Decision::SenderQuota: return config.sender_quota_reply;
    case Decision::RecipientQuota: return config.recipient_quota_reply;
    case Decision::DistributedOrigin: return config.distributed_origin_reply;
    }
    return kInvalidReply;
}

Pipeline::Pipeline(std::vector<std::unique_ptr<Check>> checks) : checks_(std::move(checks)) {}

Pipeline Pipeline::standard() {
    std::vector<std::unique_ptr<Check>> checks;
    checks.push_back(std::make_unique<RcptAclCheck>());
    checks.push_back(std::make_unique<WhitelistCheck>());
    checks.push_back(std::make_unique<ListLookupCheck>(kWhitelistSender));
    checks.push_back(std::make_unique<ListLookupCheck>(kWhitelistDnsname));
    checks.push_back(std::make_unique<ListLookupCheck>(kBlacklist));
    checks.push_back(std::make_unique<BlacklistHeloCheck>());
    checks.push_back(std::make_unique<ListLookupCheck>(kBlacklistSender));
    checks.push_back(std::make_unique<ListLookupCheck>(kBlacklistDnsname));
    checks.push_back(std::make_unique<SpamtrapCheck>());
    checks.push_back(std::make_unique<DistributedOriginCheck>());
    checks.push_back(std::make_unique<HeloCheck>());
    checks.push_back(std::make_unique<GreylistCheck>());
    checks.push_back(std::make_unique<SenderThrottleCheck>());
    checks.push_back(std::make_unique<RecipientThrottleCheck>());
    return Pipeline(std::move(checks));
}

// module_info_check of the reference: the attributes the enabled modules
// cannot work without, in the reference's order and log wording.
bool Pipeline::passes_required_attributes(const Request& r, const Config& c, int fd,
                                          CheckContext* ctx) const {
    struct Requirement {
        bool applies;
        const std::string& value;
        const char* what;
    };
    const Requirement requirements[] = {
        {c.greylisting == 1, r.ip, "host_array[%][2]: (greylist host ip)"},
        {c.greylisting == 1, r.rcpt, "triplet_array[%][2]: (greylist recipient)"},
        {c.senderthrottle == 1, r.sender, "triplet_array[%][1]: (sender throttle from)"},
        {c.senderthrottle == 1, r.size, "triplet_array[%][3]: (sender throttle size)"},
        {c.recipientthrottle == 1, r.rcpt, "triplet_array[%][2]: (recipient throttle)"},
        {c.spamtrapping == 1, r.ip, "host_array[%][2]: (spamtrap host ip)"},
        {c.spamtrapping == 1, r.rcpt, "triplet_array[%][2]: (spamtrap recipient)"},
        {c.blacklist_helo == 1, r.helo, "triplet_array[%][5]: (blacklist helo)"},
    };
    for (const auto& req : requirements) {
        if (!req.applies || !req.value.empty()) continue;
        std::string what = req.what;
        what.replace(what.find('%'), 1, std::to_string(fd));
        const std::string line = "invalid " + what + ": " + req.value;
        if (ctx)
            ctx->log_line(line);
        else
            log::line(line);
        return false;
    }
    return true;
}

std::string Pipeline::answer_without_database(const Request& request, const Config& config,
                                              const RequestProgress* progress) const {
    db::Session unused{db::Settings{}};  // never connected: no check runs here
    CountingContext ctx(request, config, unused, std::time(nullptr), ++rcpt_count_, -1, stats_);
    Decision decision = Decision::Continue;
    std::size_t decided_by = Stats::kNoCheck;
    const int running = progress ? progress->running_check.load() : -1;
    if (running >= 0 && static_cast<std::size_t>(running) < checks_.size()) {
        decided_by = static_cast<std::size_t>(running);
    } else {
        for (std::size_t i = 0; i < checks_.size(); ++i)
            if (checks_[i]->enabled(config)) {
                decided_by = i;  // the first check that would have asked the database
                break;
            }
    }
    if (decided_by != Stats::kNoCheck) decision = failsafe(ctx, checks_[decided_by]->name());
    if (decision == Decision::Continue) {
        ctx.log_decision("module=bypass");
        decision = Decision::Accept;
        decided_by = Stats::kNoCheck;
    }
    if (stats_) stats_->outcome(outcome_of(decision), decided_by);
    return reply_for(decision, request, config);
}

// FAILSAFE for a check whose database work failed: 1 accepts, 0 answers
// with the greylist deferral, any other value means "no match" (Continue).
Decision Pipeline::failsafe(CheckContext& ctx, std::string_view check_name) const {
    if (stats_) stats_->database_error();
    if (ctx.config.failsafe == 1) {
        ctx.log_decision(std::string(check_name) + "=bypass");
        return Decision::Accept;
    }
    if (ctx.config.failsafe == 0) {
        ctx.log_decision(std::string(check_name) + "=failed");
        return Decision::GreyDefer;
    }
    return Decision::Continue;
}

bool Pipeline::handed_on_after(std::size_t index, const Config& config) const {
    for (std::size_t i = index + 1; i < checks_.size(); ++i)
        if (checks_[i]->resumes_after_pass(config)) return true;
    return false;
}

std::string Pipeline::evaluate(const Request& request, const Config& config, db::Session& db,
                               int fd, RequestProgress* progress) const {
    if (!passes_required_attributes(request, config, fd)) {
        if (stats_) stats_->outcome(Outcome::Invalid);
        return kInvalidReply;
    }
    CountingContext ctx(request, config, db, std::time(nullptr), ++rcpt_count_, fd, stats_,
                        &checks_, progress);
    std::size_t decided_by = Stats::kNoCheck;
    const Decision decision = decide(ctx, progress, decided_by);
    if (stats_) stats_->outcome(outcome_of(decision), decided_by);
    return reply_for(decision, request, config);
}

std::string Pipeline::evaluate_observed(CheckContext& ctx, CheckObserver& observer) const {
    if (!passes_required_attributes(ctx.request, ctx.config, ctx.fd, &ctx)) return kInvalidReply;
    std::size_t decided_by = Stats::kNoCheck;
    const Decision decision = decide(ctx, nullptr, decided_by, &observer);
    return reply_for(decision, ctx.request, ctx.config);
}

void Pipeline::count_into(Stats* stats) {
    stats_ = stats;
    if (!stats_) return;
    std::vector<std::string> names;
    for (const auto& check : checks_) names.emplace_back(check->name());
    stats_->set_check_names(std::move(names));
}

Decision Pipeline::decide(CheckContext& ctx, RequestProgress* progress, std::size_t& decided_by,
                          CheckObserver* observer) const {
    const Config& config = ctx.config;
    std::vector<std::size_t> enabled;  // indices into checks_
    std::vector<const Check*> enabled_checks;
    for (std::size_t i = 0; i < checks_.size(); ++i) {
        if (!checks_[i]->enabled(config)) continue;
        enabled.push_back(i);
        enabled_checks.push_back(checks_[i].get());
    }
    ctx.set_enabled_checks(std::move(enabled_checks));  // their row lookups go out together
    // After a Pass only the checks that resume after a pass still run; the
    // pass becomes ACCEPT unless such a check follows it (reference chk_pol).
    std::optional<std::size_t> last_pass;
    for (const std::size_t i : enabled) {
        const Check& check = *checks_[i];
        if (last_pass && !check.resumes_after_pass(config)) {
            if (observer) observer->skipped_after_pass(check);
            continue;
        }
        if (progress) progress->running_check = static_cast<int>(i);
        if (observer) observer->started(check);
        Decision decision;
        try {
            decision = check.run(ctx);
        } catch (const std::exception& e) {
            // db::Error, or anything else a check throws: FAILSAFE decides.
            // An outage is logged by the session, once; anything else here.
            if (!observer && !dynamic_cast<const db::Unavailable*>(&e))
                log_failure_detail(check.name(), e.what());
            decision = failsafe(ctx, check.name());
            if (observer) observer->finished(check, decision, &e);
            if (decision == Decision::Continue) continue;  // as the reference
            decided_by = i;
            return decision;
        }
        if (observer) observer->finished(check, decision, nullptr);
        if (decision == Decision::Continue) continue;
        decided_by = i;
        if (decision == Decision::Pass) {
            last_pass = i;
            if (!handed_on_after(i, config)) return Decision::Accept;
            continue;
        }
        return decision;
    }
    ctx.log_decision("module=bypass");
    return Decision::Accept;
}

}  // namespace policyd
