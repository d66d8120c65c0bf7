#include "dsp/octave_bands.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include "check.h"

using namespace hushbox::dsp;

namespace {

std::vector<float> tone(uint32_t rate, uint32_t n, double hz, double dbfs) {
  const double a = std::pow(10.0, dbfs / 20.0);
  std::vector<float> x(n);
  for (uint32_t i = 0; i < n; ++i)
    x[i] = static_cast<float>(a * std::sin(2.0 * std::numbers::pi * hz * i / rate + 0.3));
  return x;
}

// The band a frequency falls in: the nearest 1/6-octave centre.
uint32_t band_of(double hz) {
  return static_cast<uint32_t>(std::lround(6.0 * std::log2(hz / 1000.0)) - OctaveBands::kFirstBand);
}

}  // namespace

TEST("octave bands: 60 centres at 1 kHz * 2^(k/6), 22 Hz to 20 kHz, all below Nyquist at 48 kHz") {
  OctaveBands b;
  CHECK(b.prepare(48000, 8192));
  CHECK(b.bands() == 60u);
  CHECK_NEAR(OctaveBands::centre_hz(band_of(1000.0)), 1000.0, 1e-3);
  CHECK_NEAR(OctaveBands::centre_hz(0), 22.097, 0.01);
  CHECK_NEAR(OctaveBands::centre_hz(59), 20158.7, 0.5);
  // At 32 kHz the bands above 16 kHz are not there.
  OctaveBands low;
  CHECK(low.prepare(32000, 8192));
  CHECK(low.bands() == band_of(15000.0) + 1);
  CHECK(!b.prepare(48000, 1000));
}

TEST("octave bands: a tone lands in its band at its level, and its neighbours' neighbours stay far below") {
  for (const uint32_t rate : {44100u, 48000u, 96000u}) {
    OctaveBands b;
    const uint32_t n = rate >= 96000 ? 16384 : 8192;
    CHECK(b.prepare(rate, n));
    for (const double hz : {200.0, 1000.0, 3174.8, 10079.4}) {
      const auto x = tone(rate, n, hz, -20.0);
      float out[OctaveBands::kBands];
      b.analyze(x.data(), out);
      const uint32_t k = band_of(hz);
      const uint32_t loudest = static_cast<uint32_t>(std::max_element(out, out + OctaveBands::kBands) - out);
      if (loudest != k)
        hushbox::test::fail(__FILE__, __LINE__, std::to_string(hz) + " Hz landed in band " + std::to_string(loudest));
      CHECK_NEAR(out[k], -20.0, 0.5);
      for (uint32_t j = 0; j < OctaveBands::kBands; ++j)
        if (j + 1 < k || j > k + 1) CHECK(out[j] < -80.0f);
    }
  }
}

TEST("octave bands: a full-scale sine reads 0 dBFS; silence reads the floor") {
  OctaveBands b;
  CHECK(b.prepare(48000, 8192));
  float out[OctaveBands::kBands];
  const auto x = tone(48000, 8192, 1000.0, 0.0);
  b.analyze(x.data(), out);
  CHECK_NEAR(out[band_of(1000.0)], 0.0, 0.1);
  const std::vector<float> zero(8192, 0.0f);
  b.analyze(zero.data(), out);
  for (float v : out) CHECK(v == OctaveBands::kFloorDb);
}

TEST("octave bands: white noise spreads its power over the bands in proportion to their width") {
  OctaveBands b;
  CHECK(b.prepare(48000, 8192));
  uint64_t s = 12345;
  std::vector<float> x(8192);
  for (auto& v : x) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    v = static_cast<float>(((s >> 11) * (2.0 / 9007199254740992.0) - 1.0) * 0.5);
  }
  float out[OctaveBands::kBands];
  b.analyze(x.data(), out);
  // A band twice as wide holds twice the power: one octave up reads 3 dB more (within the estimate's spread).
  const uint32_t k = band_of(1000.0);
  double diff = 0.0;
  for (uint32_t j = k - 12; j < k + 12; ++j) diff += out[j + 6] - out[j];
  CHECK_NEAR(diff / 24.0, 3.01, 1.0);
}
