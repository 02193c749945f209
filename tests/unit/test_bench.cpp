// NAME
//   test_bench.cpp - unit tests for policyd-bench's histogram, workload and pacing
// SYNOPSIS
//   Part of tests/unit/unit_tests (Catch2).
// DESCRIPTION
//   The histogram's buckets must tile the value range without gaps and keep
//   percentiles within 1/64; the workload must produce what each mix
//   promises (fresh triplets, a cycled retry pool, one instance per
//   multi-recipient message, the whitelisted range) with a full Postfix
//   attribute set that policyd's own normaliser reads back; a paced budget
//   must hand out due times exactly 1/rate apart from its start and stop at
//   the request count and the deadline; CPU time must come from the right
//   fields of /proc/<pid>/stat; a reply must count under its verdict whichever
//   server spelled it (policyd, postgrey, sqlgrey, postfwd), and under one
//   spelling whatever numbers it carries.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "histogram.h"
#include "load.h"
#include "report.h"
#include "server_status.h"
#include "protocol/attributes.h"
#include "protocol/normalizer.h"
#include "verdict.h"
#include "workload.h"

using namespace bench;

namespace {

std::string attr(const std::string& text, std::string_view name) {
    auto v = policyd::Attributes(text).get(name);
    REQUIRE(v);
    return std::string(*v);
}

Workload single(std::string_view mix, WorkloadOptions o = {}) {
    return Workload(parse_mix(mix), std::move(o));
}

}  // namespace

TEST_CASE("histogram buckets are contiguous and hold their values") {
    for (std::uint64_t v = 0; v < 1'000'000; v += (v < 5000 ? 1 : 997)) {
        const std::size_t b = Histogram::bucket_of(v);
        CHECK(Histogram::highest_in(b) >= v);
        if (b > 0) CHECK(Histogram::highest_in(b - 1) < v);
    }
    CHECK(Histogram::bucket_of(127) == 127);
    CHECK(Histogram::bucket_of(128) == 128);
    CHECK(Histogram::highest_in(128) == 129);
}

TEST_CASE("histogram percentiles are within 1/64 and the maximum is exact") {
    Histogram h;
    for (std::uint64_t v = 1; v <= 10000; ++v) h.record(v);
    CHECK(h.count() == 10000);
    CHECK(h.max() == 10000);
    CHECK(h.mean() == Approx(5000.5));
    for (double p : {50.0, 95.0, 99.0}) {
        const double exact = p * 100;
        CHECK(static_cast<double>(h.percentile(p)) >= exact);
        CHECK(static_cast<double>(h.percentile(p)) <= exact * (1 + 1.0 / 64));
    }
    CHECK(h.percentile(100) == 10000);

    Histogram other;
    other.record(50'000'000);
    h.merge(other);
    CHECK(h.count() == 10001);
    CHECK(h.max() == 50'000'000);
    CHECK(h.percentile(100) == 50'000'000);
    CHECK(Histogram().percentile(99) == 0);
}

TEST_CASE("mixes parse by name, by weights, and refuse nonsense") {
    CHECK(describe(parse_mix("new")) == "new=1");
    CHECK(describe(parse_mix("retry=3,multi-rcpt=1")) == "retry=3,multi-rcpt=1");
    CHECK(describe(parse_mix("mixed")) ==
          "new=20,retry=50,whitelisted=15,blacklisted=5,throttled=5,multi-rcpt=5");
    CHECK_THROWS_AS(parse_mix("old"), std::invalid_argument);
    CHECK_THROWS_AS(parse_mix("new=0"), std::invalid_argument);
    CHECK_THROWS_AS(parse_mix("new=x"), std::invalid_argument);
    CHECK_THROWS_AS(parse_mix(""), std::invalid_argument);
}

TEST_CASE("every request has the Postfix 3.x attribute set and ends with an empty line") {
    Workload w = single("new");
    const std::string text = w.next().front();
    CHECK(text.size() > 2);
    CHECK(text.substr(text.size() - 2) == "\n\n");
    for (const char* name :
         {"request", "protocol_state", "protocol_name", "client_address", "client_name",
          "reverse_client_name", "client_port", "server_address", "server_port", "helo_name",
          "sender", "recipient", "recipient_count", "queue_id", "instance", "size", "etrn_domain",
          "stress", "sasl_method", "sasl_username", "sasl_sender", "ccert_subject",
          "ccert_issuer", "ccert_fingerprint", "ccert_pubkey_fingerprint", "encryption_protocol",
          "encryption_cipher", "encryption_keysize", "policy_context", "compatibility_level",
          "mail_version"})
        CHECK(policyd::Attributes(text).get(name));
    CHECK(attr(text, "request") == "smtpd_access_policy");
    CHECK(attr(text, "protocol_state") == "RCPT");
}

