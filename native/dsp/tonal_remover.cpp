#include "tonal_remover.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <numbers>

namespace hushbox::dsp {

namespace {

using V4 = float __attribute__((vector_size(16)));

constexpr double kDecimatedRate = 8000.0;  // at least; the decimation factor is an integer
constexpr double kWindowSeconds = 0.45;    // at least; rounded up to a power of two
constexpr double kPeakGuardHz = 16.0;      // a tone is the largest bin within this
constexpr double kSideNearHz = 18.0;       // its neighbourhood: 18..40 Hz to either side (mains
constexpr double kSideFarHz = 40.0;        // harmonics, 50 Hz apart, stay out of each other's)
constexpr double kMatchHz = 2.0;           // a tone found again within this of where it was is the same tone
constexpr uint32_t kMissesToDrop = 6;
constexpr double kVerifyFollowHz = 0.2;  // with speech about, a tone is followed only this far per window
constexpr double kRampSeconds = 0.1;
constexpr uint32_t kQuarters = 4;
constexpr double kSteadiness = 0.35;      // sum |Xq - mean| / sum |Xq| over the quarters of a steady tone
constexpr float kQuietPresence = 0.3f;    // mean speech presence of a hop without speech
constexpr double kFloorAmplitude = 1e-5;  // -100 dBFS: quieter tones are left alone

}  // namespace

bool TonalRemover::prepare(double rate) {
  if (!(rate >= 8000.0 && rate <= 384000.0)) return false;
  rate_ = rate;
  decimation_ = std::max<uint32_t>(1, static_cast<uint32_t>(rate / kDecimatedRate));
  fs_dec_ = rate / decimation_;
  // Windowed sinc, cut-off at half the decimated rate: flat to a quarter of
  // it (kMaxHz), -74 dB from three quarters on, so nothing folds into the
  // analysed band.
  taps_ = (12 * decimation_ + 7) / 8 * 8;
  fir_.assign(taps_, 0.0f);
  const double fc = 0.5 / decimation_;
  const double centre = 0.5 * (taps_ - 1);
  double sum = 0.0;
  std::vector<double> h(taps_);
  for (uint32_t i = 0; i < taps_; ++i) {
    const double t = i - centre;
    const double sinc = t == 0.0 ? 2.0 * fc : std::sin(2.0 * std::numbers::pi * fc * t) / (std::numbers::pi * t);
    const double a = 2.0 * std::numbers::pi * i / (taps_ - 1);
    const double blackman = 0.42 - 0.5 * std::cos(a) + 0.08 * std::cos(2.0 * a);
    h[i] = sinc * blackman;
    sum += h[i];
  }
  for (uint32_t i = 0; i < taps_; ++i) fir_[i] = static_cast<float>(h[i] / sum);
  line_.assign(taps_ - 1 + 4 * kChunk, 0.0f);

  size_ = 8;
  while (size_ < kWindowSeconds * fs_dec_) size_ <<= 1;
  hop_ = size_ / 2;
  if (!fft_.prepare(size_)) return false;
  window_.assign(size_, 0.0f);
  double window_sum = 0.0;
  for (uint32_t i = 0; i < size_; ++i) {
    const double a = 2.0 * std::numbers::pi * (i + 0.5) / size_;  // 4-term Blackman-Harris
    const double w = 0.35875 - 0.48829 * std::cos(a) + 0.14128 * std::cos(2.0 * a) - 0.01168 * std::cos(3.0 * a);
    window_[i] = static_cast<float>(w);
    window_sum += w;
  }
  quarter_window_.assign(size_ / kQuarters, 0.0f);
  for (uint32_t i = 0; i < size_ / kQuarters; ++i)
    quarter_window_[i] =
        static_cast<float>(0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * (i + 0.5) / (size_ / kQuarters)));
  decimated_.assign(size_, 0.0f);
  frame_.assign(size_, 0.0f);
  re_.assign(size_ / 2 + 1, 0.0f);
  im_.assign(size_ / 2 + 1, 0.0f);
  const double bin_hz = fs_dec_ / size_;
  guard_ = static_cast<uint32_t>(std::lround(kPeakGuardHz / bin_hz));
  near_ = static_cast<uint32_t>(std::ceil(kSideNearHz / bin_hz));
  far_ = static_cast<uint32_t>(kSideFarHz / bin_hz);
  bin_lo_ = static_cast<uint32_t>(std::ceil(kMinHz * size_ / fs_dec_));
  bin_hi_ = static_cast<uint32_t>(kMaxHz * size_ / fs_dec_);
  bins_ = std::min(size_ / 2 + 1, bin_hi_ + far_ + 1);
  bin_hi_ = std::min(bin_hi_, bins_ - far_ - 1);
  bin_lo_ = std::max(bin_lo_, near_ + 4);  // at least 4 bins (past DC) on the low side
  power_.assign(kHistory * bins_, 0.0f);
  minimum_.assign(bins_, 0.0f);
  const double peak = kFloorAmplitude * 0.5 * window_sum;
  floor_power_ = static_cast<float>(peak * peak);

