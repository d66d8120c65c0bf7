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
// Work per analysis step, about the same for each kind (a few microseconds).
constexpr uint32_t kWindowChunk = 512;  // samples windowed
constexpr uint32_t kPowerChunk = 256;   // bins: power and the minimum over the history
constexpr uint32_t kPeakChunk = 64;     // bins searched for peaks
constexpr uint32_t kSteadyChunk = 256;  // samples of a quarter in a steadiness test

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
  decimated_.assign(3 * static_cast<size_t>(hop_), 0.0f);
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
  // An analysis takes at most: the window, the FFT, the power, the peaks and
  // a steadiness test (2 passes x 4 quarters, in chunks) per candidate; spread over a hop.
  const uint32_t quarter_steps = (size_ / kQuarters + kSteadyChunk - 1) / kSteadyChunk;
  max_steps_ = (size_ + kWindowChunk - 1) / kWindowChunk + 1 + (bins_ + kPowerChunk - 1) / kPowerChunk +
               (bin_hi_ - bin_lo_ + kPeakChunk) / kPeakChunk + kMaxCandidates * 2 * kQuarters * quarter_steps;
  if (max_steps_ > hop_) return false;

  const auto ramp = static_cast<uint32_t>(kRampSeconds * rate);
  for (auto& t : tones_) t.level.prepare(ramp, 0.0f);
  reset();
  return true;
}

void TonalRemover::reset() noexcept {
  std::fill(line_.begin(), line_.end(), 0.0f);
  line_fill_ = taps_ - 1;
  phase_dec_ = 0;
  slot_ = 0;
  hop_fill_ = 0;
  hops_ = 0;
  phase_ = Phase::kIdle;
  steps_run_ = 0;
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
  float* out = decimated_.data() + static_cast<size_t>(slot_) * hop_;
  const uint32_t before = hop_fill_;
  const float* first = line + line_fill_ - (taps_ - 1);  // window of x[0]
  for (uint32_t j = decimation_ - phase_dec_ - 1; j < m; j += decimation_) {
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
    out[hop_fill_++] = (a[0] + a[1]) + (a[2] + a[3]);
  }
  phase_dec_ = (phase_dec_ + m) % decimation_;
  line_fill_ += m;
  return hop_fill_ != before && hop_fill_ == hop_;
}

void TonalRemover::end_of_hop() noexcept {
  // Speech in this hop or in the one before (a window spans both): the
  // window is not analysed for new tones, only for those followed.
  const bool quiet = presence_sum_ <= kQuietPresence * static_cast<float>(frames_);
  const bool usable = quiet && last_hop_quiet_;
  last_hop_quiet_ = quiet;
  frames_ = 0;
  presence_sum_ = 0.0f;
  // The analysis of the window before is complete (its steps were due by now): it applies from here on.
  if (phase_ != Phase::kIdle) {
    run_steps(max_steps_);
    apply();
  }
  if (hops_ < 2) ++hops_;
  if (hops_ >= 2) {
    // This hop and the one before are the window; the next hop goes to the third slot.
    analysing_ = usable;
    first_slot_ = (slot_ + 2) % 3;
    second_slot_ = slot_;
    cursor_ = 0;
    tested_ = 0;
    found_ = 0;
    candidates_ = 0;
    checked_ = 0;
    if (analysing_) {
      phase_ = Phase::kWindow;
    } else {
      for (uint32_t s = 0; s < kMaxTones; ++s) {
        checked_ |= tones_[s].live ? 1u << s : 0u;
        verified_[s] = false;
        verified_hz_[s] = tones_[s].hz;
      }
      phase_ = Phase::kSteady;
      next_candidate();
    }
  }
  steps_run_ = 0;
  slot_ = (slot_ + 1) % 3;
  hop_fill_ = 0;
}

const float* TonalRemover::quarter(uint32_t part) const noexcept {
  const uint32_t q = size_ / kQuarters;
  const uint32_t slot = part < kQuarters / 2 ? first_slot_ : second_slot_;
  return decimated_.data() + static_cast<size_t>(slot) * hop_ + (part % (kQuarters / 2)) * q;
}

