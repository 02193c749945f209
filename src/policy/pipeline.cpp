// NAME
//   pipeline.cpp - the reference's chk_pol: order, short-circuits, FAILSAFE
// DESCRIPTION
//   The order of Pipeline::standard() is the reference's module order;
//   distributed_origin, which the reference does not have,
//   runs after the lists and spamtrap so an abused account is stopped before
//   greylisting and throttling count it.
#include "policy/pipeline.h"

#include <ctime>
#include <optional>

#include "db/session.h"
#include "policy/held_effects.h"
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

// Puts every line a check (or the pipeline) logs, and every decision token
// to count, into the request's HeldEffects, and follows the check the
// context works for in `progress` (see working_for()).
class CountingContext final : public CheckContext {
public:
    CountingContext(const Request& request, const Config& config, db::Session& db,
                    std::time_t now, HeldEffects& effects, int fd,
                    const std::vector<std::unique_ptr<Check>>* checks = nullptr,
                    RequestProgress* progress = nullptr)
        : CheckContext(request, config, db, now, effects.rcpt_number, fd),
          effects_(effects), checks_(checks), progress_(progress) {}
    void log_decision_tail(std::string_view token, std::string_view tail) override {
        effects_.line(decision_text(token, tail));
        effects_.token(token);
    }
    void log_line(std::string_view line) override { effects_.line(std::string(line)); }
    void working_for(const Check& check) override {
        if (!progress_ || !checks_) return;
        for (std::size_t i = 0; i < checks_->size(); ++i)
            if ((*checks_)[i].get() == &check) progress_->running_check = static_cast<int>(i);
    }

private:
    HeldEffects& effects_;
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
std::optional<std::string> Pipeline::missing_attribute(const Request& r, const Config& c,
                                                       int fd) const {
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
        return "invalid " + what + ": " + req.value;
    }
    return std::nullopt;
}

std::string Pipeline::answer_without_database(const Request& request, const Config& config,
                                              const RequestProgress* progress) const {
    db::Session unused{db::Settings{}};  // never connected: no check runs here
    HeldEffects effects;
    effects.rcpt_number = ++rcpt_count_;
    CountingContext ctx(request, config, unused, std::time(nullptr), effects, -1);
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
    if (decided_by != Stats::kNoCheck)
        decision = failsafe(ctx, checks_[decided_by]->name(), &effects);
    if (decision == Decision::Continue) {
        ctx.log_decision("module=bypass");
        decision = Decision::Accept;
        decided_by = Stats::kNoCheck;
    }
    effects.outcome(outcome_of(decision), decided_by);
    effects.release(stats_);
    return reply_for(decision, request, config);
}

// FAILSAFE for a check whose database work failed: 1 accepts, 0 answers
// with the greylist deferral, any other value means "no match" (Continue).
Decision Pipeline::failsafe(CheckContext& ctx, std::string_view check_name,
                           HeldEffects* effects) const {
    if (effects) effects->database_error();
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
                               int fd, RequestProgress* progress, HeldEffects* held) const {
    HeldEffects own;
    HeldEffects& effects = held ? *held : own;
    const std::string reply = decide_into(request, config, db, fd, progress, effects);
    if (!held) own.release(stats_);
    return reply;
}

std::string Pipeline::decide_into(const Request& request, const Config& config, db::Session& db,
                                  int fd, RequestProgress* progress, HeldEffects& effects) const {
    if (auto missing = missing_attribute(request, config, fd)) {
        effects.line(std::move(*missing));
        effects.outcome(Outcome::Invalid, Stats::kNoCheck);
        return kInvalidReply;
    }
    if (effects.rcpt_number == 0) effects.rcpt_number = ++rcpt_count_;
    CountingContext ctx(request, config, db, std::time(nullptr), effects, fd, &checks_, progress);
    std::size_t decided_by = Stats::kNoCheck;
    const Decision decision = decide(ctx, progress, decided_by, nullptr, &effects);
    effects.outcome(outcome_of(decision), decided_by);
    return reply_for(decision, request, config);
}

void Pipeline::release(HeldEffects& effects) const { effects.release(stats_); }

std::string Pipeline::evaluate_observed(CheckContext& ctx, CheckObserver& observer) const {
    if (auto missing = missing_attribute(ctx.request, ctx.config, ctx.fd)) {
        ctx.log_line(*missing);
        return kInvalidReply;
    }
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
                          CheckObserver* observer, HeldEffects* effects) const {
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
            if (effects && !dynamic_cast<const db::Unavailable*>(&e))
                effects->failure(check.name(), e.what());
            decision = failsafe(ctx, check.name(), effects);
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
