// The chain as a whole: bypass, clicks, block sizes.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "check.h"
#include "dsp/chain.h"
#include "dsp/params.h"
#include "dsp_util.h"

using namespace hushbox::dsp;
using namespace hushbox::test;

namespace {
constexpr double kRate = 48000.0;

// Stereo: a voice-ish mic (150 Hz buzz with overtones, 60 Hz hum, a little
// noise, syllables) and a 220 Hz instrument.
std::vector<std::vector<float>> program(size_t n, uint32_t seed = 1, float noise_level = 0.003f) {
  std::vector<std::vector<float>> x(2, std::vector<float>(n));
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, noise_level);
  for (size_t i = 0; i < n; ++i) {
    const double t = i / kRate;
    double v = 0.0;
    for (int h = 1; h <= 6; ++h) v += std::sin(2.0 * M_PI * 150.0 * h * t) / h;
    const double syl = 0.6 + 0.4 * std::sin(2.0 * M_PI * 3.0 * t);
    x[0][i] = static_cast<float>(0.2 * syl * v + 0.01 * std::sin(2.0 * M_PI * 60.0 * t)) + noise(rng);
    x[1][i] = static_cast<float>(0.3 * std::sin(2.0 * M_PI * 220.0 * t));
  }
  return x;
}

// The largest sample-to-sample jump relative to the signal's peak around it
// (+-5 ms): a click is a jump the waveform itself cannot explain, whatever the
// level does (a compressor settling, a gain ramping).
double worst_step(const std::vector<std::vector<float>>& y, size_t from, size_t to) {
  double worst = 0.0;
  const size_t r = 240;
  for (const auto& ch : y) {
    for (size_t i = std::max<size_t>(from, 1); i < to && i < ch.size(); ++i) {
      double local = 1e-3;
      for (size_t k = i > r ? i - r : 0; k < std::min(ch.size(), i + r); ++k)
        local = std::max(local, static_cast<double>(std::fabs(ch[k])));
      worst = std::max(worst, std::fabs(ch[i] - ch[i - 1]) / local);
    }
  }
  return worst;
}

// The program with loud peaks on both inputs (up to +6 dBFS, single samples and bursts).
std::vector<std::vector<float>> program_with_peaks(size_t n, uint32_t seed) {
  auto x = program(n, seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (auto& ch : x) {
    for (int i = 0; i < 200; ++i) {
      const size_t at = static_cast<size_t>(std::abs(u(rng)) * static_cast<float>(n - 200));
      const size_t len = 1 + static_cast<size_t>(std::abs(u(rng)) * 150);
      const float peak = 2.0f * u(rng);
      for (size_t k = 0; k < len; ++k) ch[at + k] = peak * (k % 2 ? 1.0f : 0.8f);
    }
  }
  return x;
}

// Nothing but the master limiter keeps the outputs down: both strips' limiters
// bypassed, both inputs mixed in at +12 dB.
void loud_mix(Chain& c) {
  for (uint32_t s = 0; s < kStrips; ++s) c.set_param(strip_param(s, kLimitBypass), 1.0f);
  c.set_param(kMixMicGain, 12.0f);
  c.set_param(kMixInstGain, 12.0f);
}

double peak_of(const std::vector<std::vector<float>>& y, size_t from = 0) {
  double most = 0.0;
  for (const auto& ch : y)
    for (size_t i = from; i < ch.size(); ++i) most = std::max(most, static_cast<double>(std::fabs(ch[i])));
  return most;
}

// A preset far from the defaults, every parameter of the table at once.
void apply_other_preset(Chain& c) {
  const auto table = param_table();
  for (uint32_t i = 0; i < kParamCount; ++i) {
    if (i == kMasterBypass) continue;
    const ParamDef& d = table[i];
    float v = d.def;
    if (d.scale == Scale::kBool) continue;  // bypasses are their own test
    // Somewhere else in the range: a third of the way from the default to an end.
    const float far = (d.def - d.min) > (d.max - d.def) ? d.min : d.max;
    v = d.def + (far - d.def) / 3.0f;
    // Gains (trims, EQ, mix, master) go up 4 dB instead, so the level stays comparable.
    if (d.scale == Scale::kDecibel && d.min < 0.0f && d.max > 0.0f) v = d.def + 4.0f;
    c.set_param(i, v);
  }
  c.set_param(strip_param(0, kTrimPolarity), 1.0f);
}
}  // namespace

