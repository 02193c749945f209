// NAME
//   test_throttle.cpp - the throttles' pure rules and their place in the pipeline
// DESCRIPTION
//   Size parsing, window arithmetic, thresholds, named placeholders, the
//   fragments of the decision statement and the reading of its returned
//   row; and the hand-over of passes (greylist -> sender throttle ->
//   recipient throttle). Database
//   behaviour is covered by tests/integration/test_throttle*.py and the
//   thr-* / rthr-* conformance scenarios.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "db/session.h"
#include "policy/checks/throttle_common.h"
#include "policy/checks/throttle_recipient.h"
#include "policy/checks/throttle_sender.h"
#include "policy/pipeline.h"

using namespace policyd;

namespace {

Request with_size(const std::string& size) {
    Request r;
    r.size = size;
    return r;
}

}  // namespace

TEST_CASE("message size reads like atol and fits the quota column", "[throttle]") {
    CHECK(message_size(with_size("12345")) == 12345);
    CHECK(message_size(with_size("abc")) == 0);
    CHECK(message_size(with_size("12kb")) == 12);
    CHECK(message_size(with_size("")) == 0);
    CHECK(message_size(with_size("-5")) == 0);
    CHECK(message_size(with_size("99999999999999999999999")) == kIntMax);
    CHECK(message_size(with_size("4294967296")) == kIntMax);
}

TEST_CASE("the window is over strictly after date + time limit", "[throttle]") {
    CHECK_FALSE(window_expired(1000, 900, 100));  // covers tl+1 seconds
    CHECK(window_expired(1001, 900, 100));
    CHECK(window_expired(901, 900, 0));
    CHECK_FALSE(window_expired(900, 900, 0));
}

TEST_CASE("stored zero limits fall back, config values are clamped", "[throttle]") {
    CHECK(effective(0, 512) == 512);
    CHECK(effective(7, 512) == 7);
    CHECK(clamp_column(20000000, kMediumMax) == kMediumMax);
    CHECK(clamp_column(-3, kMediumMax) == 0);
}

TEST_CASE("threshold percentages truncate; letters a, w, p", "[throttle]") {
    CHECK(percent(1, 3) == 33);
    CHECK(percent(2, 3) == 66);
    CHECK(percent(9998, 9000) == 111);
    CHECK(percent(0, 0) == 100);  // the reference divided by zero
    CHECK(threshold_letter(0) == 'a');
    CHECK(threshold_letter(49) == 'a');
    CHECK(threshold_letter(50) == 'w');
    CHECK(threshold_letter(89) == 'w');
    CHECK(threshold_letter(90) == 'p');
    CHECK(threshold_letter(111) == 'p');
}

TEST_CASE("named placeholders become positional, values in placeholder order", "[throttle]") {
    const NamedSql s("UPDATE t SET a = IF(:now > b, :size, a + :size) WHERE k = :key");
    CHECK(s.sql() == "UPDATE t SET a = IF(? > b, ?, a + ?) WHERE k = ?");
    const auto params = s.bind({{"key", std::string("x")}, {"now", 5LL}, {"size", 7LL}});
    REQUIRE(params.size() == 4);
    CHECK(std::get<long long>(params[0]) == 5);
    CHECK(std::get<long long>(params[1]) == 7);
    CHECK(std::get<long long>(params[2]) == 7);
    CHECK(std::get<std::string>(params[3]) == "x");
    CHECK_THROWS_AS(s.bind({{"now", 5LL}}), std::logic_error);
    CHECK(window_expired_sql().find(":time_limit") != std::string::npos);
    // the verdict is taken on the row as it was, before any column changes:
    // _abuse_tot takes the old _abuse_cur, then _abuse_cur holds the verdict
    const std::string decision = decision_sql("_count_cur < 5");
    CHECK(decision.find("_abuse_tot = IF(" + window_expired_sql()) == 0);
    CHECK(decision.find("_abuse_cur = IF(_count_cur < 5, 0, 1)") > decision.find("_abuse_tot"));
    // later assignments count only what the verdict admitted
    CHECK(admitted_counter_sql("_rcpt_cur", "1", "1", kMediumMax) ==
          "_rcpt_cur = IF(_abuse_cur = 0, IF(" + window_expired_sql() +
              ", 1, LEAST(_rcpt_cur + 1, 16777215)), _rcpt_cur)");
    CHECK(admitted_total_sql("_count_tot", ":inc", kMediumMax) ==
          "_count_tot = IF(_abuse_cur = 0, LEAST(_count_tot + :inc, 16777215), _count_tot)");
    CHECK(window_start_sql() ==
          "_date = IF(_abuse_cur = 0 AND " + window_expired_sql() + ", :now, _date)");
    CHECK(effective_sql("_count_max", "count_max") ==
          "IF(_count_max = 0, :count_max, _count_max)");
}