TEST_CASE("new requests are fresh triplets that survive normalisation whole") {
    WorkloadOptions o;
    o.run_id = "abc123";
    Workload w = single("new", o);
    std::set<std::string> triplets;
    for (int i = 0; i < 500; ++i) {
        const auto r = policyd::normalize(policyd::Attributes(w.next().front()), 3, 128);
        CHECK(r.sender.find("abc123") != std::string::npos);
        CHECK(r.rcpt.find("abc123") != std::string::npos);
        CHECK(r.sender.size() < 57);  // not cut by the reference's caps
        CHECK(r.rcpt.size() < 54);
        triplets.insert(r.ghost + "|" + r.sender + "|" + r.rcpt);
    }
    CHECK(triplets.size() == 500);
}

TEST_CASE("retry cycles its pool, which seed_request covers") {
    WorkloadOptions o;
    o.retry_pool = 7;
    Workload w = single("retry", o);
    CHECK(w.needs_seeding());
    CHECK_FALSE(single("new").needs_seeding());
    std::set<std::string> seen;
    for (int i = 0; i < 21; ++i) seen.insert(w.next().front());
    CHECK(seen.size() == 7);
    for (std::uint64_t i = 0; i < 7; ++i) CHECK(seen.count(w.seed_request(i)) == 1);
}

TEST_CASE("multi-rcpt messages share one instance and sender, one recipient each") {
    WorkloadOptions o;
    o.rcpts = 4;
    Workload w = single("multi-rcpt", o);
    const Message m = w.next();
    REQUIRE(m.size() == 4);
    std::set<std::string> recipients;
    for (const auto& text : m) {
        CHECK(attr(text, "instance") == attr(m[0], "instance"));
        CHECK(attr(text, "sender") == attr(m[0], "sender"));
        recipients.insert(attr(text, "recipient"));
    }
    CHECK(recipients.size() == 4);
    CHECK(attr(w.next()[0], "instance") != attr(m[0], "instance"));
}

TEST_CASE("list and throttle mixes use their client ranges and one sender") {
    WorkloadOptions o;
    o.whitelisted_prefix = "203.0.113";
    Workload white = single("whitelisted", o);
    Workload hammer = single("throttled", o);
    for (int i = 0; i < 300; ++i) {
        CHECK(attr(white.next()[0], "client_address").rfind("203.0.113.", 0) == 0);
        const std::string t = hammer.next()[0];
        CHECK(attr(t, "client_address") == "198.51.100.7");
        CHECK(attr(t, "sender") == "hammer." + o.run_id + "@hammer.bench.example");
    }
}

TEST_CASE("an IPv6 prefix gives the list mixes IPv6 clients of that /48") {
    WorkloadOptions o;
    o.whitelisted_prefix = "2001:db8:77";
    o.blacklisted_prefix = "2001:db8:66";
    Workload white = single("whitelisted", o);
    Workload black = single("blacklisted", o);
    std::set<std::string> hosts;
    for (int i = 0; i < 300; ++i) {
        const std::string w = attr(white.next()[0], "client_address");
        CHECK(w.rfind("2001:db8:77::", 0) == 0);
        hosts.insert(w);
        CHECK(attr(black.next()[0], "client_address").rfind("2001:db8:66::", 0) == 0);
    }
    CHECK(hosts.size() == 254);
    CHECK(hosts.count("2001:db8:77::1") == 1);
    CHECK(hosts.count("2001:db8:77::fe") == 1);
}

TEST_CASE("a weighted mix produces its kinds in proportion") {
    Workload w = single("new=3,whitelisted=1");
    int whitelisted = 0;
    for (int i = 0; i < 4000; ++i)
        if (attr(w.next()[0], "client_address").rfind("203.0.113.", 0) == 0) ++whitelisted;
    CHECK(whitelisted > 850);
    CHECK(whitelisted < 1150);
}

TEST_CASE("a paced budget hands out due times 1/rate apart from its start") {
    Budget paced({.requests = 0, .duration = 0, .rate = 250});
    REQUIRE(paced.paced());
    const auto before = Clock::now();
    paced.start();
    const auto first = *paced.due();
    REQUIRE(first >= before);
    REQUIRE(first <= Clock::now());
    for (int k = 1; k <= 1000; ++k) {
        const auto gap = std::chrono::duration<double>(*paced.due() - first).count();
        REQUIRE(gap == Approx(k / 250.0).epsilon(1e-9));
    }

    Budget closed({.requests = 3, .duration = 0, .rate = 0});
    REQUIRE_FALSE(closed.paced());
    closed.start();
    const auto now = Clock::now();
    REQUIRE(*closed.due() >= now);  // unpaced: always "now"
    REQUIRE(closed.take());
    REQUIRE(closed.take());
    REQUIRE(closed.take());
    REQUIRE_FALSE(closed.take());
}

TEST_CASE("a paced budget ends its schedule at the request count and the deadline") {
    Budget counted({.requests = 3, .duration = 0, .rate = 1000});
    counted.start();
    REQUIRE(counted.due());
    REQUIRE(counted.due());
    REQUIRE(counted.open());
    REQUIRE(counted.due());
    REQUIRE_FALSE(counted.open());  // the fourth would be past --requests
    REQUIRE_FALSE(counted.due());

    Budget timed({.requests = 0, .duration = 0.01, .rate = 1000});  // 10 requests in 10 ms
    timed.start();
    int scheduled = 0;
    while (timed.due()) ++scheduled;
    REQUIRE(scheduled == 10);
    REQUIRE_FALSE(timed.open());  // even before the deadline: nothing more can be due
}

