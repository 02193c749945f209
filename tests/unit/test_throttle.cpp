// NAME
//   test_throttle.cpp - the throttles' pure rules and their place in the pipeline
// DESCRIPTION
//   Size parsing, window arithmetic, thresholds, named placeholders and the
//   admission skeleton decide() with scripted lookups; and the hand-over of
//   passes (greylist -> sender throttle -> recipient throttle). Database
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

struct FakeRow {
    std::string key;
    int version = 0;
};

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
    CHECK(window_counter_sql("_rcpt_cur", "1", "1", kMediumMax) ==
          "_rcpt_cur = IF(" + window_expired_sql() + ", 1, LEAST(_rcpt_cur + 1, 16777215))");
    CHECK(total_sql("_count_tot", ":inc", kMediumMax) ==
          "_count_tot = LEAST(_count_tot + :inc, 16777215)");
    // later assignments see earlier ones: the old _abuse_cur moves to
    // _abuse_tot before it is cleared, and _date (read by the window test) is last
    const std::string close = window_close_sql();
    CHECK(close.find("_abuse_tot = IF(") < close.find("_abuse_cur = 0"));
    CHECK(close.rfind("_date = IF(") > close.find("_abuse_cur = 0"));
    CHECK(close.find("_date =") == close.rfind("_date ="));
    CHECK(effective_sql("_count_max", "count_max") ==
          "IF(_count_max = 0, :count_max, _count_max)");
}

TEST_CASE("decide: create, admit, refuse and rows that change underneath", "[throttle]") {
    std::vector<std::string> calls;
    auto never = [&] { calls.push_back("find"); return std::optional<FakeRow>(); };

    SECTION("a missing row is created and that admits") {
        auto o = decide<FakeRow>(std::nullopt, never, [&] { return true; },
                                 [&](const FakeRow&) { return false; });
        CHECK(o.verdict == Verdict::Created);
        CHECK(calls.empty());
    }
    SECTION("lost creation race: the other daemon's row is updated") {
        int admitted = 0;
        auto o = decide<FakeRow>(
            std::nullopt, [&] { return std::optional<FakeRow>(FakeRow{"k", 1}); },
            [&] { return false; },
            [&](const FakeRow& r) { admitted = r.version; return true; });
        CHECK(o.verdict == Verdict::Admitted);
        CHECK(admitted == 1);
    }
    SECTION("refused: the row is read again for the log") {
        auto o = decide<FakeRow>(
            FakeRow{"k", 1}, [&] { return std::optional<FakeRow>(FakeRow{"k", 2}); },
            [&] { return true; }, [&](const FakeRow&) { return false; });
        CHECK(o.verdict == Verdict::Refused);
        CHECK(o.row->version == 2);
    }
    SECTION("row deleted between lookup and update: created again, not refused") {
        int creates = 0;
        auto o = decide<FakeRow>(
            FakeRow{"k", 1}, never, [&] { return ++creates == 1; },
            [&](const FakeRow&) { return false; });
        CHECK(o.verdict == Verdict::Created);
        CHECK(creates == 1);
    }
    SECTION("a row that never settles is a database failure") {
        int version = 0;
        auto flapping = [&] { return std::optional<FakeRow>(FakeRow{"k" + std::to_string(++version)}); };
        CHECK_THROWS_AS(decide<FakeRow>(FakeRow{"k0"}, flapping, [&] { return false; },
                                        [&](const FakeRow&) { return false; }),
                        db::Error);
    }
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