  const auto ramp = static_cast<uint32_t>(kRampSeconds * rate);
  for (auto& t : tones_) t.level.prepare(ramp, 0.0f);
  reset();
  return true;
}

void TonalRemover::reset() noexcept {
  std::fill(line_.begin(), line_.end(), 0.0f);
  line_fill_ = taps_ - 1;
  phase_ = 0;
  filled_ = 0;
  history_index_ = 0;
  analyses_ = 0;
  active_ = 0;
  frames_ = 0;
  presence_sum_ = 0.0f;
  last_hop_quiet_ = false;
  for (auto& t : tones_) {
    t.bp.reset();
    t.level.set_target(0.0f);
    t.level.snap();
    t.hz = 0.0;
    t.misses = 0;
    t.live = false;
  }
}

uint32_t TonalRemover::tone_count() const noexcept {
  uint32_t n = 0;
  for (const auto& t : tones_) n += t.live ? 1 : 0;
  return n;
}

double TonalRemover::tone_hz(uint32_t i) const noexcept {
  for (const auto& t : tones_) {
    if (!t.live) continue;
    if (i == 0) return t.hz;
    --i;
  }
  return 0.0;
}

bool TonalRemover::decimate(const float* x, uint32_t m) noexcept {
  // line_[0 .. line_fill_) ends with the last taps_ - 1 samples before x;
  // new samples are appended, and the tail moved back to the front only when
  // the line is full. The decimated sample due at x[j] is the filter over the
  // taps_ samples ending at x[j]. The filter is symmetric, so the order does
  // not matter. Eight partial sums in two 4-float vectors (GCC vector
  // extension: SSE on x86-64, NEON on ARM64).
  float* line = line_.data();
  if (line_fill_ + m > line_.size()) {
    std::memmove(line, line + line_fill_ - (taps_ - 1), (taps_ - 1) * sizeof(float));
    line_fill_ = taps_ - 1;
  }
  std::memcpy(line + line_fill_, x, m * sizeof(float));
  const float* h = fir_.data();
  const uint32_t before = filled_;
  const float* first = line + line_fill_ - (taps_ - 1);  // window of x[0]
  for (uint32_t j = decimation_ - phase_ - 1; j < m; j += decimation_) {
    const float* s = first + j;
    V4 a0 = {0.0f, 0.0f, 0.0f, 0.0f}, a1 = a0;
    for (uint32_t i = 0; i < taps_; i += 8) {
      V4 s0, s1, h0, h1;
      std::memcpy(&s0, s + i, sizeof(V4));
      std::memcpy(&s1, s + i + 4, sizeof(V4));
      std::memcpy(&h0, h + i, sizeof(V4));
      std::memcpy(&h1, h + i + 4, sizeof(V4));
      a0 += s0 * h0;
      a1 += s1 * h1;
    }
    const V4 a = a0 + a1;
    decimated_[filled_++] = (a[0] + a[1]) + (a[2] + a[3]);
  }
  phase_ = (phase_ + m) % decimation_;
  line_fill_ += m;
  return filled_ != before && filled_ % hop_ == 0;
}

void TonalRemover::end_of_hop() noexcept {
  // Speech in this hop or in the one before (a window spans both): the
  // window is not analysed for new tones, only for those followed.
  const bool quiet = presence_sum_ <= kQuietPresence * static_cast<float>(frames_);
  const bool usable = quiet && last_hop_quiet_;
  last_hop_quiet_ = quiet;
  frames_ = 0;
  presence_sum_ = 0.0f;
  if (filled_ < size_) return;
  if (usable) {
    analyse();
  } else {
    verify();
  }
  update_active();
  std::memmove(decimated_.data(), decimated_.data() + hop_, (size_ - hop_) * sizeof(float));
  filled_ = size_ - hop_;
}

