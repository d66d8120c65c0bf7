#include "dsp/noise_suppressor.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <vector>

#include "check.h"
#include "dsp/real_fft.h"
#include "dsp/tonal_remover.h"

using namespace hushbox::dsp;

namespace {

struct Rng {
  uint64_t s = 0x9E3779B97F4A7C15ull;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  // Uniform in [-1, 1).
  float uniform() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<float>((s >> 11) * (2.0 / 9007199254740992.0) - 1.0);
  }
  float gauss() {
    float sum = 0.0f;
    for (int i = 0; i < 4; ++i) sum += uniform();
    return sum * 0.8660254f;  // variance 1
  }
};

std::vector<float> white(size_t n, float rms, uint64_t seed) {
  Rng r(seed);
  std::vector<float> x(n);
  for (auto& v : x) v = rms * r.gauss();
  return x;
}

std::vector<float> pink(size_t n, float rms, uint64_t seed) {
  // Paul Kellet's filter, then scaled to the rms.
  Rng r(seed);
  std::vector<float> x(n);
  double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, e = 0;
  for (auto& v : x) {
    const double w = r.gauss();
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.96900 * b2 + w * 0.1538520;
    b3 = 0.86650 * b3 + w * 0.3104856;
    b4 = 0.55000 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.0168980;
    v = static_cast<float>(b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362);
    b6 = w * 0.115926;
    e += v * v;
  }
  const float k = rms / static_cast<float>(std::sqrt(e / n));
  for (auto& v : x) v *= k;
  return x;
}

// A voiced, speech-like signal: harmonics of a gliding 110..190 Hz pitch with a
// falling spectrum, in 220 ms syllables separated by 180 ms pauses.
std::vector<float> voice(size_t n, double rate, float rms_in_syllables) {
  std::vector<float> x(n, 0.0f);
  double phase = 0.0;
  const double syllable = 0.22 * rate, period = 0.4 * rate, edge = 0.02 * rate;
  for (size_t i = 0; i < n; ++i) {
    const double t = i / rate;
    const double f0 = 150.0 + 40.0 * std::sin(2.0 * std::numbers::pi * 1.3 * t);
    phase += 2.0 * std::numbers::pi * f0 / rate;
    const double pos = std::fmod(static_cast<double>(i), period);
    double env = 0.0;
    if (pos < syllable) env = std::min({1.0, pos / edge, (syllable - pos) / edge});
    if (env <= 0.0) continue;
    double v = 0.0;
    for (int h = 1; h * f0 < std::min(5000.0, rate / 2.2); ++h) v += std::sin(h * phase) / h;
    x[i] = static_cast<float>(env * v);
  }
  double e = 0.0;
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (std::fmod(static_cast<double>(i), period) < syllable) {
      e += x[i] * x[i];
      ++count;
    }
  }
  const float k = rms_in_syllables / static_cast<float>(std::sqrt(e / std::max<size_t>(count, 1)));
  for (auto& v : x) v *= k;
  return x;
}

std::vector<float> add(const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<float> y(a.size());
  for (size_t i = 0; i < a.size(); ++i) y[i] = a[i] + b[i];
  return y;
}

std::vector<float> run(NoiseSuppressor& ns, std::vector<float> x, uint32_t block) {
  for (size_t i = 0; i < x.size(); i += block)
    ns.process(x.data() + i, static_cast<uint32_t>(std::min<size_t>(block, x.size() - i)));
  return x;
}

std::vector<float> suppress(double rate, const std::vector<float>& x, uint32_t block = 64, float strength = 1.0f,
                            float floor_db = -30.0f) {
  NoiseSuppressor ns;
  ns.set_strength(strength);
  ns.set_floor_db(floor_db);
  CHECK(ns.prepare({rate, 256, 1}));
  return run(ns, x, block);
}

double power(const std::vector<float>& x, size_t from, size_t to) {
  double e = 0.0;
  for (size_t i = from; i < to; ++i) e += static_cast<double>(x[i]) * x[i];
  return e / static_cast<double>(to - from);
}