void TonalRemover::run_steps(uint32_t due) noexcept {
  while (steps_run_ < due && phase_ != Phase::kIdle && phase_ != Phase::kDone) {
    step();
    ++steps_run_;
    ++steps_total_;
  }
}

void TonalRemover::step() noexcept {
  switch (phase_) {
    case Phase::kWindow: window_step(); break;
    case Phase::kFft:
      fft_.forward(frame_.data(), re_.data(), im_.data());
      phase_ = Phase::kPower;
      cursor_ = 0;
      break;
    case Phase::kPower: power_step(); break;
    case Phase::kPeaks: peaks_step(); break;
    case Phase::kSteady: {
      const int r = steady_step();
      if (r == 0) break;
      if (analysing_) {
        // Candidates come most prominent first: the steady ones are the tones, in that order.
        if (r > 0) found_hz_[found_++] = test_.hz;
        ++tested_;
        if (found_ >= kMaxTones || tested_ >= candidates_) {
          phase_ = Phase::kDone;
          break;
        }
        start_steady(candidate_hz_[tested_]);
      } else {
        verified_[tested_] = r > 0;
        verified_hz_[tested_] = test_.hz;
        ++tested_;
        next_candidate();
      }
      break;
    }
    default: break;
  }
}

void TonalRemover::window_step() noexcept {
  const uint32_t half = size_ / 2;
  const uint32_t end = std::min(cursor_ + kWindowChunk, size_);
  for (uint32_t i = cursor_; i < end; ++i) {
    const float* d = decimated_.data() + static_cast<size_t>(i < half ? first_slot_ : second_slot_) * hop_;
    frame_[i] = d[i % half] * window_[i];
  }
  cursor_ = end;
  if (cursor_ >= size_) phase_ = Phase::kFft;
}

void TonalRemover::power_step() noexcept {
  if (cursor_ == 0) {
    latest_ = history_index_;
    history_index_ = (history_index_ + 1) % kHistory;
    if (analyses_ < kHistory) ++analyses_;
  }
  float* latest = power_.data() + latest_ * bins_;
  float* m = minimum_.data();
  const uint32_t end = std::min(cursor_ + kPowerChunk, bins_);
  for (uint32_t k = cursor_; k < end; ++k) {
    latest[k] = re_[k] * re_[k] + im_[k] * im_[k];
    // The ring fills from index 0 after a reset: entries 0 .. analyses_ - 1 are valid.
    float v = power_[k];
    for (uint32_t h = 1; h < analyses_; ++h) v = std::min(v, power_[h * bins_ + k]);
    m[k] = v;
  }
  cursor_ = end;
  if (cursor_ >= bins_) {
    phase_ = Phase::kPeaks;
    cursor_ = bin_lo_;
  }
}

void TonalRemover::peaks_step() noexcept {
  const float* m = minimum_.data();
  const float* latest = power_.data() + latest_ * bins_;
  const float threshold = std::pow(10.0f, kProminenceDb / 10.0f);
  const uint32_t end = std::min(cursor_ + kPeakChunk, bin_hi_ + 1);
  for (uint32_t k = cursor_; k < end; ++k) {
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
    // Keep the kMaxCandidates most prominent, most prominent first (equal ones in the order found).
    uint32_t at = candidates_;
    while (at > 0 && candidate_prominence_[at - 1] < prominence) --at;
    if (at >= kMaxCandidates) continue;
    const uint32_t last = std::min(candidates_, kMaxCandidates - 1);
    for (uint32_t i = last; i > at; --i) {
      candidate_hz_[i] = candidate_hz_[i - 1];
      candidate_prominence_[i] = candidate_prominence_[i - 1];
    }
    candidate_hz_[at] = (k + delta) * fs_dec_ / size_;
    candidate_prominence_[at] = prominence;
    if (candidates_ < kMaxCandidates) ++candidates_;
  }
  cursor_ = end;
  if (cursor_ > bin_hi_) {
    if (candidates_ == 0) {
      phase_ = Phase::kDone;
    } else {
      phase_ = Phase::kSteady;
      start_steady(candidate_hz_[0]);
    }
  }
}