TEST("chain: master bypass is a bit-exact passthrough once settled") {
  const size_t n = static_cast<size_t>(kRate);
  auto x = program(n);
  const auto in = x;
  ChainRunner r(kRate, 2, 64);
  r.chain.set_param(kMasterBypass, 1.0f);
  r.chain.reset();
  r.run(x, 0, n, 64);
  CHECK(x == in);
  // Switched mid-signal: crossfades, then passes through exactly.
  auto y = in;
  ChainRunner s(kRate, 2, 64);
  s.run(y, 0, n / 2, 64);
  s.chain.set_param(kMasterBypass, 1.0f);
  s.run(y, n / 2, n / 2, 64);
  const size_t settled = n / 2 + static_cast<size_t>(kRate * 0.021);
  bool same = true;
  for (uint32_t c = 0; c < 2; ++c)
    for (size_t i = settled; i < n; ++i) same = same && y[c][i] == in[c][i];
  CHECK(same);
  CHECK(y[0][n / 2 - 1] != in[0][n / 2 - 1]);  // it did process before
}

TEST("chain: with every stage bypassed the output is the input, exactly, one look-ahead later") {
  const size_t n = static_cast<size_t>(kRate);
  auto x = program(n);
  const auto in = x;
  ChainRunner r(kRate, 2, 64);
  r.bypass_all_stages();
  r.chain.set_param(kMixMicPan, -100.0f);
  r.chain.set_param(kMixInstPan, 100.0f);
  r.chain.reset();
  r.run(x, 0, n, 64);
  const uint32_t d = r.chain.latency_samples();
  bool same = true;
  for (uint32_t c = 0; c < 2; ++c)
    for (size_t i = d; i < n; ++i) same = same && x[c][i] == in[c][i - d];
  CHECK(same);
}

TEST("chain: mono input goes through the mic strip and the mic level") {
  ChainRunner r(kRate, 1, 64);
  r.bypass_all_stages();
  r.chain.set_param(kMixMicGain, -6.0f);
  r.chain.set_param(kMixMicPan, 100.0f);  // pan means nothing in mono
  r.chain.reset();
  std::vector<std::vector<float>> x(1, std::vector<float>(4800, 0.5f));
  r.run(x, 0, 4800, 64);
  CHECK_NEAR(x[0].back(), 0.5 * std::pow(10.0, -6.0 / 20.0), 1e-5);
}

TEST("chain: the mix pans each input between the two outputs") {
  ChainRunner r(kRate, 2, 64);
  r.bypass_all_stages();
  r.chain.set_param(kMixMicPan, -50.0f);
  r.chain.set_param(kMixInstPan, 100.0f);
  r.chain.set_param(kMixInstGain, -6.0f);
  r.chain.reset();
  std::vector<std::vector<float>> x{std::vector<float>(4800, 0.5f), std::vector<float>(4800, 0.25f)};
  r.run(x, 0, 4800, 64);
  const double inst = 0.25 * std::pow(10.0, -6.0 / 20.0);
  CHECK_NEAR(x[0].back(), 0.5, 1e-6);               // mic full left, nothing of the instrument
  CHECK_NEAR(x[1].back(), 0.5 * 0.5 + inst, 1e-6);  // mic half right, the instrument
}

TEST("chain: a whole preset applied mid-signal does not click") {
  const size_t n = static_cast<size_t>(kRate * 1.5);
  auto x = program(n, 1, 0.0f);
  ChainRunner r(kRate, 2, 64);
  const size_t change = static_cast<size_t>(kRate * 0.6) / 64 * 64;
  r.run(x, 0, change, 64);
  apply_other_preset(r.chain);
  r.run(x, change, n - change, 64);
  const double before = worst_step(x, change - 9600, change);
  const double after = worst_step(x, n - 9600, n);
  const double during = worst_step(x, change, change + 9600);
  std::printf("    preset change: max step before %.4f, during %.4f, after %.4f\n", before, during, after);
  CHECK(during <= 1.5 * std::max(before, after));
}

