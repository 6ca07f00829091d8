// The doctest runner for every suite in tests/; CTest runs it once per suite (CMakeLists.txt).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