TEST_CASE("CPU ticks are utime + stime of a /proc/<pid>/stat line") {
    // Fields after the command name: state(3) ... utime(14) stime(15) ...
    const std::string rest = " S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0 99";
    REQUIRE(cpu_ticks("1234 (policyd)" + rest) == 325u);
    REQUIRE(cpu_ticks("1234 (a) (b c)" + rest) == 325u);  // ')' and spaces in the name
    REQUIRE_FALSE(cpu_ticks("1234 (policyd)"));
    REQUIRE_FALSE(cpu_ticks("1234 (policyd) S 1 1234"));
    REQUIRE_FALSE(cpu_ticks("1234 (x) S 1 1234 1234 0 -1 4194560 100 0 0 0 abc 75"));
    REQUIRE_FALSE(cpu_ticks("no parenthesis"));
}

TEST_CASE("replies count under their verdict whoever spelled them") {
    // policyd 1.x and this daemon
    CHECK(verdict_of("action=defer_if_permit Policy rejection: Please try later.") == Verdict::Defer);
    CHECK(verdict_of("action=dunno") == Verdict::Pass);
    CHECK(verdict_of("action=reject Policyd Rejection: Abuse. Go away.") == Verdict::Reject);
    CHECK(verdict_of("action=450 Policy rejection: Quota Exceeded.") == Verdict::Defer);
    // postgrey
    CHECK(verdict_of("action=DEFER_IF_PERMIT Greylisted, see http://postgrey.schweikert.ch/help/rcpt.bench.example.html") ==
          Verdict::Defer);
    CHECK(verdict_of("action=PREPEND X-Greylist: delayed 61 seconds by postgrey-1.37 at mx; "
                     "Fri, 04 Dec 2026 18:00:00 UTC") == Verdict::Pass);
    // sqlgrey
    CHECK(verdict_of("action=451 Greylisted for 5 minutes (https://www.sqlgrey.org/)") == Verdict::Defer);
    CHECK(verdict_of("action=DUNNO") == Verdict::Pass);
    // postfwd
    CHECK(verdict_of("action=DUNNO") == Verdict::Pass);
    CHECK(verdict_of("action=REJECT 5.7.1 go away") == Verdict::Reject);
    CHECK(verdict_of("action=554 5.7.1 go away") == Verdict::Reject);
    CHECK(verdict_of("action=OK") == Verdict::Pass);
    CHECK(verdict_of("action=Defer try later") == Verdict::Defer);
    // conditional: only what smtpd answers when nothing later objects
    CHECK(verdict_of("action=DEFER_IF_REJECT maybe") == Verdict::Pass);
    // not replies Postfix accepts
    CHECK(verdict_of("") == Verdict::Other);
    CHECK(verdict_of("dunno") == Verdict::Other);
    CHECK(verdict_of("action=") == Verdict::Other);
    CHECK(verdict_of("action=PERMIT") == Verdict::Other);
    CHECK(verdict_of("action=DEFERRED") == Verdict::Other);
    CHECK(verdict_of("action=4500 too long a code") == Verdict::Other);
    CHECK(verdict_of("action=399 no such class") == Verdict::Other);
    CHECK(verdict_name(Verdict::Defer) == "defer");
    CHECK(verdict_name(Verdict::Other) == "other");
}

TEST_CASE("a reply's spelling writes each run of digits as one #") {
    CHECK(spelling("action=PREPEND X-Greylist: delayed 61 seconds by postgrey-1.37 at mx; "
                   "Fri, 04 Dec 2026 18:00:00 UTC") ==
          "action=PREPEND X-Greylist: delayed # seconds by postgrey-#.# at mx; Fri, # Dec # #:#:# UTC");
    CHECK(spelling("action=dunno") == "action=dunno");
    CHECK(spelling("7") == "#");
    CHECK(spelling("") == "");
}

TEST_CASE("stats count replies by spelling and by verdict, and merge both") {
    Stats a, b;
    a.record_reply("action=PREPEND X-Greylist: delayed 61 seconds", 10);
    a.record_reply("action=PREPEND X-Greylist: delayed 62 seconds", 10);
    a.record_reply("action=DEFER_IF_PERMIT Greylisted", 10);
    b.record_reply("action=defer_if_permit Policy rejection: Please try later.", 10);
    b.record_reply("nonsense", 10);
    a.merge(b);
    CHECK(a.answered == 5);
    CHECK(a.replies.size() == 4);
    CHECK(a.replies["action=PREPEND X-Greylist: delayed # seconds"] == 2);
    CHECK(a.verdicts[static_cast<std::size_t>(Verdict::Pass)] == 2);
    CHECK(a.verdicts[static_cast<std::size_t>(Verdict::Defer)] == 2);
    CHECK(a.verdicts[static_cast<std::size_t>(Verdict::Reject)] == 0);
    CHECK(a.verdicts[static_cast<std::size_t>(Verdict::Other)] == 1);
}