double db(double ratio) { return 10.0 * std::log10(ratio); }

// The lag (0..max_lag) at which y best matches x.
size_t best_lag(const std::vector<float>& x, const std::vector<float>& y, size_t max_lag) {
  size_t best = 0;
  double best_c = -1e300;
  for (size_t lag = 0; lag <= max_lag; ++lag) {
    double c = 0.0;
    for (size_t i = 0; i + lag < y.size(); ++i) c += static_cast<double>(x[i]) * y[i + lag];
    if (c > best_c) {
      best_c = c;
      best = lag;
    }
  }
  return best;
}

// SI-SDR of y (delayed by `lag`) against the reference x, over x[from..to).
double si_sdr(const std::vector<float>& x, const std::vector<float>& y, size_t lag, size_t from, size_t to) {
  double xy = 0.0, xx = 0.0;
  for (size_t i = from; i < to; ++i) {
    xy += static_cast<double>(x[i]) * y[i + lag];
    xx += static_cast<double>(x[i]) * x[i];
  }
  const double a = xy / xx;
  double s = 0.0, e = 0.0;
  for (size_t i = from; i < to; ++i) {
    const double t = a * x[i];
    const double d = y[i + lag] - t;
    s += t * t;
    e += d * d;
  }
  return db(s / e);
}

}  // namespace

TEST("real fft: forward matches a direct DFT and inverse restores the signal") {
  RealFft fft;
  CHECK(!fft.prepare(48));
  CHECK(!fft.prepare(4));
  for (const uint32_t n : {8u, 16u, 32u, 64u, 128u, 512u, 1024u, 2048u}) {
    CHECK(fft.prepare(n));
    const auto x = white(n, 0.5f, n);
    std::vector<float> re(n / 2 + 1), im(n / 2 + 1), y(n);
    fft.forward(x.data(), re.data(), im.data());
    double worst = 0.0;
    for (uint32_t k = 0; k <= n / 2; ++k) {
      double r = 0.0, i = 0.0;
      for (uint32_t t = 0; t < n; ++t) {
        const double a = 2.0 * std::numbers::pi * ((static_cast<uint64_t>(k) * t) % n) / n;
        r += x[t] * std::cos(a);
        i -= x[t] * std::sin(a);
      }
      worst = std::max({worst, std::fabs(r - re[k]), std::fabs(i - im[k])});
    }
    CHECK(worst < 1e-5 * n);
    fft.inverse(re.data(), im.data(), y.data());
    double err = 0.0;
    for (uint32_t t = 0; t < n; ++t) err = std::max(err, static_cast<double>(std::fabs(x[t] - y[t])));
    CHECK(err < 1e-5);
  }
}

TEST("noise suppressor: an impulse comes out after latency_samples(), which is at most 3 ms") {
  for (const double rate : {44100.0, 48000.0, 96000.0, 192000.0}) {
    NoiseSuppressor ns;
    ns.set_strength(0.0f);
    CHECK(ns.prepare({rate, 256, 1}));
    CHECK(ns.latency_samples() <= 0.003 * rate);
    std::vector<float> x(static_cast<size_t>(0.1 * rate), 0.0f);
    x[1000] = 1.0f;
    const auto y = run(ns, x, 64);
    const auto peak =
        std::max_element(y.begin(), y.end(), [](float a, float b) { return std::fabs(a) < std::fabs(b); });
    CHECK(static_cast<size_t>(peak - y.begin()) == 1000 + ns.latency_samples());
    CHECK_NEAR(*peak, 1.0, 1e-5);
  }
}

TEST("noise suppressor: at full strength the measured delay of speech in noise is latency_samples()") {
  const double rate = 48000.0;
  const size_t n = 3 * 48000;
  const auto clean = voice(n, rate, 0.1f);
  const auto y = suppress(rate, add(clean, white(n, 0.01f, 7)));
  NoiseSuppressor ns;
  CHECK(ns.prepare({rate, 256, 1}));
  const size_t lag = best_lag(clean, y, 400);
  CHECK(lag == ns.latency_samples());
  CHECK(lag <= 144);  // 3 ms
}

