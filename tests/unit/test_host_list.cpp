// NAME
//   test_host_list.cpp - unit tests of MYSQLHOST lists
// SYNOPSIS
//   tests/unit/unit_tests "[host_list]"
// DESCRIPTION
//   One server as policyd 1.x had it, lists with and without ports, IPv6,
//   and the mistakes that must be refused with a reason.
#include <catch2/catch.hpp>

#include "config/host_list.h"

using policyd::HostPort;
using policyd::parse_host_list;

namespace {

std::vector<HostPort> parsed(const char* list, unsigned default_port = 3306) {
    std::string error;
    auto hosts = parse_host_list(list, default_port, error);
    INFO(error);
    REQUIRE(error.empty());
    return hosts;
}

std::string refusal(const char* list) {
    std::string error;
    CHECK(parse_host_list(list, 3306, error).empty());
    return error;
}

}  // namespace

TEST_CASE("one server keeps the reference's meaning", "[host_list]") {
    CHECK(parsed("") == std::vector<HostPort>{{"", 3306}});
    CHECK(parsed("localhost", 0) == std::vector<HostPort>{{"localhost", 0}});
    CHECK(parsed("db.example.org", 3307) == std::vector<HostPort>{{"db.example.org", 3307}});
    CHECK(parsed("db1:3310") == std::vector<HostPort>{{"db1", 3310}});
    CHECK(parsed("::1") == std::vector<HostPort>{{"::1", 3306}});
}

TEST_CASE("a list: a missing port is MYSQLPORT", "[host_list]") {
    CHECK(parsed("db1:3306,db2,db3", 3307) ==
          std::vector<HostPort>{{"db1", 3306}, {"db2", 3307}, {"db3", 3307}});
    CHECK(parsed(" db1 , [2001:db8::1]:3308,[::1]") ==
          std::vector<HostPort>{{"db1", 3306}, {"2001:db8::1", 3308}, {"::1", 3306}});
}

TEST_CASE("mistakes are refused with a reason", "[host_list]") {
    CHECK(refusal("db1,,db2") == "an empty entry in the list");
    CHECK(refusal("db1,") == "an empty entry in the list");
    CHECK(refusal("db1:0,db2").find("1..65535") != std::string::npos);
    CHECK(refusal("db1:65536").find("1..65535") != std::string::npos);
    CHECK(refusal("db1:x").find("not a number") != std::string::npos);
    CHECK(refusal("db1:").find("empty port") != std::string::npos);
    CHECK(refusal(":3306").find("no host") != std::string::npos);
    CHECK(refusal("[::1").find("']'") != std::string::npos);
    CHECK(refusal("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q").find("more than 16") != std::string::npos);
}

TEST_CASE("the text of a server names its port", "[host_list]") {
    CHECK((HostPort{"db1", 0}.text()) == "db1:3306");
    CHECK((HostPort{"2001:db8::1", 3308}.text()) == "[2001:db8::1]:3308");
    CHECK((HostPort{"", 13306}.text()) == "localhost:13306");
}