void TonalRemover::analyse() noexcept {
  for (uint32_t i = 0; i < size_; ++i) frame_[i] = decimated_[i] * window_[i];
  fft_.forward(frame_.data(), re_.data(), im_.data());
  float* latest = power_.data() + history_index_ * bins_;
  for (uint32_t k = 0; k < bins_; ++k) latest[k] = re_[k] * re_[k] + im_[k] * im_[k];
  history_index_ = (history_index_ + 1) % kHistory;
  if (analyses_ < kHistory) ++analyses_;
  // The ring fills from index 0 after a reset: entries 0 .. analyses_ - 1 are valid.
  float* m = minimum_.data();
  std::memcpy(m, power_.data(), bins_ * sizeof(float));
  for (uint32_t h = 1; h < analyses_; ++h) {
    const float* p = power_.data() + h * bins_;
    for (uint32_t k = 0; k < bins_; ++k) m[k] = std::min(m[k], p[k]);
  }

  double found_hz[kMaxTones];
  float found_prominence[kMaxTones];
  uint32_t found = 0;
  if (analyses_ >= 1) {
    const float threshold = std::pow(10.0f, kProminenceDb / 10.0f);
    for (uint32_t k = bin_lo_; k <= bin_hi_; ++k) {
      const float v = m[k];
      if (!(v > floor_power_)) continue;
      bool top = true;
      for (uint32_t j = k - guard_; j <= k + guard_ && top; ++j) {
        if (j != k && (m[j] > v || (m[j] == v && j < k))) top = false;
      }
      if (!top) continue;
      float left = 0.0f, right = 0.0f;
      const uint32_t lo = k > far_ ? k - far_ : 1;
      for (uint32_t j = lo; j <= k - near_; ++j) left += m[j];
      left /= static_cast<float>(k - near_ - lo + 1);
      for (uint32_t j = k + near_; j <= k + far_; ++j) right += m[j];
      right /= static_cast<float>(far_ - near_ + 1);
      const float background = std::sqrt(left * right);
      if (!(v > threshold * background)) continue;
      const float prominence = background > 0.0f ? v / background : 1e30f;
      // Where the tone is: a parabola through the latest analysis' log power.
      const double a = std::log(std::max(latest[k - 1], 1e-30f));
      const double b = std::log(std::max(latest[k], 1e-30f));
      const double c = std::log(std::max(latest[k + 1], 1e-30f));
      const double curve = a - 2.0 * b + c;
      double delta = curve < 0.0 ? 0.5 * (a - c) / curve : 0.0;
      delta = std::clamp(delta, -0.5, 0.5);
      double hz = (k + delta) * fs_dec_ / size_;
      if (!steady(hz)) continue;
      // Keep the kMaxTones most prominent, most prominent first.
      uint32_t at = found;
      while (at > 0 && found_prominence[at - 1] < prominence) --at;
      if (at >= kMaxTones) continue;
      const uint32_t last = std::min(found, kMaxTones - 1);
      for (uint32_t i = last; i > at; --i) {
        found_hz[i] = found_hz[i - 1];
        found_prominence[i] = found_prominence[i - 1];
      }
      found_hz[at] = hz;
      found_prominence[at] = prominence;
      if (found < kMaxTones) ++found;
    }
  }
  follow(found_hz, found);
}

void TonalRemover::verify() noexcept {
  // A window with speech: no new tones, but those followed must still be
  // there, steady (a voice held still for a moment, or a sound that was
  // never a tone, goes after kMissesToDrop such windows).
  for (auto& t : tones_) {
    if (!t.live) continue;
    double hz = t.hz;
    if (steady(hz)) {
      t.misses = 0;
      if (std::fabs(hz - t.hz) > 1e-3 && std::fabs(hz - t.hz) < kVerifyFollowHz) t.retune(rate_, hz);
    } else if (++t.misses >= kMissesToDrop) {
      t.drop();
    }
  }
}