TEST("noise suppressor: at strength 0 the signal is reconstructed (SI-SDR > 40 dB)") {
  for (const double rate : {44100.0, 48000.0, 96000.0, 192000.0}) {
    const size_t n = static_cast<size_t>(2 * rate);
    const auto x = add(voice(n, rate, 0.1f), white(n, 0.01f, 11));
    NoiseSuppressor ns;
    ns.set_strength(0.0f);
    CHECK(ns.prepare({rate, 256, 1}));
    const auto y = run(ns, x, 100);
    CHECK(si_sdr(x, y, ns.latency_samples(), 1000, n - 1000) > 40.0);
    CHECK(ns.gain_reduction_db() < 0.01f);
  }
}

TEST("noise suppressor: steady white and pink noise are attenuated by at least 18 dB") {
  for (const double rate : {44100.0, 48000.0, 96000.0, 192000.0}) {
    const size_t n = static_cast<size_t>(3 * rate);
    for (int kind = 0; kind < 2; ++kind) {
      const auto x = kind == 0 ? white(n, 0.02f, 5) : pink(n, 0.02f, 6);
      NoiseSuppressor ns;
      CHECK(ns.prepare({rate, 256, 1}));
      const auto y = run(ns, x, 256);
      const double attenuation = db(power(x, n / 2, n) / power(y, n / 2, n));
      CHECK(attenuation >= 18.0);
      CHECK(ns.gain_reduction_db() >= 10.0f);  // the meter sees it (over its last 0.1 s only)
    }
  }
}

TEST("noise suppressor: a voice in noise keeps its level within 1 dB while its pauses get 10 dB quieter") {
  for (const double rate : {44100.0, 48000.0, 96000.0}) {
    const size_t n = static_cast<size_t>(4 * rate);
    const auto clean = voice(n, rate, 0.1f);
    const auto noise = pink(n, 0.01f, 9);  // 20 dB SNR in the syllables
    const auto y = suppress(rate, add(clean, noise));
    NoiseSuppressor ns;
    CHECK(ns.prepare({rate, 256, 1}));
    const size_t lag = ns.latency_samples();
    // The speech component of the output: projection onto the clean voice.
    double xy = 0.0, xx = 0.0;
    for (size_t i = n / 4; i + lag < n; ++i) {
      xy += static_cast<double>(clean[i]) * y[i + lag];
      xx += static_cast<double>(clean[i]) * clean[i];
    }
    CHECK(std::fabs(20.0 * std::log10(xy / xx)) < 1.0);
    // The last pause of the signal: 0.22..0.4 s into a 0.4 s period.
    const size_t period = static_cast<size_t>(0.4 * rate);
    const size_t start = (n / period - 1) * period;
    const size_t from = start + static_cast<size_t>(0.3 * rate), to = start + static_cast<size_t>(0.39 * rate);
    std::vector<float> shifted(y.begin() + lag, y.end());
    CHECK(db(power(noise, from, to) / power(shifted, from, to)) > 10.0);
  }
}

TEST("noise suppressor: output does not depend on the block size") {
  const double rate = 48000.0;
  const size_t n = 48000;
  const auto x = add(voice(n, rate, 0.1f), pink(n, 0.02f, 4));
  const auto ref = suppress(rate, x, 1);
  for (const uint32_t block : {17u, 64u, 256u}) {
    const auto y = suppress(rate, x, block);
    CHECK(std::equal(ref.begin(), ref.end(), y.begin()));
  }
}

