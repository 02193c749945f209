// NAME
//   test_greylist.cpp - greylisting's pure decisions: opt-out, training
// DESCRIPTION
//   The database side (triplets, counts, list writes) is covered by the
//   conformance scenarios and tests/integration/test_greylist.py; these pin
//   the reference's `state` rules. The keys of
//   auto-listing entries (list_key()) are tested in test_list_keys.cpp.
#include <catch2/catch.hpp>

#include "policy/checks/greylist.h"

using namespace policyd;

TEST_CASE("opt-out needs OPTINOUT and a state of 0", "[greylist]") {
    Config c;
    CHECK_FALSE(opted_out(c, std::nullopt));  // OPTINOUT off: the policy table is ignored
    CHECK_FALSE(opted_out(c, 0));
    c.optinout = 1;
    CHECK(opted_out(c, std::nullopt));  // no row: OPTINOUTALL (0) decides
    CHECK(opted_out(c, 0));
    CHECK_FALSE(opted_out(c, 1));
    CHECK_FALSE(opted_out(c, 2));
    c.optinoutall = 1;
    CHECK_FALSE(opted_out(c, std::nullopt));
    CHECK(opted_out(c, 0));  // the row beats OPTINOUTALL
}

TEST_CASE("training: TRAINING_MODE, policy_training rows, state 2", "[greylist]") {
    Config c;
    CHECK_FALSE(in_training(c, std::nullopt, std::nullopt));
    CHECK_FALSE(in_training(c, 1, 0));
    CHECK(in_training(c, std::nullopt, 1));
    CHECK(in_training(c, std::nullopt, 3));

    SECTION("any non-zero TRAINING_MODE trains") {
        for (long mode : {1L, 2L, -1L}) {
            c.training_mode = mode;
            CHECK(in_training(c, std::nullopt, std::nullopt));
            CHECK(in_training(c, 1, 0));
        }
    }
    SECTION("_optin=2 or OPTINOUTALL=2 trains unless policy_training was looked up") {
        CHECK(in_training(c, 2, std::nullopt));
        CHECK_FALSE(in_training(c, 2, 0));
        c.optinoutall = 2;
        CHECK(in_training(c, std::nullopt, std::nullopt));
        CHECK_FALSE(in_training(c, 1, std::nullopt));
    }
}
