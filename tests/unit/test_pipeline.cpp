// NAME
//   test_pipeline.cpp - order, short-circuits, pass hand-over and FAILSAFE
// DESCRIPTION
//   Scripted checks stand in for the real ones, so these tests pin the
//   pipeline's own rules without a database;
//   the session is never connected because the scripted checks do not use it.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "db/session.h"
#include "policy/pipeline.h"
#include "stats/stats.h"

using namespace policyd;

namespace {

// A check that records that it ran and answers with a fixed decision (or
// throws db::Error when `fails`).
class ScriptedCheck final : public Check {
public:
    ScriptedCheck(std::string name, Decision decision, std::vector<std::string>& ran,
                  bool resumes = false, bool fails = false)
        : name_(std::move(name)), decision_(decision), ran_(ran), resumes_(resumes), fails_(fails) {}
    std::string_view name() const override { return name_; }
    bool enabled(const Config&) const override { return true; }
    Decision run(CheckContext&) const override {
        ran_.push_back(name_);
        if (fails_) throw db::Error("simulated failure");
        return decision_;
    }
    bool resumes_after_pass(const Config&) const override { return resumes_; }

private:
    std::string name_;
    Decision decision_;
    std::vector<std::string>& ran_;
    bool resumes_;
    bool fails_;
};

Request sample_request() {
    Request r;
    r.ip = "192.0.2.10";
    r.rcpt = "bob@example.org";
    r.sender = "alice@example.com";
    r.helo = "mail.example.com";
    r.size = "0";
    return r;
}

struct Fixture {
    std::vector<std::string> ran;
    Config config;
    db::Session session{db::Settings{}};
    std::vector<std::unique_ptr<Check>> checks;
    Stats* stats = nullptr;

    void add(const std::string& name, Decision d, bool resumes = false, bool fails = false) {
        checks.push_back(std::make_unique<ScriptedCheck>(name, d, ran, resumes, fails));
    }
    std::string evaluate(const Request& r = sample_request()) {
        Pipeline pipeline(std::move(checks));
        pipeline.count_into(stats);
        return pipeline.evaluate(r, config, session, 7);
    }
};

}  // namespace

TEST_CASE("the first final decision ends the request", "[pipeline]") {
    Fixture f;
    f.add("a", Decision::Continue);
    f.add("b", Decision::Blacklist);
    f.add("c", Decision::Accept);
    f.config.blacklist_temp_reject = 0;
    f.config.build_replies();
    CHECK(f.evaluate() == "action=reject Policyd Rejection: Abuse. Go away.");
    CHECK(f.ran == std::vector<std::string>{"a", "b"});
}

TEST_CASE("nothing decided: passthrough accepts", "[pipeline]") {
    Fixture f;
    f.add("a", Decision::Continue);
    CHECK(f.evaluate() == "action=dunno");
}

TEST_CASE("a pass is handed on only to checks that resume after a pass", "[pipeline]") {
    SECTION("no later taker: ACCEPT at once") {
        Fixture f;
        f.add("greylist", Decision::Pass);
        f.add("later", Decision::Blacklist);  // does not resume: must not run
        CHECK(f.evaluate() == "action=dunno");
        CHECK(f.ran == std::vector<std::string>{"greylist"});
    }
    SECTION("a throttle takes over and rejects") {
        Fixture f;
        f.add("greylist", Decision::Pass);
        f.add("not-a-throttle", Decision::Blacklist);
        f.add("throttle", Decision::SenderQuota, /*resumes=*/true);
        // QUOTA_EXCEEDED_TEMP_REJECT absent counts as 0: permanent.
        CHECK(f.evaluate() == "action=reject Policy rejection: Quota Exceeded.");
        CHECK(f.ran == std::vector<std::string>{"greylist", "throttle"});
    }
}

TEST_CASE("replies for every decision use the configured texts", "[pipeline]") {
    Config c;
    c.quota_exceeded_temp_reject = 1;
    c.build_replies();
    const Request r = sample_request();
    CHECK(reply_for(Decision::GreyDefer, r, c) ==
          "action=defer_if_permit Policy rejection: Please try later.");
    CHECK(reply_for(Decision::Spamtrap, r, c) == "action=reject Policy rejection: Abuse. Go away.");
    CHECK(reply_for(Decision::SizeReject, r, c) ==
          "action=reject Policy rejection: Message size too big.");
    CHECK(reply_for(Decision::RecipientQuota, r, c) ==
          "action=defer_if_permit Policy rejection: Quota Exceeded.");
}