TEST("noise suppressor: strength and floor are clamped and ramped without steps") {
  const double rate = 48000.0;
  const size_t n = 96000;
  const auto x = add(voice(n, rate, 0.1f), white(n, 0.02f, 8));
  NoiseSuppressor ns;
  CHECK(ns.prepare({rate, 256, 1}));
  ns.set_floor_db(-100.0f);
  ns.set_strength(NAN);
  auto y = x;
  ns.process(y.data(), 256);
  ns.set_strength(7.0f);
  ns.set_floor_db(12.0f);  // clamped to 0 dB: nothing is removed
  for (size_t i = 256; i < n; i += 256) ns.process(y.data() + i, 256);
  CHECK(ns.gain_reduction_db() < 0.01f);
  // Switching from full strength to none mid-signal: no sample jumps beyond the signal's own steps.
  NoiseSuppressor sw;
  CHECK(sw.prepare({rate, 256, 1}));
  auto z = x;
  float max_in_step = 0.0f, max_out_step = 0.0f;
  for (size_t i = 0; i < n; i += 64) {
    if (i == n / 2) sw.set_strength(0.0f);
    sw.process(z.data() + i, 64);
  }
  for (size_t i = 1; i < n; ++i) {
    max_in_step = std::max(max_in_step, std::fabs(x[i] - x[i - 1]));
    max_out_step = std::max(max_out_step, std::fabs(z[i] - z[i - 1]));
  }
  CHECK(max_out_step <= max_in_step);
}

TEST("noise suppressor: prepare rejects rates it cannot serve") {
  NoiseSuppressor ns;
  CHECK(!ns.prepare({1000.0, 256, 1}));
  CHECK(!ns.prepare({48000.0, 0, 1}));
  CHECK(ns.prepare({48000.0, 256, 1}));
  CHECK(ns.fft_size() == 1024);
  CHECK(ns.hop() == 96);
}

TEST("noise suppressor: noise that grows by 10 dB is tracked: 15 dB of it removed 3 s later") {
  const double rate = 48000.0;
  const size_t n = 6 * 48000, jump = 2 * 48000;
  auto x = pink(n, 0.003f, 12);
  for (size_t i = jump; i < n; ++i) x[i] *= 3.1623f;
  const auto y = suppress(rate, x, 128);
  CHECK(db(power(x, n - 48000, n) / power(y, n - 48000, n)) >= 15.0);
}

TEST("noise suppressor: silence stays silent and reset() gives the same output again") {
  NoiseSuppressor ns;
  CHECK(ns.prepare({48000.0, 256, 1}));
  std::vector<float> silence(48000, 0.0f);
  silence = run(ns, silence, 256);
  CHECK(std::all_of(silence.begin(), silence.end(), [](float v) { return v == 0.0f; }));
  const auto x = add(voice(48000, 48000.0, 0.1f), white(48000, 0.01f, 13));
  ns.reset();
  const auto first = run(ns, x, 256);
  ns.reset();
  const auto second = run(ns, x, 256);
  CHECK(std::equal(first.begin(), first.end(), second.begin()));
  CHECK(std::all_of(first.begin(), first.end(), [](float v) { return std::isfinite(v); }));
}

namespace {

// Steady tones: (frequency, amplitude) pairs, starting at `phase`.
std::vector<float> tones(size_t n, double rate, std::initializer_list<std::pair<double, double>> list) {
  std::vector<float> x(n, 0.0f);
  double phase = 0.3;
  for (const auto& [hz, amplitude] : list) {
    for (size_t i = 0; i < n; ++i)
      x[i] += static_cast<float>(amplitude * std::sin(2.0 * std::numbers::pi * hz * i / rate + phase));
    phase += 1.1;
  }
  return x;
}

std::vector<float> remove_tones(TonalRemover& tr, std::vector<float> x, uint32_t block) {
  for (size_t i = 0; i < x.size(); i += block)
    tr.process(x.data() + i, static_cast<uint32_t>(std::min<size_t>(block, x.size() - i)));
  return x;
}

// Amplitude of the component at hz over x[from, to) (Hann-weighted DFT).
double tone_amplitude(const std::vector<float>& x, size_t from, size_t to, double rate, double hz) {
  double re = 0.0, im = 0.0, wsum = 0.0;
  for (size_t i = from; i < to; ++i) {
    const double w = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * (i - from + 0.5) / (to - from));
    const double a = 2.0 * std::numbers::pi * hz * i / rate;
    re += w * x[i] * std::cos(a);
    im += w * x[i] * std::sin(a);
    wsum += w;
  }
  return 2.0 * std::sqrt(re * re + im * im) / wsum;
}

}  // namespace

