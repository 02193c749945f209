// NAME
//   main.cpp - the unit test program's main()
// SYNOPSIS
//   tests/unit/unit_tests [catch2 options] [test names or [tags]]
// DESCRIPTION
//   Catch2's own main(); every tests/unit/test_*.cpp adds its TEST_CASEs.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