TEST_CASE("the returned row tells created, admitted and refused apart", "[throttle]") {
    // verdict_of(abuse_cur, now, date, cur, tot)
    CHECK(verdict_of(1, 1000, 1000, 1, 1) == Verdict::Refused);  // the flag is the verdict
    CHECK(verdict_of(1, 1000, 900, 7, 40) == Verdict::Refused);
    CHECK(verdict_of(0, 1000, 1000, 1, 1) == Verdict::Created);  // this request alone
    CHECK(verdict_of(0, 1000, 1000, 1, 2) == Verdict::Admitted); // a new window of an old row
    CHECK(verdict_of(0, 1000, 1000, 2, 2) == Verdict::Admitted); // the second in its first second
    CHECK(verdict_of(0, 1000, 900, 1, 1) == Verdict::Admitted);  // not opened now
    CHECK(window_restarted(1000, 1000, 1));
    CHECK_FALSE(window_restarted(1000, 1000, 2));  // began earlier in the same second
    CHECK_FALSE(window_restarted(1000, 900, 1));
}

TEST_CASE("throttles switch on with ==1 and take passes when != 0", "[throttle][pipeline]") {
    Config c;
    const SenderThrottleCheck sender;
    const RecipientThrottleCheck rcpt;
    CHECK_FALSE(sender.enabled(c));
    CHECK_FALSE(sender.resumes_after_pass(c));
    CHECK_FALSE(rcpt.resumes_after_pass(c));
    c.senderthrottle = 2;
    CHECK_FALSE(sender.enabled(c));
    CHECK(sender.resumes_after_pass(c));
    c.senderthrottle = 1;
    c.recipientthrottle = 1;
    CHECK(sender.enabled(c));
    CHECK(rcpt.enabled(c));
    CHECK(rcpt.resumes_after_pass(c));
    CHECK(sender.name() == "throttle");
    CHECK(rcpt.name() == "throttle_rcpt");
}

namespace {

// Stands in for greylist (Pass) and for the recipient throttle (a fixed
// decision), recording that it ran.
class Scripted final : public Check {
public:
    Scripted(std::string name, Decision d, bool resumes, std::vector<std::string>& ran)
        : name_(std::move(name)), d_(d), resumes_(resumes), ran_(ran) {}
    std::string_view name() const override { return name_; }
    bool enabled(const Config&) const override { return true; }
    Decision run(CheckContext&) const override { ran_.push_back(name_); return d_; }
    bool resumes_after_pass(const Config&) const override { return resumes_; }

private:
    std::string name_;
    Decision d_;
    bool resumes_;
    std::vector<std::string>& ran_;
};

}  // namespace

TEST_CASE("the sender throttle's pass is handed on to the recipient throttle", "[throttle][pipeline]") {
    // SASL mode without a username and envelope off: the real sender
    // throttle passes without touching the (unconnected) database.
    Config c;
    c.senderthrottle = 1;
    c.sender_throttle_host = 0;
    c.sender_throttle_sasl = 1;
    c.quota_exceeded_temp_reject = 1;
    c.build_replies();
    Request r;
    r.ip = "192.0.2.10";
    r.sender = "alice@example.com";
    r.rcpt = "bob@example.org";
    r.size = "0";
    db::Session session{db::Settings{}};
    std::vector<std::string> ran;

    std::vector<std::unique_ptr<Check>> checks;
    checks.push_back(std::make_unique<Scripted>("greylist", Decision::Pass, false, ran));
    checks.push_back(std::make_unique<SenderThrottleCheck>());
    checks.push_back(std::make_unique<Scripted>("throttle_rcpt", Decision::RecipientQuota, true, ran));
    Pipeline pipeline(std::move(checks));
    CHECK(pipeline.evaluate(r, c, session, 3) ==
          "action=defer_if_permit Policy rejection: Quota Exceeded.");
    CHECK(ran == std::vector<std::string>{"greylist", "throttle_rcpt"});
    CHECK_FALSE(session.connected());
}