TEST("tonal remover: mains hum and a fan's tones in pink noise are found within 0.1 Hz and cut by 30 dB") {
  for (const double rate : {44100.0, 48000.0, 192000.0}) {
    const size_t n = static_cast<size_t>(4 * rate);
    const auto hum = tones(n, rate, {{50.0, 0.05}, {100.0, 0.02}, {150.0, 0.02}, {178.0, 0.01}, {356.0, 0.005}});
    const auto noise = pink(n, 0.003f, 21);
    TonalRemover tr;
    CHECK(tr.prepare(rate));
    const auto y = remove_tones(tr, add(hum, noise), 64);
    CHECK(tr.tone_count() == 5);
    for (const double hz : {50.0, 100.0, 150.0, 178.0, 356.0}) {
      bool found = false;
      for (uint32_t i = 0; i < tr.tone_count(); ++i) found = found || std::fabs(tr.tone_hz(i) - hz) < 0.1;
      CHECK(found);
      // The last second: the tone is 30 dB down in the output.
      const double before = tone_amplitude(hum, n - static_cast<size_t>(rate), n, rate, hz);
      const double after = tone_amplitude(y, n - static_cast<size_t>(rate), n, rate, hz);
      CHECK(20.0 * std::log10(before / after) >= 30.0);
    }
    // The noise between the tones passes: the output's power equals the noise's within 0.3 dB.
    CHECK(std::fabs(db(power(y, n - static_cast<size_t>(rate), n) / power(noise, n - static_cast<size_t>(rate), n))) <
          0.3);
  }
}

TEST("tonal remover: noise alone and a gliding voice leave the signal untouched (no tone found)") {
  const double rate = 48000.0;
  const size_t n = 10 * 48000;
  for (int kind = 0; kind < 3; ++kind) {
    const auto x = kind == 0   ? pink(n, 0.02f, 31)
                   : kind == 1 ? white(n, 0.02f, 32)
                               : add(voice(n, rate, 0.1f), pink(n, 0.001f, 33));
    TonalRemover tr;
    CHECK(tr.prepare(rate));
    const auto y = remove_tones(tr, x, 128);
    CHECK(tr.tone_count() == 0);
    CHECK(std::equal(x.begin(), x.end(), y.begin()));
  }
}

TEST("tonal remover: a tone drifting 0.05 Hz/s is followed; one that stops is let go") {
  const double rate = 48000.0;
  const size_t n = 12 * 48000;
  std::vector<float> x = pink(n, 0.005f, 41);
  double phase = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double hz = 120.0 + 0.05 * i / rate;
    phase += 2.0 * std::numbers::pi * hz / rate;
    x[i] += static_cast<float>(0.05 * std::sin(phase));
  }
  TonalRemover tr;
  CHECK(tr.prepare(rate));
  const auto y = remove_tones(tr, x, 64);
  CHECK(tr.tone_count() == 1);
  CHECK(std::fabs(tr.tone_hz(0) - (120.0 + 0.05 * 12.0)) < 0.2);
  const double drifted = 120.0 + 0.05 * 11.5;
  CHECK(20.0 * std::log10(tone_amplitude(x, n - 48000, n, rate, drifted) /
                          tone_amplitude(y, n - 48000, n, rate, drifted)) >=
        20.0);
  // The tone stops: within 2 s there is no notch left.
  auto quiet = pink(2 * 48000, 0.005f, 42);
  remove_tones(tr, quiet, 64);
  CHECK(tr.tone_count() == 0);
}

