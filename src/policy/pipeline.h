// NAME
//   pipeline.h - runs the checks in the reference's order and builds the reply
// SYNOPSIS
//   #include "policy/pipeline.h"
//   Pipeline pipeline = Pipeline::standard();
//   std::string reply = pipeline.evaluate(request, config, session, fd);
// DESCRIPTION
//   Pipeline is policyd.c:chk_pol of the reference: the required-attribute
//   check (module_info_check), the rcpt=N counter, the checks in order with
//   their short-circuits, FAILSAFE when a check's database work fails, and
//   the passthrough "module=bypass" when nothing decided.
//
//   evaluate() runs on a worker thread and returns the reply line without
//   its terminating empty line. With count_into(), every request's outcome,
//   decision log tokens and database failures are counted in a Stats. A
//   Pipeline is immutable once the workers start and shared by all of them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "policy/check.h"
#include "protocol/request.h"

namespace policyd {

namespace db { class Session; }
class HeldEffects;
class Stats;

// One request's progress, shared by the worker deciding it and the event
// loop, which answers it itself when REQUEST_TIMEOUT passes first.
struct RequestProgress {
    std::atomic<bool> answered{false};  // the loop answered: the worker's reply is dropped
    std::atomic<int> running_check{-1}; // index of the check the worker is in
};

// Told where each enabled check stands while a request is decided (policyd
// --explain): skipped after a pass, started, and how it ended. `failure`
// is the exception FAILSAFE handled, if any.
class CheckObserver {
public:
    virtual ~CheckObserver() = default;
    virtual void skipped_after_pass(const Check& check) = 0;
    virtual void started(const Check& check) = 0;
    virtual void finished(const Check& check, Decision decision, const std::exception* failure) = 0;
};

class Pipeline {
public:
    explicit Pipeline(std::vector<std::unique_ptr<Check>> checks);
    // Every check of the reference, plus ours, in the reference's order.
    static Pipeline standard();

    // Count into `stats` (which must outlive the pipeline; it learns the
    // check names), or nowhere (nullptr); call before the workers start.
    void count_into(Stats* stats);

    // `fd` only appears in log lines ("invalid ...", rcpt_acl's "DEBUG: fd: N").
    // `progress`, if given, follows the check being run. With `held`, the
    // request's log lines and counts wait there for release() (a worker's
    // commit group); without, they are logged and counted before it returns.
    std::string evaluate(const Request& request, const Config& config, db::Session& db, int fd,
                         RequestProgress* progress = nullptr, HeldEffects* held = nullptr) const;
    // Logs and counts what evaluate() held (held_effects.h).
    void release(HeldEffects& held) const;

    // evaluate() for policyd --explain: in the caller's context (whose
    // session and logging it controls), telling `observer` about each
    // check. Counts nothing.
    std::string evaluate_observed(CheckContext& ctx, CheckObserver& observer) const;
    const std::vector<std::unique_ptr<Check>>& checks() const { return checks_; }

    // The answer when the database could not decide in time: FAILSAFE for
    // the check the worker is stuck in (per `progress`), or for the first
    // enabled check when none has started. Does no database work.
    std::string answer_without_database(const Request& request, const Config& config,
                                        const RequestProgress* progress = nullptr) const;

    // Requests that passed the attribute check since start (the N of rcpt=N).
    std::uint64_t requests_counted() const { return rcpt_count_; }

private:
    // The log line naming the first attribute an enabled module needs and
    // the request lacks; nullopt when it has them all.
    std::optional<std::string> missing_attribute(const Request& request, const Config& config,
                                                 int fd) const;
    std::string decide_into(const Request& request, const Config& config, db::Session& db, int fd,
                            RequestProgress* progress, HeldEffects& effects) const;
    // The checks in order, FAILSAFE included: the final decision, and in
    // `decided_by` the index of the check that made it (left alone when
    // none did).
    Decision decide(CheckContext& ctx, RequestProgress* progress, std::size_t& decided_by,
                    CheckObserver* observer = nullptr, HeldEffects* effects = nullptr) const;
    // Whether a check after `index` takes over a Pass (the throttles).
    bool handed_on_after(std::size_t index, const Config& config) const;
    // FAILSAFE's decision, with the database failure counted in `effects`.
    Decision failsafe(CheckContext& ctx, std::string_view check_name, HeldEffects* effects) const;

    std::vector<std::unique_ptr<Check>> checks_;
    mutable std::atomic<std::uint64_t> rcpt_count_{0};
    Stats* stats_ = nullptr;
};

// The reply line for a final decision (reference generic.c:policy_reply).
std::string reply_for(Decision decision, const Request& request, const Config& config);

}  // namespace policyd
