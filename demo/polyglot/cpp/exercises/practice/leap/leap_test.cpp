#include <catch2/catch.hpp>

#include "leap.h"

TEST_CASE("not_divisible_by_4") { REQUIRE(!leap::is_leap_year(2015)); }
#if defined(EXERCISM_RUN_ALL_TESTS)
TEST_CASE("divisible_by_4_not_by_100") { REQUIRE(leap::is_leap_year(1996)); }
TEST_CASE("divisible_by_400") { REQUIRE(leap::is_leap_year(2000)); }
#endif
