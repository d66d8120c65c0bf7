// A minimal test harness: TEST(name) { CHECK(...); }  Each failed CHECK is
// reported with file and line; the runner exits non-zero if any failed.
#pragma once

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace hushbox::test {

struct Case {
  const char* name;
  std::function<void()> fn;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

inline int& failures() {
  static int n = 0;
  return n;
}

struct Register {
  Register(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

inline void fail(const char* file, int line, const std::string& what) {
  ++failures();
  std::fprintf(stderr, "  FAILED %s:%d: %s\n", file, line, what.c_str());
}

}  // namespace hushbox::test

#define HB_CONCAT2(a, b) a##b
#define HB_CONCAT(a, b) HB_CONCAT2(a, b)
#define TEST(name)                                                                                      \
  static void HB_CONCAT(test_fn_, __LINE__)();                                                          \
  static ::hushbox::test::Register HB_CONCAT(test_reg_, __LINE__)(name, HB_CONCAT(test_fn_, __LINE__)); \
  static void HB_CONCAT(test_fn_, __LINE__)()

#define CHECK(cond)                                                \
  do {                                                             \
    if (!(cond)) ::hushbox::test::fail(__FILE__, __LINE__, #cond); \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                                                       \
  do {                                                                                                              \
    const double hb_a = (a), hb_b = (b);                                                                            \
    if (!(std::fabs(hb_a - hb_b) <= (tol)))                                                                         \
      ::hushbox::test::fail(__FILE__, __LINE__,                                                                     \
                            std::string(#a " ~= " #b ": ") + std::to_string(hb_a) + " vs " + std::to_string(hb_b)); \
  } while (0)
