#include "dsp/real_fft.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "check.h"

using namespace hushbox::dsp;

namespace {

std::vector<float> noise(size_t n, uint64_t seed) {
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  std::vector<float> x(n);
  for (auto& v : x) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    v = static_cast<float>((s >> 11) * (2.0 / 9007199254740992.0) - 1.0);
  }
  return x;
}

}  // namespace

TEST("real fft: forward matches a direct DFT at 8 and 4096 points") {
  for (const uint32_t n : {8u, 4096u}) {
    RealFft fft;
    CHECK(fft.prepare(n));
    const auto x = noise(n, n);
    std::vector<float> re(n / 2 + 1), im(n / 2 + 1);
    fft.forward(x.data(), re.data(), im.data());
    std::vector<double> c(n), s(n);
    for (uint32_t t = 0; t < n; ++t) {
      c[t] = std::cos(2.0 * std::numbers::pi * t / n);
      s[t] = std::sin(2.0 * std::numbers::pi * t / n);
    }
    double worst = 0.0;
    for (uint32_t k = 0; k <= n / 2; ++k) {
      double r = 0.0, i = 0.0;
      for (uint32_t t = 0; t < n; ++t) {
        const uint32_t a = static_cast<uint32_t>((static_cast<uint64_t>(k) * t) % n);
        r += x[t] * c[a];
        i -= x[t] * s[a];
      }
      worst = std::max({worst, std::fabs(r - re[k]), std::fabs(i - im[k])});
    }
    CHECK(worst < 1e-5 * n);
  }
}

TEST("real fft: inverse_tail gives the last samples of inverse for every size and count") {
  for (uint32_t n = 8; n <= 16384; n *= 2) {
    RealFft fft;
    CHECK(fft.prepare(n));
    // Unaligned buffers on purpose: the transform must not assume 16-byte alignment.
    const auto x = noise(n + 1, n);
    std::vector<float> re(n / 2 + 2), im(n / 2 + 2), full(n + 1), tail(n + 1);
    fft.forward(x.data() + 1, re.data() + 1, im.data() + 1);
    const std::vector<float> re0 = re, im0 = im;
    fft.inverse(re.data() + 1, im.data() + 1, full.data() + 1);
    double err = 0.0;
    for (uint32_t t = 0; t < n; ++t) err = std::max(err, static_cast<double>(std::fabs(x[t + 1] - full[t + 1])));
    CHECK(err < 1e-5);
    for (const uint32_t count : {1u, 3u, 4u, 5u, n / 8, n / 8 + 1, n / 4 + 1, n / 2 - 1, n / 2, n / 2 + 3, n - 1, n}) {
      re = re0;
      im = im0;
      std::fill(tail.begin(), tail.end(), 0.0f);
      fft.inverse_tail(re.data() + 1, im.data() + 1, tail.data() + 1, count);
      double diff = 0.0;
      for (uint32_t t = n - count; t < n; ++t)
        diff = std::max(diff, static_cast<double>(std::fabs(full[t + 1] - tail[t + 1])));
      CHECK(diff < 1e-6);      // the same arithmetic, but FMA contraction may differ
      CHECK(tail[0] == 0.0f);  // nothing written before x
    }
  }
}
