#include "noise_suppressor.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numbers>

namespace hushbox::dsp {

namespace {

constexpr double kReferenceRate = 48000.0;
constexpr uint32_t kReferenceHop = 96;     // 2 ms at 48 kHz
constexpr uint32_t kReferenceSynth = 144;  // 3 ms: the synthesis window, so the latency is 143 samples
constexpr double kAnalysisSeconds = 0.02;  // rounded up to a power of two: 1024 at 48 kHz
constexpr uint32_t kSubWindows = 4;        // minimum statistics: 4 x 0.4 s
constexpr double kSubWindowSeconds = 0.4;
constexpr float kPresenceSnr = 6.31f;  // 8 dB: the SNR assumed when speech is present
constexpr float kMinPriorSnr = 0.01f;  // -20 dB
constexpr float kPowerFloor = 1e-20f;
constexpr float kMinStatBias = 1.5f;
// Frame-level speech presence: mean presence probability over 300 Hz..4 kHz
// mapped from [kPauseBelow, kSpeechAbove] to a 0..1 weight of the gain above the floor.
constexpr float kPauseBelow = 0.35f;
constexpr float kSpeechAbove = 0.5f;

// 2^y for y in [-126, 0], to ~1e-5 relative: exponent bits plus a polynomial
// for the fraction; plain arithmetic, so loops using it vectorize.
inline float exp2_approx(float y) noexcept {
  const float magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float n = (y + magic) - magic;
  const float r = y - n;  // [-0.5, 0.5]
  const float poly = 1.0f + r * (0.6931472f + r * (0.2402265f + r * (0.05550411f + r * 0.009618129f)));
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  return poly * std::bit_cast<float>(bits);
}

// max and min by value: GCC turns these into maxps/minps, so the loops using
// them vectorize (std::max, returning a reference, stays a branch). Not the
// branch-free (a + b + |a - b|) / 2: it cancels to 0 when a and b are 70 dB apart.
inline float max_of(float a, float b) noexcept { return a > b ? a : b; }
inline float min_of(float a, float b) noexcept { return a < b ? a : b; }

// Per-frame coefficient of a one-pole smoother with time constant tau.
float pole(double tau_s, double frame_rate) { return static_cast<float>(std::exp(-1.0 / (tau_s * frame_rate))); }

}  // namespace

bool NoiseSuppressor::prepare(const ProcessSpec& spec) {
  if (!(spec.rate >= 8000.0 && spec.rate <= 384000.0) || spec.max_frames == 0) return false;
  rate_ = spec.rate;
  uint32_t size = 8;
  while (size < kAnalysisSeconds * rate_) size <<= 1;
  if (!fft_.prepare(size) || !tonal_.prepare(rate_)) return false;
  size_ = size;
  bins_ = size / 2 + 1;
  hop_ = std::max<uint32_t>(4, static_cast<uint32_t>(std::lround(kReferenceHop * rate_ / kReferenceRate)));
  synth_ = std::max<uint32_t>(hop_ + 2, static_cast<uint32_t>(std::lround(kReferenceSynth * rate_ / kReferenceRate)));
  latency_ = synth_ - 1;
  const uint32_t taper = synth_ - hop_;

  // Product window (analysis x synthesis) over the last synth_ samples: rises
  // over `taper`, flat, falls over `taper`; overlapped at hop_ it sums to 1.
  analysis_.assign(size_, 0.0f);
  synthesis_.assign(synth_, 0.0f);
  const uint32_t rise = size_ - taper;
  for (uint32_t n = 0; n < rise; ++n) {
    const double s = std::sin(0.5 * std::numbers::pi * (n + 0.5) / rise);
    analysis_[n] = static_cast<float>(s * s);  // Hann rise: lower sidelobes than its square root
  }
  for (uint32_t i = 0; i < taper; ++i)
    analysis_[rise + i] = static_cast<float>(std::cos(0.5 * std::numbers::pi * (i + 0.5) / taper));
  for (uint32_t i = 0; i < synth_; ++i) {
    double product = 1.0;
    if (i < taper) {
      const double s = std::sin(0.5 * std::numbers::pi * (i + 0.5) / taper);
      product = s * s;
    } else if (i >= synth_ - taper) {
      const double c = std::cos(0.5 * std::numbers::pi * (i - (synth_ - taper) + 0.5) / taper);
      product = c * c;
    }
    synthesis_[i] = static_cast<float>(product / analysis_[size_ - synth_ + i]);
  }

  input_.assign(size_, 0.0f);
  overlap_.assign(synth_, 0.0f);
  output_.assign(hop_, 0.0f);
  frame_.assign(size_, 0.0f);
  re_.assign(bins_, 0.0f);
  im_.assign(bins_, 0.0f);
  power_.assign(bins_, 0.0f);
  noise_.assign(bins_, 0.0f);
  noise_slow_.assign(bins_, 0.0f);
  noise_est_.assign(bins_, 0.0f);
  presence_.assign(bins_, 0.0f);
  clean_prev_.assign(bins_, 0.0f);
  smooth_.assign(bins_, 0.0f);
  min_now_.assign(bins_, 0.0f);
  min_sub_.assign(bins_ * kSubWindows, 0.0f);
  gain_.assign(bins_, 1.0f);
  gain_smooth_.assign(bins_, 1.0f);
  raw_gain_.assign(bins_, 1.0f);

  const double frame_rate = rate_ / hop_;
  noise_every_ = std::max<uint32_t>(1, static_cast<uint32_t>(std::lround(frame_rate / 125.0)));
  const double update_rate = frame_rate / noise_every_;
  presence_alpha_ = pole(0.15, update_rate);
  dd_alpha_ = 0.95f;
  release_alpha_ = pole(0.05, frame_rate);
  noise_alpha_ = pole(0.1, update_rate);
  slow_alpha_ = pole(5.0, update_rate);
  smooth_alpha_ = pole(0.03, update_rate);
  speech_release_ = pole(0.15, frame_rate);
  band_lo_ = static_cast<uint32_t>(300.0 * size_ / rate_);
  band_hi_ = static_cast<uint32_t>(4000.0 * size_ / rate_);
  meter_alpha_ = pole(0.1, update_rate);
  sub_window_frames_ = std::max<uint32_t>(1, static_cast<uint32_t>(kSubWindowSeconds * update_rate));
  warmup_frames_ = size_ / hop_ + static_cast<uint32_t>(0.1 * frame_rate);

  const auto ramp = static_cast<uint32_t>(std::max(1.0, 0.05 * frame_rate));
  strength_.prepare(ramp, strength_target_);
  floor_db_.prepare(ramp, floor_db_target_);
  reset();
  return true;
}

void NoiseSuppressor::reset() noexcept {
  tonal_.reset();
  std::fill(input_.begin(), input_.end(), 0.0f);
  std::fill(overlap_.begin(), overlap_.end(), 0.0f);
  std::fill(output_.begin(), output_.end(), 0.0f);
  std::fill(noise_.begin(), noise_.end(), kPowerFloor);
  std::fill(presence_.begin(), presence_.end(), 0.0f);
  std::fill(clean_prev_.begin(), clean_prev_.end(), 0.0f);
  std::fill(smooth_.begin(), smooth_.end(), 0.0f);
  std::fill(min_now_.begin(), min_now_.end(), 0.0f);
  std::fill(min_sub_.begin(), min_sub_.end(), 0.0f);
  std::fill(gain_.begin(), gain_.end(), 1.0f);
  std::fill(gain_smooth_.begin(), gain_smooth_.end(), 1.0f);
  frame_presence_ = 1.0f;
  speech_weight_ = 1.0f;
  input_pos_ = size_ - hop_;
  output_pos_ = 1;  // the hop_ - 1 samples before the first frame come out as silence
  frames_seen_ = 0;
  sub_window_count_ = 0;
  sub_window_index_ = 0;
  strength_.snap();
  floor_db_.snap();
  gain_reduction_db_ = 0.0f;
  meter_in_ = meter_out_ = 0.0f;
}

void NoiseSuppressor::set_strength(float strength) noexcept {
  if (!(strength >= 0.0f)) strength = 0.0f;  // also NaN
  strength_target_ = std::min(strength, 1.0f);
  strength_.set_target(strength_target_);
}

void NoiseSuppressor::set_floor_db(float db) noexcept {
  if (!(db >= kMinFloorDb)) db = kMinFloorDb;
  floor_db_target_ = std::min(db, kMaxFloorDb);
  floor_db_.set_target(floor_db_target_);
}

void NoiseSuppressor::process(float* samples, uint32_t frames) noexcept {
  // Frames are cut every hop_ samples of the stream, so the output does not
  // depend on block sizes; the sample that completes a frame already comes
  // out of it (latency = synth_ - 1).
  while (frames > 0) {
    const uint32_t n = std::min(frames, size_ - input_pos_);
    tonal_.process(samples, n);
    std::memcpy(input_.data() + input_pos_, samples, n * sizeof(float));
    input_pos_ += n;
    if (input_pos_ == size_) {
      std::memcpy(samples, output_.data() + output_pos_, (n - 1) * sizeof(float));
      process_frame();
      std::memmove(input_.data(), input_.data() + hop_, (size_ - hop_) * sizeof(float));
      input_pos_ = size_ - hop_;
      samples[n - 1] = output_[0];
      output_pos_ = 1;
    } else {
      std::memcpy(samples, output_.data() + output_pos_, n * sizeof(float));
      output_pos_ += n;
    }
    samples += n;
    frames -= n;
  }
}

void NoiseSuppressor::update_noise(const float* power) noexcept {
  float* noise = noise_.data();
  float* smooth = smooth_.data();
  float* min_now = min_now_.data();
  if (frames_seen_ < warmup_frames_) {
    // Until the analysis window is full of signal, and for 0.1 s after, the
    // noise estimate is the plain average: the stream is assumed to start
    // without speech (if it does not, the tracker below pulls it down fast).
    const uint32_t filled = size_ / hop_;
    const float w = frames_seen_ < filled ? 1.0f : 1.0f / static_cast<float>(frames_seen_ - filled + 1);
    for (uint32_t k = 0; k < bins_; ++k) {
      noise[k] = std::max(noise[k] + w * (power[k] - noise[k]), kPowerFloor);
      smooth[k] = noise[k];
      min_now[k] = noise[k];
    }
    for (uint32_t s = 0; s < kSubWindows; ++s) std::memcpy(&min_sub_[s * bins_], noise, bins_ * sizeof(float));
    std::memcpy(noise_slow_.data(), noise, bins_ * sizeof(float));
    std::memcpy(noise_est_.data(), noise, bins_ * sizeof(float));
    return;
  }

  // Speech presence probability MMSE noise tracker (Gerkmann & Hendriks 2012).
  const float c1 = 1.0f + kPresenceSnr;
  const float c2 = kPresenceSnr / (1.0f + kPresenceSnr);
  const float a_n = noise_alpha_, a_p = presence_alpha_, a_s = smooth_alpha_;
  float* presence = presence_.data();
  float* posterior = raw_gain_.data();  // scratch until process_frame() computes the gains
#pragma GCC ivdep
  for (uint32_t k = 0; k < bins_; ++k) {
    const float x = -power[k] / noise[k] * c2 + 80.0f;
    float p = 1.0f / (1.0f + c1 * exp2_approx((max_of(x, 0.0f) - 80.0f) * 1.442695f));
    posterior[k] = p;
    presence[k] = a_p * presence[k] + (1.0f - a_p) * p;
    // A bin that looked like speech for long is let to update a little (a
    // risen noise must not be taken for speech forever).
    const float cap = presence[k] > 0.99f ? 0.99f : 1.0f;
    p = min_of(p, cap);
    const float expected = (1.0f - p) * power[k] + p * noise[k];
    noise[k] = a_n * noise[k] + (1.0f - a_n) * expected;
    const float sm = a_s * smooth[k] + (1.0f - a_s) * power[k];
    smooth[k] = sm;
    min_now[k] = min_of(min_now[k], sm);
  }
  float band_sum = 0.0f;
  for (uint32_t k = band_lo_; k < band_hi_; ++k) band_sum += posterior[k];

  frame_presence_ = band_sum / static_cast<float>(std::max<uint32_t>(1, band_hi_ - band_lo_));

  // Minimum statistics as a floor: a tracker stuck below a risen noise is
  // lifted to the minimum of the smoothed power over the last ~1.6 s.
  if (++sub_window_count_ >= sub_window_frames_) {
    sub_window_count_ = 0;
    std::memcpy(&min_sub_[sub_window_index_ * bins_], min_now, bins_ * sizeof(float));
    sub_window_index_ = (sub_window_index_ + 1) % kSubWindows;
    std::memcpy(min_now, smooth, bins_ * sizeof(float));
  }
  for (uint32_t k = 0; k < bins_; ++k) {
    float m = min_now[k];
    for (uint32_t s = 0; s < kSubWindows; ++s) m = std::min(m, min_sub_[s * bins_ + k]);
    noise[k] = std::max(std::max(noise[k], kMinStatBias * m), kPowerFloor);
  }

  // The noise the gains use: the tracker's estimate averaged over ~5 s (far
  // less variance on steady noise), kept within 1.5 dB of the tracker so that
  // changing noise is still followed.
  float* slow = noise_slow_.data();
  float* est = noise_est_.data();
  const float a_slow = slow_alpha_;
#pragma GCC ivdep
  for (uint32_t k = 0; k < bins_; ++k) {
    const float sl = a_slow * slow[k] + (1.0f - a_slow) * noise[k];
    slow[k] = sl;
    const float lo = 0.71f * noise[k], hi = 1.4f * noise[k];
    est[k] = min_of(max_of(sl, lo), hi);
  }
}

void NoiseSuppressor::process_frame() noexcept {
  const float strength = strength_.current();
  const float floor_gain = std::pow(10.0f, floor_db_.current() / 20.0f);
  tonal_.set_depth(strength * (1.0f - floor_gain));
  for (uint32_t i = 0; i < size_; ++i) frame_[i] = input_[i] * analysis_[i];
  fft_.forward(frame_.data(), re_.data(), im_.data());
  float* power = power_.data();
#pragma GCC ivdep
  for (uint32_t k = 0; k < bins_; ++k) power[k] = re_[k] * re_[k] + im_[k] * im_[k];

  if (frames_seen_ < warmup_frames_ || frames_seen_ % noise_every_ == 0) update_noise(power);
  ++frames_seen_;
  // In pauses (little speech presence across the speech band) the gain goes
  // to the floor; the weight rises at once and falls over ~150 ms.
  const float t = std::clamp((frame_presence_ - kPauseBelow) / (kSpeechAbove - kPauseBelow), 0.0f, 1.0f);
  speech_weight_ = std::max(t, speech_release_ * speech_weight_);
  // Speech presence as the frame itself shows it (no hold), and none while
  // the noise estimate warms up (the stream is assumed to start without speech).
  tonal_.note_speech(frames_seen_ > warmup_frames_ + noise_every_ ? frame_presence_ : 0.0f);
  const float weight = speech_weight_;

  // Decision-directed a priori SNR (Ephraim & Malah) and the Wiener gain.
  const float* noise = noise_est_.data();
  float* clean_prev = clean_prev_.data();
  float* gain = gain_.data();
  float* smoothed = gain_smooth_.data();
  const float a_dd = dd_alpha_;
  float* raw = raw_gain_.data();
  // The power smoothed over 3 bins (less variance in the SNR estimates; the
  // analysis window's main lobe spans them anyway). frame_ is free until the
  // inverse transform.
  float* ps = frame_.data();
  ps[0] = power[0];
  ps[bins_ - 1] = power[bins_ - 1];
#pragma GCC ivdep
  for (uint32_t k = 1; k + 1 < bins_; ++k) ps[k] = 0.25f * power[k - 1] + 0.5f * power[k] + 0.25f * power[k + 1];
#pragma GCC ivdep
  for (uint32_t k = 0; k < bins_; ++k) {
    const float inv_noise = 1.0f / noise[k];
    const float excess = ps[k] * inv_noise - 1.0f;
    const float ml = max_of(excess, 0.0f);
    const float dd = a_dd * clean_prev[k] * inv_noise + (1.0f - a_dd) * ml - kMinPriorSnr;
    const float prior = max_of(dd, 0.0f) + kMinPriorSnr;
    // Second step (Plapous' two-step noise reduction): the a priori SNR
    // re-estimated from this frame's own gain, which removes the DD's lag.
    const float g1 = prior / (1.0f + prior);
    const float prior2 = g1 * g1 * ps[k] * inv_noise + kMinPriorSnr;
    const float g = prior2 / (1.0f + prior2);
    clean_prev[k] = g * g * power[k];
    raw[k] = g;
  }
  // Smoothing over frequency (a shorter gain impulse response, less musical
  // noise) and a fast-attack, slow-release smoothing over time.
  const uint32_t last = bins_ - 1;
  gain[0] = 0.9f * raw[0] + 0.1f * raw[1];
#pragma GCC ivdep
  for (uint32_t k = 1; k < last; ++k) gain[k] = 0.1f * raw[k - 1] + 0.8f * raw[k] + 0.1f * raw[k + 1];
  gain[last] = 0.1f * raw[last - 1] + 0.9f * raw[last];
  const float rel = release_alpha_;
#pragma GCC ivdep
  for (uint32_t k = 0; k < bins_; ++k) {
    float g = gain[k];
    g = std::max(g, rel * smoothed[k] + (1.0f - rel) * g);
    smoothed[k] = g;
    g = std::max(g, floor_gain);
    g = floor_gain + (g - floor_gain) * weight;
    g = 1.0f - strength * (1.0f - g);
    gain[k] = g;
    re_[k] *= g;
    im_[k] *= g;
  }
  if (frames_seen_ % noise_every_ == 0) {
    float total_in = 0.0f, total_out = 0.0f;
    for (uint32_t k = 0; k < bins_; ++k) {
      total_in += power[k];
      total_out += gain[k] * gain[k] * power[k];
    }
    meter_in_ = meter_alpha_ * meter_in_ + total_in;
    meter_out_ = meter_alpha_ * meter_out_ + total_out;
    gain_reduction_db_ = meter_in_ > 1e-30f ? -10.0f * std::log10(std::max(meter_out_ / meter_in_, 1e-10f)) : 0.0f;
  }

  fft_.inverse_tail(re_.data(), im_.data(), frame_.data(), synth_);
  const float* tail = frame_.data() + (size_ - synth_);
  for (uint32_t i = 0; i < synth_; ++i) overlap_[i] += tail[i] * synthesis_[i];
  std::memcpy(output_.data(), overlap_.data(), hop_ * sizeof(float));
  std::memmove(overlap_.data(), overlap_.data() + hop_, (synth_ - hop_) * sizeof(float));
  std::fill(overlap_.begin() + (synth_ - hop_), overlap_.end(), 0.0f);

  strength_.next();
  floor_db_.next();
}

}  // namespace hushbox::dsp