TEST("chain: switching any bypass on and off mid-signal does not click") {
  const auto table = param_table();
  for (uint32_t i = 0; i < kParamCount; ++i) {
    if (table[i].scale != Scale::kBool || i == strip_param(0, kTrimPolarity) || i == strip_param(1, kTrimPolarity)) {
      continue;
    }
    const size_t n = static_cast<size_t>(kRate * 1.2);
    auto x = program(n, i + 3, 0.0f);
    ChainRunner r(kRate, 2, 64);
    const size_t on = 19200, off = 38400;
    r.run(x, 0, on, 64);
    r.chain.set_param(i, 1.0f);
    r.run(x, on, off - on, 64);
    r.chain.set_param(i, 0.0f);
    r.run(x, off, n - off, 64);
    // Steady in both states: a stage that removes noise (or adds a filter) changes the
    // signal's roughness, and that is no click; a click is a step beyond either state's.
    const double steady =
        std::max({worst_step(x, 9600, on), worst_step(x, off - 9600, off), worst_step(x, n - 9600, n)});
    const double during = std::max(worst_step(x, on, on + 2400), worst_step(x, off, off + 2400));
    if (!(during <= 1.5 * steady))
      std::printf("    %s: steady %.4f, switching %.4f (to bypass %.4f, back %.4f)\n", table[i].id, steady, during,
                  worst_step(x, on, on + 2400), worst_step(x, off, off + 2400));
    CHECK(during <= 1.5 * steady);
  }
}

TEST("chain: the output does not depend on the block size") {
  const size_t n = static_cast<size_t>(kRate * 1.5);
  const auto in = program(n, 9);
  std::vector<std::vector<float>> reference;
  for (uint32_t block : {64u, 1u, 7u, 100u, 512u}) {
    auto x = in;
    ChainRunner r(kRate, 2, 512);
    r.chain.set_param(strip_param(0, kGateThreshold), -30.0f);  // the gate acts on the syllables
    r.run(x, 0, n / 2 / 3584 * 3584, block);                    // a boundary common to every block size
    r.chain.set_param(strip_param(0, kHpfSlope), 48.0f);
    r.chain.set_param(strip_param(0, kEqPeak2Gain), 6.0f);
    r.run(x, n / 2 / 3584 * 3584, n - n / 2 / 3584 * 3584, block);
    if (reference.empty()) {
      reference = x;
    } else {
      CHECK(x == reference);
    }
  }
}

TEST("chain: latency is the noise suppressor's delay (at most 3 ms) plus two limiter look-aheads (1 ms together)") {
  for (double rate : {44100.0, 48000.0, 96000.0, 192000.0}) {
    Chain c;
    CHECK(c.prepare({rate, 256, 2}));
    CHECK(c.latency_samples() > 0 && c.latency_samples() <= rate * 0.004);
    CHECK(c.latency_samples() == c.strip(0).latency_samples() + c.master_limiter().latency_samples());
    CHECK(c.master_limiter().latency_samples() + c.strip(0).limiter.latency_samples() <= rate * 0.001);
  }
}

TEST("chain: settings changed while a stage is bypassed apply when it comes back") {
  ChainRunner r(kRate, 1, 64);
  r.bypass_all_stages();
  r.chain.reset();
  r.chain.set_param(strip_param(0, kEqPeak1Freq), 1000.0f);
  r.chain.set_param(strip_param(0, kEqPeak1Gain), 6.0f);
  r.chain.set_param(strip_param(0, kEqPeak1Q), 2.0f);
  r.chain.set_param(strip_param(0, kEqPeak2Gain), 0.0f);  // the other bands flat
  r.chain.set_param(strip_param(0, kEqHighGain), 0.0f);
  r.chain.set_param(strip_param(0, kHpfFreq), 300.0f);
  r.chain.set_param(strip_param(0, kHpfSlope), 48.0f);
  const size_t n = static_cast<size_t>(kRate);
  std::vector<std::vector<float>> x{tone(kRate, 1000.0, 0.1, n)};
  add(x[0], tone(kRate, 100.0, 0.1, n));
  r.run(x, 0, 4800, 64);
  r.chain.set_param(strip_param(0, kEqBypass), 0.0f);
  r.chain.set_param(strip_param(0, kHpfBypass), 0.0f);
  r.run(x, 4800, n - 4800, 64);
  CHECK_NEAR(db(amplitude_at(x[0], n / 2, n / 2, kRate, 1000.0) / 0.1), 6.0, 0.1);
  CHECK(db(amplitude_at(x[0], n / 2, n / 2, kRate, 100.0) / 0.1) < -70.0);  // 48 dB/oct from 300 Hz
}

