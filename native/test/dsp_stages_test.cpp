// Each stage measured on synthetic signals.
#include <cmath>
#include <random>
#include <vector>

#include "check.h"
#include "dsp/dynamics.h"
#include "dsp/equalizer.h"
#include "dsp/high_pass.h"
#include "dsp/hum_remover.h"
#include "dsp_util.h"

using namespace hushbox::dsp;
using namespace hushbox::test;

namespace {
constexpr double kRate = 48000.0;

// Runs a stage over x in control intervals, as a strip does.
template <class Unit>
void run_unit(Unit& u, std::vector<float>& x) {
  for (size_t i = 0; i < x.size(); i += kControlInterval) {
    u.control();
    u.process(x.data() + i, static_cast<uint32_t>(std::min<size_t>(kControlInterval, x.size() - i)));
  }
}

double gain_db_through_hpf(double hz, float corner, float slope) {
  HighPass h;
  h.prepare({kRate, 64, 1});
  h.set_freq(corner);
  h.set_slope(slope);
  h.reset();
  auto x = tone(kRate, hz, 0.5, static_cast<size_t>(kRate * 2));
  run_unit(h, x);
  const auto n = static_cast<size_t>(kRate);  // the last second: whole periods of every test tone
  return db(amplitude_at(x, x.size() - n, n, kRate, hz) / 0.5);
}

// Butterworth magnitude of a high-pass of `order` at f.
double butterworth_db(double f, double corner, int order) {
  return -10.0 * std::log10(1.0 + std::pow(corner / f, 2.0 * order));
}
}  // namespace

TEST("high-pass: a 1 kHz tone passes untouched") {
  CHECK_NEAR(gain_db_through_hpf(1000.0, 80.0f, 24.0f), 0.0, 0.05);
  CHECK_NEAR(gain_db_through_hpf(1000.0, 300.0f, 48.0f), 0.0, 0.05);
}

TEST("high-pass: a low tone is cut per the slope (12 to 48 dB per octave)") {
  CHECK_NEAR(gain_db_through_hpf(50.0, 100.0f, 12.0f), butterworth_db(50.0, 100.0, 2), 0.5);  // -12.3
  CHECK_NEAR(gain_db_through_hpf(25.0, 100.0f, 24.0f), butterworth_db(25.0, 100.0, 4), 1.0);  // -48.2
  CHECK_NEAR(gain_db_through_hpf(50.0, 100.0f, 36.0f), butterworth_db(50.0, 100.0, 6), 0.5);  // -36.1
  CHECK(gain_db_through_hpf(50.0, 100.0f, 48.0f) < -47.0);
  CHECK_NEAR(gain_db_through_hpf(100.0, 100.0f, 24.0f), -3.01, 0.2);  // the corner
}

namespace {
struct HumResult {
  std::vector<double> hum_db;   // change of each hum line
  std::vector<double> tone_db;  // change of each speech-band tone
  double tracked = 0.0;
};

HumResult run_hum(double mains, int mode, int harmonics, double seconds) {
  HumRemover h;
  h.prepare({kRate, 64, 1});
  h.set_mains(mode);
  h.set_harmonics(harmonics);
  h.reset();
  const auto n = static_cast<size_t>(kRate * seconds);
  std::vector<float> x(n, 0.0f);
  const double hum_amp[] = {0.05, 0.03, 0.02, 0.01, 0.01, 0.005};
  for (int k = 0; k < 6; ++k) add(x, tone(kRate, mains * (k + 1), hum_amp[k], n, 0.3 * k));
  const double tones[] = {330.0, 1000.0, 2500.0};
  for (double t : tones) add(x, tone(kRate, t, 0.1, n, 1.0));
  const std::vector<float> in = x;
  run_unit(h, x);
  HumResult r;
  const auto w = static_cast<size_t>(kRate);  // last second
  for (int k = 0; k < 6 && k < harmonics; ++k) {
    const double f = mains * (k + 1);
    r.hum_db.push_back(db(amplitude_at(x, n - w, w, kRate, f) / amplitude_at(in, n - w, w, kRate, f)));
  }
  for (double t : tones)
    r.tone_db.push_back(db(amplitude_at(x, n - w, w, kRate, t) / amplitude_at(in, n - w, w, kRate, t)));
  r.tracked = h.tracked_hz();
  return r;
}
}  // namespace