TEST("tonal remover: while speech goes on, no new tone is learned") {
  const double rate = 48000.0;
  const size_t n = 4 * 48000;
  const auto x = add(tones(n, rate, {{60.0, 0.05}}), pink(n, 0.01f, 51));
  TonalRemover tr;
  CHECK(tr.prepare(rate));
  for (size_t i = 0; i < n; i += 96) {
    auto block = std::vector<float>(x.begin() + i, x.begin() + std::min(n, i + 96));
    tr.process(block.data(), static_cast<uint32_t>(block.size()));
    tr.note_speech(0.9f);
  }
  CHECK(tr.tone_count() == 0);
}

TEST("tonal remover: output does not depend on the block size; depth 0 removes nothing") {
  const double rate = 48000.0;
  const size_t n = 3 * 48000;
  const auto x = add(tones(n, rate, {{50.0, 0.05}, {150.0, 0.02}}), pink(n, 0.01f, 61));
  TonalRemover a;
  CHECK(a.prepare(rate));
  const auto ref = remove_tones(a, x, 1);
  CHECK(a.tone_count() == 2);
  for (const uint32_t block : {17u, 64u, 500u}) {
    TonalRemover b;
    CHECK(b.prepare(rate));
    const auto y = remove_tones(b, x, block);
    CHECK(std::equal(ref.begin(), ref.end(), y.begin()));
  }
  TonalRemover off;
  CHECK(off.prepare(rate));
  off.set_depth(0.0f);
  const auto y = remove_tones(off, x, 64);
  CHECK(off.tone_count() == 2);
  CHECK(std::equal(x.begin(), x.end(), y.begin()));
  CHECK(!off.prepare(4000.0));
}

TEST("tonal remover: the analysis is spread over the samples, a few small steps per 64-sample block, never a lump") {
  for (const double rate : {44100.0, 48000.0, 192000.0}) {
    const size_t n = static_cast<size_t>(4 * rate);
    const auto x = add(tones(n, rate, {{50.0, 0.05}, {100.0, 0.02}, {178.0, 0.01}}), pink(n, 0.003f, 71));
    TonalRemover tr;
    CHECK(tr.prepare(rate));
    const uint32_t block = 64;
    // A block's share of a hop's worst case, rounded up, plus the one step a hop boundary may add.
    const double decimated_per_block = static_cast<double>(block) * tr.max_steps_per_hop() / tr.hop_samples();
    const auto bound = static_cast<uint64_t>(std::ceil(decimated_per_block)) + 2;
    uint64_t most = 0;
    auto y = x;
    for (size_t i = 0; i + block <= n; i += block) {
      const uint64_t before = tr.analysis_steps();
      tr.process(y.data() + i, block);
      most = std::max<uint64_t>(most, tr.analysis_steps() - before);
    }
    CHECK(most <= bound);
    CHECK(most >= 1);
    // Every analysis still completes: about 4 s / 0.256 s of them, each tens of steps.
    CHECK(tr.analysis_steps() > 10 * 30);
    CHECK(tr.tone_count() == 3);
  }
}

TEST("tonal remover: with more peaks than it tests, the most prominent steady ones are still the tones") {
  // Twenty steady tones 90 Hz apart, each louder than the one below it (the
  // loudest last in bin order): more candidates than kMaxCandidates; the
  // kMaxTones loudest are followed.
  const double rate = 48000.0;
  const size_t n = 5 * 48000;
  std::vector<float> x = white(n, 0.001f, 81);  // flat: prominence goes with amplitude
  std::vector<double> hz;
  for (int k = 0; k < 20; ++k) {
    hz.push_back(60.0 + 90.0 * k);
    const double amplitude = 0.02 * std::pow(0.8, 19 - k);
    for (size_t i = 0; i < n; ++i)
      x[i] += static_cast<float>(amplitude * std::sin(2.0 * std::numbers::pi * hz[k] * i / rate + k));
  }
  TonalRemover tr;
  CHECK(tr.prepare(rate));
  remove_tones(tr, x, 64);
  CHECK(tr.tone_count() == TonalRemover::kMaxTones);
  for (uint32_t k = 20 - TonalRemover::kMaxTones; k < 20; ++k) {
    bool found = false;
    for (uint32_t i = 0; i < tr.tone_count(); ++i) found = found || std::fabs(tr.tone_hz(i) - hz[k]) < 0.1;
    CHECK(found);
  }
}