TEST_CASE("X-Greylist header on every accept when greylisting and the header are on", "[pipeline]") {
    Fixture f;
    f.config.greylisting = 1;
    f.config.greylist_x_header = 1;
    f.add("whitelist", Decision::Accept);
    CHECK(f.evaluate() == "action=prepend X-Greylist: Passed host: 192.0.2.10");

    Config no_greylisting;
    no_greylisting.greylist_x_header = 1;
    CHECK(reply_for(Decision::Accept, sample_request(), no_greylisting) == "action=dunno");
}

TEST_CASE("FAILSAFE decides what a database failure means", "[pipeline]") {
    SECTION("1: accept and stop") {
        Fixture f;
        f.config.failsafe = 1;
        f.add("whitelist", Decision::Continue, false, /*fails=*/true);
        f.add("blacklist", Decision::Blacklist);
        CHECK(f.evaluate() == "action=dunno");
        CHECK(f.ran == std::vector<std::string>{"whitelist"});
    }
    SECTION("0: the greylist deferral, whichever check failed") {
        Fixture f;
        f.config.failsafe = 0;
        f.add("whitelist", Decision::Continue, false, true);
        CHECK(f.evaluate() == "action=defer_if_permit Policy rejection: Please try later.");
    }
    SECTION("other values: treated as no match, the chain goes on") {
        Fixture f;
        f.config.failsafe = 2;
        f.add("whitelist", Decision::Continue, false, true);
        f.add("blacklist", Decision::Blacklist);
        f.config.blacklist_temp_reject = 1;
        f.config.build_replies();
        CHECK(f.evaluate() == "action=defer_if_permit Policyd Rejection: Abuse. Go away.");
        CHECK(f.ran == std::vector<std::string>{"whitelist", "blacklist"});
    }
}

TEST_CASE("missing required attributes give Invalid data before any check", "[pipeline]") {
    Fixture f;
    f.config.greylisting = 1;
    f.add("greylist", Decision::GreyDefer);
    Request r = sample_request();
    r.rcpt.clear();
    CHECK(f.evaluate(r) == "action=defer_if_permit Invalid data");
    CHECK(f.ran.empty());
}

TEST_CASE("BLACKLIST_HELO requires a HELO even with blacklisting off", "[pipeline]") {
    Fixture f;
    f.config.blacklist_helo = 1;
    f.add("x", Decision::Accept);
    Request r = sample_request();
    r.helo.clear();
    CHECK(f.evaluate(r) == "action=defer_if_permit Invalid data");
}

TEST_CASE("each request's reply kind, decision tokens and database failures are counted",
          "[pipeline][stats]") {
    Stats stats;
    auto run = [&stats](auto setup, const Request& r = sample_request()) {
        Fixture f;
        f.stats = &stats;
        setup(f);
        return f.evaluate(r);
    };
    run([](Fixture& f) { f.add("greylist", Decision::GreyDefer); });
    run([](Fixture& f) { f.add("greylist", Decision::GreyDefer); });
    run([](Fixture& f) { f.add("blacklist", Decision::Blacklist); });
    run([](Fixture& f) { f.add("greylist", Decision::Pass); });
    run([](Fixture& f) { f.add("nothing", Decision::Continue); });
    CHECK(run([](Fixture& f) {
              f.config.failsafe = 1;
              f.add("whitelist", Decision::Continue, false, /*fails=*/true);
          }) == "action=dunno");
    Request no_rcpt = sample_request();
    no_rcpt.rcpt.clear();
    CHECK(run([](Fixture& f) {
              f.config.greylisting = 1;
              f.add("greylist", Decision::GreyDefer);
          }, no_rcpt) == "action=defer_if_permit Invalid data");

    const auto s = stats.snapshot();
    CHECK(s.outcome(Outcome::GreyDefer) == 2);
    CHECK(s.outcome(Outcome::Blacklist) == 1);
    CHECK(s.outcome(Outcome::Accept) == 3);  // the pass, the passthrough, the FAILSAFE bypass
    CHECK(s.outcome(Outcome::Invalid) == 1);
    CHECK(s.outcome(Outcome::Spamtrap) == 0);
    CHECK(s.database_errors == 1);
    CHECK(s.tokens == std::map<std::string, std::uint64_t, std::less<>>{
                          {"module=bypass", 1}, {"whitelist=bypass", 1}});
}