TEST("hum: 60 Hz and harmonics removed by at least 30 dB; speech-band tones pass within 0.5 dB") {
  const HumResult r = run_hum(60.0, HumRemover::kAuto, 6, 3.0);
  CHECK_NEAR(r.tracked, 60.0, 0.01);
  for (double d : r.hum_db) CHECK(d <= -30.0);
  for (double d : r.tone_db) CHECK(std::fabs(d) <= 0.5);
}

TEST("hum: 50 Hz mains is detected by itself and removed") {
  const HumResult r = run_hum(50.0, HumRemover::kAuto, 6, 3.0);
  CHECK_NEAR(r.tracked, 50.0, 0.01);
  for (double d : r.hum_db) CHECK(d <= -30.0);
  for (double d : r.tone_db) CHECK(std::fabs(d) <= 0.5);
}

TEST("hum: the notches follow mains that drifts off nominal") {
  const HumResult r = run_hum(50.3, HumRemover::kAuto, 4, 5.0);
  CHECK_NEAR(r.tracked, 50.3, 0.02);
  for (double d : r.hum_db) CHECK(d <= -30.0);
  const HumResult f = run_hum(59.6, HumRemover::k60, 4, 5.0);  // forced 60 Hz, tracked too
  CHECK_NEAR(f.tracked, 59.6, 0.02);
  for (double d : f.hum_db) CHECK(d <= -30.0);
}

TEST("hum: nothing is notched while no mains is found") {
  HumRemover h;
  h.prepare({kRate, 64, 1});
  h.reset();
  auto x = tone(kRate, 1000.0, 0.3, static_cast<size_t>(kRate * 2));
  const auto in = x;
  run_unit(h, x);
  CHECK(h.tracked_hz() == 0.0);
  CHECK(x == in);
}

TEST("hum: a voice whose pitch glides around 120 Hz is not taken for mains hum") {
  for (double f0 : {100.0, 120.0}) {
    HumRemover h;
    h.prepare({kRate, 64, 1});
    h.reset();
    const auto n = static_cast<size_t>(kRate * 4);
    std::vector<float> x(n);
    double phase = 0.0;
    for (size_t i = 0; i < n; ++i) {
      const double t = i / kRate;
      // Intonation: +-3 % over about a second (a flat, steady voice).
      phase += 2.0 * M_PI * f0 * (1.0 + 0.03 * std::sin(2.0 * M_PI * 0.9 * t)) / kRate;
      double v = 0.0;
      for (int k = 1; k <= 8; ++k) v += std::sin(k * phase) / k;
      x[i] = static_cast<float>(0.2 * v);
    }
    const auto in = x;
    run_unit(h, x);
    CHECK(h.tracked_hz() == 0.0);
    CHECK(x == in);
  }
}

TEST("limiter: the ceiling is never crossed on random peaks, with at most 1 ms of delay") {
  Limiter lim;
  lim.prepare({kRate, 64, 1});
  lim.set_ceiling_db(-1.0f);
  lim.set_release_ms(50.0f);
  lim.reset();
  CHECK(lim.latency_samples() <= 24);  // 0.5 ms: with the master limiter's, 1 ms in all
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(kRate * 3));
  for (auto& v : x) v = 0.1f * u(rng);
  for (int i = 0; i < 400; ++i) {  // peaks up to +12 dBFS, single samples and bursts
    const size_t at = static_cast<size_t>(std::abs(u(rng)) * (x.size() - 200));
    const size_t len = 1 + static_cast<size_t>(std::abs(u(rng)) * 150);
    const float peak = 4.0f * u(rng);
    for (size_t k = 0; k < len; ++k) x[at + k] = peak * (k % 2 ? 1.0f : 0.8f);
  }
  auto y = x;
  for (size_t i = 0; i < y.size(); i += 37) {  // odd block sizes
    lim.control();
    lim.process(y.data() + i, static_cast<uint32_t>(std::min<size_t>(37, y.size() - i)));
  }
  const float ceiling = std::pow(10.0f, -1.0f / 20.0f);
  float most = 0.0f;
  for (float v : y) most = std::max(most, std::fabs(v));
  CHECK(most <= ceiling);
  CHECK(most > 0.95f * ceiling);   // it limits, it does not mute
  CHECK(lim.safety_clips() == 0);  // the gain did it, not the safety clip
  // Quiet stretches come through unchanged, one look-ahead later.
  Limiter quiet;
  quiet.prepare({kRate, 64, 1});
  quiet.set_ceiling_db(-1.0f);
  quiet.reset();
  auto q = tone(kRate, 440.0, 0.5, 4800);
  auto qy = q;
  quiet.process(qy.data(), static_cast<uint32_t>(qy.size()));
  const uint32_t d = quiet.latency_samples();
  for (size_t i = d; i < q.size(); ++i) CHECK(qy[i] == q[i - d]);
}