TEST("bypass fade: a unit with latency is crossfaded against an equally delayed dry path") {
  // A unit that only delays by 32 samples: bypassed or not, switching or
  // settled, the output is the input 32 samples later, exactly.
  constexpr uint32_t kDelay = 32;
  BypassFade fade;
  fade.prepare(kRate, kDelay);
  std::vector<float> line(kDelay, 0.0f);
  uint32_t pos = 0;
  auto unit = [&](float* y, uint32_t m) {
    for (uint32_t i = 0; i < m; ++i) {
      const float d = line[pos];
      line[pos] = y[i];
      pos = (pos + 1) % kDelay;
      y[i] = d;
    }
  };
  const auto in = tone(kRate, 440.0, 0.5, 48000);
  auto x = in;
  for (size_t i = 0; i < x.size(); i += kControlInterval) {
    if (i == 9600) fade.set_bypass(true);
    if (i == 10080) fade.set_bypass(false);  // mid-fade
    if (i == 24000) fade.set_bypass(true);
    fade.run(x.data() + i, kControlInterval, unit, [] {});
  }
  bool aligned = true;
  for (size_t i = kDelay; i < x.size(); ++i) aligned = aligned && std::fabs(x[i] - in[i - kDelay]) < 1e-6f;
  CHECK(aligned);
}

TEST("chain: a NaN or infinity in the input is silenced and the chain recovers") {
  const size_t n = static_cast<size_t>(kRate / 2);
  auto x = program(n);
  x[0][1000] = NAN;
  x[1][2000] = INFINITY;
  ChainRunner r(kRate, 2, 64);
  r.run(x, 0, n, 64);
  bool finite = true;
  for (const auto& ch : x)
    for (float v : ch) finite = finite && std::isfinite(v);
  CHECK(finite);
  CHECK(r.chain.recoveries() >= 2);
  CHECK(std::fabs(x[0][n - 1]) + std::fabs(x[0][n - 100]) > 0.0f);  // sound again
}

TEST("master limiter: random loud peaks, strip limiters bypassed, mix at +12 dB: no output crosses the ceiling") {
  for (float ceiling_db : {-1.0f, -6.0f}) {
    const size_t n = static_cast<size_t>(kRate * 2);
    auto x = program_with_peaks(n, 11);
    ChainRunner r(kRate, 2, 64);
    loud_mix(r.chain);
    r.chain.set_param(kMasterLimitCeiling, ceiling_db);
    r.chain.reset();
    float most_reduction = 0.0f;
    for (size_t at = 0; at < n; at += 4800) {
      r.run(x, at, std::min<size_t>(4800, n - at), 37);  // odd block sizes
      most_reduction = std::max(most_reduction, r.chain.master_limit_reduction_db());
    }
    const double ceiling = std::pow(10.0, ceiling_db / 20.0);
    const double most = peak_of(x);
    std::printf("    ceiling %.1f dBFS: output peak %.3f dBFS, master reduction up to %.1f dB\n", ceiling_db, db(most),
                most_reduction);
    CHECK(most <= ceiling);
    CHECK(most > 0.9 * ceiling);  // it limits, it does not mute
    CHECK(most_reduction > 6.0f);
    CHECK(r.chain.master_limiter().safety_clips() == 0);  // the gain did it, not the safety clip
  }
}

