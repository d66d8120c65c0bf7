#include "engine/latency.h"

#include <set>

#include "check.h"

using hushbox::find_signal;
using hushbox::mls_signal;

TEST("latency: the MLS has the full period and one more +1 than -1") {
  for (uint32_t order : {8u, 11u, 16u}) {
    const auto s = mls_signal(order, 1.0f);
    CHECK(s.size() == (1u << order) - 1);
    double sum = 0;
    for (float x : s) sum += x;
    CHECK(sum == 1.0);
  }
  CHECK(mls_signal(7, 1.0f).empty());
}

TEST("latency: cross-correlation finds a delayed, attenuated, noisy copy at the right lag") {
  const auto mls = mls_signal(11, 0.5f);
  std::vector<float> captured(20000, 0.0f);
  uint32_t seed = 1;
  for (auto& x : captured) {
    seed = seed * 1664525u + 1013904223u;
    x = (static_cast<float>(seed >> 8) / 16777216.0f - 0.5f) * 0.05f;
  }
  for (size_t i = 0; i < mls.size(); ++i) captured[1234 + i] += 0.8f * mls[i];
  const auto m = find_signal(mls, captured, 10000);
  CHECK(m.found);
  CHECK(m.lag == 1234);
  CHECK_NEAR(m.correlation, 0.8, 0.05);
  const auto none = find_signal(mls, std::vector<float>(20000, 0.0f), 10000);
  CHECK(!none.found);
}