bool TonalRemover::steady(double& hz) const noexcept {
  // The component at hz in each quarter of the window, against one time
  // origin: a steady tone gives the same complex value four times over; a
  // voice's harmonic, whose pitch moves, or a burst, does not. The phase
  // advance from quarter to quarter refines the frequency first.
  const uint32_t q = size_ / kQuarters;
  std::complex<double> x[kQuarters];
  for (int pass = 0; pass < 2; ++pass) {
    const double w = -2.0 * std::numbers::pi * hz / fs_dec_;
    const std::complex<double> step(std::cos(w), std::sin(w));
    std::complex<double> phasor(1.0, 0.0);
    for (uint32_t part = 0; part < kQuarters; ++part) {
      std::complex<double> acc(0.0, 0.0);
      const float* d = decimated_.data() + part * q;
      for (uint32_t i = 0; i < q; ++i) {
        acc += static_cast<double>(d[i] * quarter_window_[i]) * phasor;
        phasor *= step;
      }
      phasor /= std::abs(phasor);
      x[part] = acc;
    }
    if (pass == 1) break;
    std::complex<double> advance(0.0, 0.0);
    for (uint32_t part = 1; part < kQuarters; ++part) advance += x[part] * std::conj(x[part - 1]);
    const double delta = std::arg(advance) * fs_dec_ / (2.0 * std::numbers::pi * q);
    if (!(std::fabs(delta) < kMatchHz)) return false;
    hz += delta;
  }
  std::complex<double> mean(0.0, 0.0);
  double total = 0.0;
  for (const auto& v : x) {
    mean += v;
    total += std::abs(v);
  }
  mean /= static_cast<double>(kQuarters);
  double spread = 0.0;
  for (const auto& v : x) spread += std::abs(v - mean);
  return total > 0.0 && spread < kSteadiness * total;
}

void TonalRemover::follow(const double* found_hz, uint32_t found) noexcept {
  bool taken[kMaxTones] = {};
  // Tones already followed (or fading out) that are found again: same place
  // within kMatchHz.
  for (auto& t : tones_) {
    if (!t.sounding()) continue;
    int best = -1;
    double best_distance = kMatchHz;
    for (uint32_t i = 0; i < found; ++i) {
      const double d = std::fabs(found_hz[i] - t.hz);
      if (!taken[i] && d <= best_distance) {
        best = static_cast<int>(i);
        best_distance = d;
      }
    }
    if (best >= 0) {
      taken[best] = true;
      t.misses = 0;
      if (!t.live) {
        t.live = true;
        t.level.set_target(1.0f);
      }
      if (std::fabs(found_hz[best] - t.hz) > 1e-3) t.retune(rate_, found_hz[best]);
    } else if (t.live && ++t.misses >= kMissesToDrop) {
      t.drop();
    }
  }
  // New tones take free slots.
  for (uint32_t i = 0; i < found; ++i) {
    if (taken[i]) continue;
    for (auto& t : tones_) {
      if (t.sounding()) continue;
      t.live = true;
      t.misses = 0;
      t.retune(rate_, found_hz[i]);
      t.bp.reset();
      t.level.set_target(1.0f);
      break;
    }
  }
}

void TonalRemover::update_active() noexcept {
  active_ = 0;
  for (uint32_t s = 0; s < kMaxTones; ++s) active_ |= tones_[s].sounding() ? 1u << s : 0u;
}

void TonalRemover::process(float* x, uint32_t n) noexcept {
  while (n > 0) {
    // Up to the sample that completes the hop under way (an analysis there
    // applies from the next sample on, whatever the block size).
    const uint32_t outputs_left = hop_ - filled_ % hop_;
    const uint64_t to_hop = static_cast<uint64_t>(outputs_left - 1) * decimation_ + (decimation_ - phase_);
    const auto m = static_cast<uint32_t>(std::min<uint64_t>({n, kChunk, to_hop}));
    const bool hop_done = decimate(x, m);
    // The notches, one after the other (a cascade: each on the previous one's output).
    if (active_ != 0) {
      const double depth = depth_;
      for (uint32_t s = 0; s < kMaxTones; ++s) {
        if ((active_ & (1u << s)) == 0) continue;
        Tone& t = tones_[s];
        if (t.level.smoothing()) {
          for (uint32_t i = 0; i < m; ++i)
            x[i] = static_cast<float>(x[i] - depth * t.level.next() * t.bp.process(x[i]));
        } else {
          const double d = depth * t.level.current();
          for (uint32_t i = 0; i < m; ++i) x[i] = static_cast<float>(x[i] - d * t.bp.process(x[i]));
        }
      }
    }
    if (hop_done) end_of_hop();
    x += m;
    n -= m;
  }
}

}  // namespace hushbox::dsp