TEST("master limiter: a peak on one output lowers both outputs by the same gain (stereo link)") {
  const size_t n = static_cast<size_t>(kRate);
  ChainRunner r(kRate, 2, 64);
  r.bypass_all_stages();
  r.chain.set_param(kMasterLimitBypass, 0.0f);
  r.chain.set_param(kMixMicPan, -100.0f);  // mic left only, instrument right only
  r.chain.set_param(kMixInstPan, 100.0f);
  r.chain.reset();
  std::vector<std::vector<float>> x{tone(kRate, 300.0, 0.2, n), tone(kRate, 500.0, 0.2, n)};
  for (size_t i = n / 2; i < n / 2 + 4800; ++i) x[0][i] *= 15.0f;  // +23.5 dB on the left only
  const auto in = x;
  r.run(x, 0, n, 64);
  const uint32_t d = r.chain.latency_samples();
  double gap = 0.0, deepest_right = 1.0;
  for (size_t i = d; i < n; ++i) {
    if (std::fabs(in[0][i - d]) < 0.05f || std::fabs(in[1][i - d]) < 0.05f) continue;
    const double gl = x[0][i] / in[0][i - d], gr = x[1][i] / in[1][i - d];
    gap = std::max(gap, std::fabs(gl - gr));
    deepest_right = std::min(deepest_right, gr);
  }
  CHECK(deepest_right < 0.3);  // the right side went down with the left's peak
  CHECK(gap < 1e-5);           // by the same gain, so the image stays put
  CHECK(peak_of(x) <= std::pow(10.0, -1.0 / 20.0));
}

TEST("master limiter: switching its bypass while it limits does not click") {
  const size_t n = static_cast<size_t>(kRate * 1.2);
  auto x = program(n, 5, 0.0f);
  ChainRunner r(kRate, 2, 64);
  loud_mix(r.chain);
  r.chain.reset();
  const size_t on = 19200, off = 38400;
  r.run(x, 0, on, 64);
  const float reduction = r.chain.master_limit_reduction_db();
  r.chain.set_param(kMasterLimitBypass, 1.0f);
  r.run(x, on, off - on, 64);
  r.chain.set_param(kMasterLimitBypass, 0.0f);
  r.run(x, off, n - off, 64);
  const double steady = std::max({worst_step(x, 9600, on), worst_step(x, off - 9600, off), worst_step(x, n - 9600, n)});
  const double during = std::max(worst_step(x, on, on + 2400), worst_step(x, off, off + 2400));
  std::printf("    master limiter reducing %.1f dB: steady %.4f, switching %.4f\n", reduction, steady, during);
  CHECK(reduction > 3.0f);
  CHECK(during <= 1.5 * steady);
}

TEST("master limiter: master bypass stays bit-exact while the master limiter would be limiting") {
  const size_t n = static_cast<size_t>(kRate / 2);
  auto x = program_with_peaks(n, 3);
  const auto in = x;
  ChainRunner r(kRate, 2, 64);
  loud_mix(r.chain);
  r.chain.set_param(kMasterBypass, 1.0f);
  r.chain.reset();
  r.run(x, 0, n, 64);
  CHECK(x == in);
  CHECK(r.chain.master_limit_reduction_db() == 0.0f);
  // Back on: the master limiter holds the ceiling again.
  auto y = program_with_peaks(n, 4);
  r.chain.set_param(kMasterBypass, 0.0f);
  r.run(y, 0, n, 64);
  CHECK(peak_of(y, static_cast<size_t>(kRate * 0.05)) <= std::pow(10.0, -1.0 / 20.0));
}

TEST("chain: a strip's meters list the steady tones its noise suppressor notches, none while it is bypassed") {
  ChainRunner r(kRate, 2);
  const size_t n = static_cast<size_t>(3 * kRate);
  std::vector<std::vector<float>> x(2, std::vector<float>(n));
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (size_t i = 0; i < n; ++i) {
    // 233 Hz: no mains harmonic, so the hum stage ahead leaves it to the suppressor.
    const float tone = 0.03f * static_cast<float>(std::sin(2.0 * M_PI * 233.0 * static_cast<double>(i) / kRate));
    x[0][i] = tone + 0.003f * u(rng);
    x[1][i] = tone + 0.003f * u(rng);  // the instrument strip: suppression bypassed by default
  }
  r.run(x, 0, n, 64);
  const StripMeters mic = r.chain.meters(0);
  CHECK(mic.tone_count == 1);
  CHECK_NEAR(mic.tones_hz[0], 233.0, 0.1);
  CHECK(r.chain.meters(1).tone_count == 0);
  r.chain.set_param(strip_param(0, kNsBypass), 1.0f);
  std::vector<std::vector<float>> more(2, std::vector<float>(static_cast<size_t>(kRate), 0.0f));
  r.run(more, 0, more[0].size(), 64);
  CHECK(r.chain.meters(0).tone_count == 0);
}