void TonalRemover::next_candidate() noexcept {
  // Checking the followed tones: the next live slot, or done.
  while (tested_ < kMaxTones && (checked_ & (1u << tested_)) == 0) ++tested_;
  if (tested_ >= kMaxTones) {
    phase_ = Phase::kDone;
    return;
  }
  start_steady(tones_[tested_].hz);
}

void TonalRemover::start_steady(double hz) noexcept {
  test_.hz = hz;
  test_.pass = 0;
  test_.part = 0;
  test_.offset = 0;
  test_.acc = {0.0, 0.0};
  test_.phasor = {1.0, 0.0};
  const double w = -2.0 * std::numbers::pi * hz / fs_dec_;
  test_.step = {std::cos(w), std::sin(w)};
}

int TonalRemover::steady_step() noexcept {
  // The component at hz in each quarter of the window, against one time
  // origin: a steady tone gives the same complex value four times over; a
  // voice's harmonic, whose pitch moves, or a burst, does not. The phase
  // advance from quarter to quarter refines the frequency first (pass 0),
  // then the quarters are measured again there (pass 1).
  SteadyTest& t = test_;
  const uint32_t q = size_ / kQuarters;
  std::complex<double> acc = t.acc;
  std::complex<double> phasor = t.phasor;
  const std::complex<double> step = t.step;
  const float* d = quarter(t.part);
  const uint32_t end = std::min(t.offset + kSteadyChunk, q);
  for (uint32_t i = t.offset; i < end; ++i) {
    acc += static_cast<double>(d[i] * quarter_window_[i]) * phasor;
    phasor *= step;
  }
  t.offset = end;
  if (end < q) {
    t.acc = acc;
    t.phasor = phasor;
    return 0;
  }
  phasor /= std::abs(phasor);
  t.phasor = phasor;
  t.x[t.part] = acc;
  t.acc = {0.0, 0.0};
  t.offset = 0;
  if (++t.part < kQuarters) return 0;
  if (t.pass == 0) {
    std::complex<double> advance(0.0, 0.0);
    for (uint32_t part = 1; part < kQuarters; ++part) advance += t.x[part] * std::conj(t.x[part - 1]);
    const double delta = std::arg(advance) * fs_dec_ / (2.0 * std::numbers::pi * q);
    if (!(std::fabs(delta) < kMatchHz)) return -1;
    const double hz = t.hz + delta;
    start_steady(hz);
    t.pass = 1;
    return 0;
  }
  std::complex<double> mean(0.0, 0.0);
  double total = 0.0;
  for (const auto& v : t.x) {
    mean += v;
    total += std::abs(v);
  }
  mean /= static_cast<double>(kQuarters);
  double spread = 0.0;
  for (const auto& v : t.x) spread += std::abs(v - mean);
  return total > 0.0 && spread < kSteadiness * total ? 1 : -1;
}

void TonalRemover::apply() noexcept {
  if (analysing_) {
    follow(found_hz_, found_);
  } else {
    // A window with speech: no new tones, but those followed must still be
    // there, steady (a voice held still for a moment, or a sound that was
    // never a tone, goes after kMissesToDrop such windows).
    for (uint32_t s = 0; s < kMaxTones; ++s) {
      if ((checked_ & (1u << s)) == 0) continue;
      Tone& t = tones_[s];
      const double hz = verified_hz_[s];
      if (verified_[s]) {
        t.misses = 0;
        if (std::fabs(hz - t.hz) > 1e-3 && std::fabs(hz - t.hz) < kVerifyFollowHz) t.retune(rate_, hz);
      } else if (++t.misses >= kMissesToDrop) {
        t.drop();
      }
    }
  }
  update_active();
  phase_ = Phase::kIdle;
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
    const uint32_t outputs_left = hop_ - hop_fill_;
    const uint64_t to_hop = static_cast<uint64_t>(outputs_left - 1) * decimation_ + (decimation_ - phase_dec_);
    const auto m = static_cast<uint32_t>(std::min<uint64_t>({n, kChunk, to_hop}));
    const bool hop_done = decimate(x, m);
    // The analysis of the window before, a fixed share per decimated sample, done by the end of this hop.
    if (phase_ != Phase::kIdle && !hop_done)
      run_steps(static_cast<uint32_t>((static_cast<uint64_t>(max_steps_) * hop_fill_ + hop_ - 1) / hop_));
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
