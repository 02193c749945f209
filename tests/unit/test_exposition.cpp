// NAME
//   test_exposition.cpp - the Prometheus text written from a Stats snapshot
// DESCRIPTION
//   Pins metric names, label sets and values for known counts, the
//   cumulative latency buckets with their le bounds, label escaping, and
//   that an address never becomes a label. The HTTP side and a real
//   Prometheus parser are exercised in tests/integration/test_metrics.py.
#include <catch2/catch.hpp>

#include <string>

#include "stats/exposition.h"

using namespace policyd;
using namespace std::chrono_literals;

namespace {

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

}  // namespace

TEST_CASE("requests by action and deciding check, decision tokens split into labels",
          "[exposition]") {
    Stats stats;
    stats.set_check_names({"whitelist", "greylist"});
    stats.outcome(Outcome::GreyDefer, 1);
    stats.outcome(Outcome::GreyDefer, 1);
    stats.outcome(Outcome::Accept, 0);
    stats.outcome(Outcome::Accept);           // no check decided
    stats.outcome(Outcome::Invalid, 99);      // out of range: none
    stats.token("greylist=new");
    stats.token("greylist=new");
    stats.token("throttle=abuse(f)");
    stats.token("whitelist=bypass");
    const std::string text = prometheus_text(stats.snapshot(), {3, "1.2", "/etc/p\"d.conf", 1.5});
    CHECK(has_line(text, "# TYPE policyd_requests_total counter"));
    CHECK(has_line(text, R"x(policyd_requests_total{action="grey_defer",check="greylist"} 2)x"));
    CHECK(has_line(text, R"x(policyd_requests_total{action="accept",check="whitelist"} 1)x"));
    CHECK(has_line(text, R"x(policyd_requests_total{action="accept",check="none"} 1)x"));
    CHECK(has_line(text, R"x(policyd_requests_total{action="invalid",check="none"} 1)x"));
    CHECK(text.find(R"x(action="blacklist")x") == std::string::npos);  // never counted: absent
    CHECK(has_line(text, R"x(policyd_decisions_total{check="greylist",result="new"} 2)x"));
    CHECK(has_line(text, R"x(policyd_decisions_total{check="throttle",result="abuse(f)"} 1)x"));
    CHECK(has_line(text, R"x(policyd_decisions_total{check="whitelist",result="bypass"} 1)x"));
    CHECK(has_line(text, R"x(policyd_build_info{version="1.2",config="/etc/p\"d.conf"} 1)x"));
    CHECK(has_line(text, "policyd_worker_queue_depth 3"));
    CHECK(has_line(text, "process_start_time_seconds 1.500000"));
}

TEST_CASE("the latency histogram is cumulative in seconds from 100 us to 10 s", "[exposition]") {
    Stats stats;
    stats.request_finished(50us);
    stats.request_finished(100us);   // le="0.0001" is "at most"
    stats.request_finished(101us);
    stats.request_finished(3ms);
    stats.request_finished(20s);
    const std::string text = prometheus_text(stats.snapshot(), {});
    CHECK(has_line(text, "# TYPE policyd_request_duration_seconds histogram"));
    CHECK(has_line(text, R"x(policyd_request_duration_seconds_bucket{le="0.0001"} 2)x"));
    CHECK(has_line(text, R"x(policyd_request_duration_seconds_bucket{le="0.00025"} 3)x"));
    CHECK(has_line(text, R"x(policyd_request_duration_seconds_bucket{le="0.0025"} 3)x"));
    CHECK(has_line(text, R"x(policyd_request_duration_seconds_bucket{le="0.005"} 4)x"));
    CHECK(has_line(text, R"x(policyd_request_duration_seconds_bucket{le="10"} 4)x"));
    CHECK(has_line(text, R"x(policyd_request_duration_seconds_bucket{le="+Inf"} 5)x"));
    CHECK(has_line(text, "policyd_request_duration_seconds_count 5"));
    CHECK(has_line(text, "policyd_request_duration_seconds_sum 20.003251"));
}

TEST_CASE("connections, database nodes and reloads", "[exposition]") {
    Stats stats;
    stats.connection_opened();
    stats.connection_opened();
    stats.connection_closed(CloseReason::TooLarge);
    stats.refused_acl();
    stats.refused_limit();
    stats.refused_limit();
    stats.reloaded(true);
    stats.reloaded(false);
    stats.reloaded(false);
    DatabaseCounters& a = stats.database_node("db1:3306");
    DatabaseCounters& b = stats.database_node("db2:3306");
    CHECK(&stats.database_node("db1:3306") == &a);
    a.statements += 7;
    a.retries += 1;
    b.errors += 2;
    b.reconnects += 1;
    const std::string text = prometheus_text(stats.snapshot(), {});
    CHECK(has_line(text, "policyd_connections_open 1"));
    CHECK(has_line(text, "policyd_connections_accepted_total 2"));
    CHECK(has_line(text, R"x(policyd_connections_refused_total{reason="conn_acl"} 1)x"));
    CHECK(has_line(text, R"x(policyd_connections_refused_total{reason="max_connections"} 2)x"));
    CHECK(has_line(text, R"x(policyd_connections_closed_total{reason="too_large"} 1)x"));
    CHECK(has_line(text, R"x(policyd_connections_closed_total{reason="too_slow"} 0)x"));
    CHECK(has_line(text, R"x(policyd_database_statements_total{node="db1:3306"} 7)x"));
    CHECK(has_line(text, R"x(policyd_database_statements_total{node="db2:3306"} 0)x"));
    CHECK(has_line(text, R"x(policyd_database_retries_total{node="db1:3306"} 1)x"));
    CHECK(has_line(text, R"x(policyd_database_errors_total{node="db2:3306"} 2)x"));
    CHECK(has_line(text, R"x(policyd_database_reconnects_total{node="db2:3306"} 1)x"));
    CHECK(has_line(text, R"x(policyd_config_reloads_total{result="ok"} 1)x"));
    CHECK(has_line(text, R"x(policyd_config_reloads_total{result="failed"} 2)x"));
}

TEST_CASE("label values are escaped", "[exposition]") {
    CHECK(escape_label_value("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
    CHECK(escape_label_value("plain") == "plain");
}