TEST("limiter: at rest it skips the work, and gives what the full computation gives") {
  // Quiet stretches long enough for the gain to come back to unity, between bursts.
  std::vector<float> x = tone(kRate, 440.0, 0.3, static_cast<size_t>(kRate));
  for (size_t at : {4800u, 20000u, 20100u, 40000u})
    for (size_t k = 0; k < 300; ++k) x[at + k] *= 6.0f;
  auto run_in = [&](size_t block) {
    Limiter lim;
    lim.prepare({kRate, 64, 1});
    lim.set_release_ms(20.0f);
    lim.reset();
    auto y = x;
    for (size_t i = 0; i < y.size(); i += block)
      lim.process(y.data() + i, static_cast<uint32_t>(std::min(block, y.size() - i)));
    return y;
  };
  const auto whole = run_in(x.size());  // one call holding the bursts: the full computation throughout
  const auto small = run_in(16);        // at rest between the bursts
  double gap = 0.0;
  for (size_t i = 0; i < x.size(); ++i) gap = std::max(gap, static_cast<double>(std::fabs(whole[i] - small[i])));
  CHECK(gap < 1e-6);
  Limiter probe;
  probe.prepare({kRate, 64, 1});
  const uint32_t la = probe.latency_samples();
  CHECK(whole[38000 + la] == x[38000]);  // back at unity: the input, one look-ahead later
}

TEST("limiter: linked channels share one gain: a peak on one side lowers both equally") {
  Limiter lim;
  lim.prepare({kRate, 64, 2}, 2);
  lim.set_ceiling_db(-1.0f);
  lim.set_release_ms(50.0f);
  lim.reset();
  const size_t n = static_cast<size_t>(kRate / 2);
  // Left: a quiet tone with a loud burst in the middle; right: a quiet tone only.
  auto left = tone(kRate, 300.0, 0.2, n);
  const auto right_in = tone(kRate, 500.0, 0.2, n);
  for (size_t i = n / 2; i < n / 2 + 2400; ++i) left[i] *= 20.0f;
  const auto left_in = left;
  auto right = right_in;
  for (size_t i = 0; i < n; i += kControlInterval) {
    lim.control();
    float* ch[2] = {left.data() + i, right.data() + i};
    lim.process(ch, 2, static_cast<uint32_t>(std::min<size_t>(kControlInterval, n - i)));
  }
  const uint32_t d = lim.latency_samples();
  const float ceiling = std::pow(10.0f, -1.0f / 20.0f);
  double worst_ratio_gap = 0.0, deepest = 1.0, most = 0.0;
  for (size_t i = d; i < n; ++i) {
    most = std::max(most, static_cast<double>(std::max(std::fabs(left[i]), std::fabs(right[i]))));
    // The gain each side got, where both carry enough signal to read it.
    if (std::fabs(left_in[i - d]) > 0.05f && std::fabs(right_in[i - d]) > 0.05f) {
      const double gl = left[i] / left_in[i - d], gr = right[i] / right_in[i - d];
      worst_ratio_gap = std::max(worst_ratio_gap, std::fabs(gl - gr));
      deepest = std::min(deepest, gr);
    }
  }
  CHECK(most <= ceiling);
  CHECK(deepest < 0.3);           // the quiet right side went down with the burst on the left
  CHECK(worst_ratio_gap < 1e-5);  // by exactly the same gain
  CHECK(lim.safety_clips() == 0);
}