TEST("noise suppressor: a voice over loud 50 Hz hum: the hum goes (30 dB), the voice stays") {
  const double rate = 48000.0;
  const size_t n = 6 * 48000;
  auto clean = voice(n, rate, 0.1f);
  std::fill(clean.begin(), clean.begin() + 24000, 0.0f);  // half a second of hum first
  const auto hum = tones(n, rate, {{50.0, 0.2}, {100.0, 0.1}, {150.0, 0.08}, {250.0, 0.04}});
  const auto y = suppress(rate, add(clean, add(hum, white(n, 0.0005f, 71))));
  NoiseSuppressor ns;
  CHECK(ns.prepare({rate, 256, 1}));
  const size_t lag = ns.latency_samples();
  std::vector<float> shifted(y.begin() + lag, y.end());
  shifted.resize(n, 0.0f);
  const size_t from = n - 2 * 48000, to = n - 1000;
  CHECK(20.0 * std::log10(tone_amplitude(hum, from, to, rate, 50.0) / tone_amplitude(shifted, from, to, rate, 50.0)) >=
        30.0);
  CHECK(si_sdr(clean, y, lag, from, to) > 10.0);
}

TEST("noise suppressor: loud noise, then near silence, then digital silence: every output sample stays finite") {
  // The gains' noise estimate is the slow average clamped to the tracker; when the two are 70 dB
  // apart a branch-free min/max cancels to 0, and 0 power over a 0 estimate was NaN.
  const double rate = 48000.0;
  auto x = white(5 * 48000, 0.3f, 81);
  for (size_t i = 2 * 48000; i < 4 * 48000; ++i) x[i] *= 1e-6f;
  for (size_t i = 4 * 48000; i < x.size(); ++i) x[i] = 0.0f;
  const auto y = suppress(rate, x, 64);
  CHECK(std::all_of(y.begin(), y.end(), [](float v) { return std::isfinite(v); }));
  CHECK(std::all_of(y.end() - 24000, y.end(), [](float v) { return v == 0.0f; }));
}

TEST(
    "noise suppressor: random stretches of silence, noise, tones, square waves, DC and clicks at -140..0 dBFS stay "
    "finite and bounded") {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 6; ++trial) {
    for (const double rate : {44100.0, 192000.0}) {
      NoiseSuppressor ns;
      CHECK(ns.prepare({rate, 512, 1}));
      std::vector<float> x(static_cast<size_t>(rate * 6));
      for (size_t i = 0; i < x.size();) {
        const size_t len = std::uniform_int_distribution<size_t>(100, static_cast<size_t>(rate))(rng);
        const unsigned kind = rng() % 6;
        const double level = std::pow(10.0, -std::uniform_real_distribution<double>(0.0, 140.0)(rng) / 20.0);
        const double hz = std::uniform_real_distribution<double>(20.0, 8000.0)(rng);
        std::uniform_real_distribution<double> u(-1.0, 1.0);
        for (size_t k = 0; k < len && i < x.size(); ++k, ++i) {
          double v = 0.0;
          if (kind == 1) v = level * u(rng);
          if (kind == 2) v = level * std::sin(2.0 * std::numbers::pi * hz * static_cast<double>(i) / rate);
          if (kind == 3) v = (k % 2 ? 1.0 : -1.0) * level;
          if (kind == 4) v = level;
          if (kind == 5) v = k == 0 ? 1.0 : 0.0;
          x[i] = static_cast<float>(v);
        }
      }
      for (size_t p = 0; p < x.size();) {
        const auto n = static_cast<uint32_t>(std::min<size_t>(1 + rng() % 512, x.size() - p));
        ns.process(x.data() + p, n);
        p += n;
      }
      CHECK(std::all_of(x.begin(), x.end(), [](float v) { return std::isfinite(v) && std::fabs(v) <= 4.0f; }));
    }
  }
}