TEST("gate: holds open for the hold time, then closes over the release time") {
  Gate g;
  g.prepare({kRate, 64, 1});
  g.set_threshold_db(-40.0f);
  g.set_hysteresis_db(6.0f);
  g.set_range_db(40.0f);
  g.set_attack_ms(1.0f);
  g.set_hold_ms(50.0f);
  g.set_release_ms(100.0f);
  g.reset();
  const auto loud = static_cast<size_t>(kRate * 0.3);
  const auto total = static_cast<size_t>(kRate * 0.6);
  auto x = tone(kRate, 1000.0, 0.1, total);
  for (size_t i = loud; i < total; ++i) x[i] *= 0.003f;  // -70 dBFS: well below the close level
  std::vector<float> gain(total);
  for (size_t i = 0; i < total; ++i) {
    if (i % kControlInterval == 0) g.control();
    g.process(&x[i], 1);
    gain[i] = g.gain();
  }
  size_t drop = 0, closed = 0;
  for (size_t i = loud; i < total && !closed; ++i) {
    if (!drop && gain[i] < 1.0f) drop = i;
    if (gain[i] <= std::pow(10.0f, -40.0f / 20.0f) * 1.0001f) closed = i;
  }
  CHECK(drop > 0 && closed > 0);
  // The detector (5 ms release) needs 3 time constants to fall 26 dB to the close level.
  const double hold_ms = (drop - loud) * 1000.0 / kRate;
  CHECK(hold_ms >= 50.0 && hold_ms <= 50.0 + 17.0);
  CHECK_NEAR((closed - drop) * 1000.0 / kRate, 100.0, 0.5);
  for (size_t i = 0; i < loud; ++i) CHECK(gain[i] == 1.0f);
  // And opens again within the attack time.
  for (size_t i = 0; i < 4800; ++i) {
    float v = 0.1f * std::sin(2.0f * static_cast<float>(M_PI) * 1000.0f * i / 48000.0f);
    if (i % kControlInterval == 0) g.control();
    g.process(&v, 1);
    if (i == 60) CHECK(g.gain() == 1.0f);  // 1 ms attack + a sample or so of detection
  }
}

TEST("compressor: the static curve (threshold, ratio, soft knee, makeup)") {
  const float thr = -20.0f, ratio = 4.0f, knee = 6.0f;
  CHECK_NEAR(Compressor::curve_db(-40.0f, thr, ratio, knee), -40.0, 1e-6);
  CHECK_NEAR(Compressor::curve_db(-10.0f, thr, ratio, knee), -17.5, 1e-5);
  CHECK_NEAR(Compressor::curve_db(-20.0f, thr, ratio, knee), -20.5625, 1e-5);
  for (float makeup : {0.0f, 3.0f}) {
    for (float level : {-40.0f, -30.0f, -23.5f, -21.0f, -20.0f, -18.0f, -10.0f, -3.0f}) {
      Compressor c;
      c.prepare({kRate, 64, 1});
      c.set_threshold_db(thr);
      c.set_ratio(ratio);
      c.set_knee_db(knee);
      c.set_attack_ms(1.0f);
      c.set_release_ms(50.0f);
      c.set_makeup_db(makeup);
      c.reset();
      std::vector<float> x(static_cast<size_t>(kRate / 2), std::pow(10.0f, level / 20.0f));
      run_unit(c, x);
      CHECK_NEAR(20.0 * std::log10(x.back()), Compressor::curve_db(level, thr, ratio, knee) + makeup, 0.02);
      CHECK_NEAR(c.gain_reduction_db(), level - Compressor::curve_db(level, thr, ratio, knee), 0.02);
    }
  }
}

TEST("eq: a peak lifts its band and leaves the rest") {
  Equalizer eq;
  eq.prepare({kRate, 64, 1});
  eq.set_freq(Equalizer::kPeak1, 1000.0f);
  eq.set_gain_db(Equalizer::kPeak1, 6.0f);
  eq.set_q(Equalizer::kPeak1, 2.0f);
  eq.reset();
  auto x = tone(kRate, 1000.0, 0.25, static_cast<size_t>(kRate));
  add(x, tone(kRate, 100.0, 0.25, x.size()));
  auto y = x;
  run_unit(eq, y);
  const size_t w = 24000;
  CHECK_NEAR(db(amplitude_at(y, w, w, kRate, 1000.0) / 0.25), 6.0, 0.05);
  CHECK_NEAR(db(amplitude_at(y, w, w, kRate, 100.0) / 0.25), 0.0, 0.1);
}
