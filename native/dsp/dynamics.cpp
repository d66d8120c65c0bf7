#include "dynamics.h"

#include <algorithm>
#include <cmath>

namespace hushbox::dsp {
namespace {
inline float fmax0(float a, float b) noexcept { return a > b ? a : b; }
}  // namespace

// ---- Gate -------------------------------------------------------------------

void Gate::prepare(const ProcessSpec& spec) {
  rate_ = spec.rate;
  fade_.prepare(spec.rate);
  env_decay_ = static_cast<float>(std::exp(-1.0 / (0.005 * spec.rate)));  // 5 ms detector release
  dirty_ = true;
  control();
  reset();
}

void Gate::reset() noexcept {
  fade_.snap();
  env_ = 0.0f;
  gain_ = 1.0f;
  hold_left_ = hold_samples_;
  open_ = true;
  reduction_db_ = 0.0f;
}

void Gate::control() noexcept {
  if (!dirty_) return;
  dirty_ = false;
  open_level_ = db_to_gain(threshold_db_);
  close_level_ = db_to_gain(threshold_db_ - hysteresis_db_);
  floor_ = db_to_gain(-range_db_);
  const double ms = rate_ / 1000.0;
  const double attack = fmax0(1.0f, static_cast<float>(attack_ms_ * ms));
  const double release = fmax0(1.0f, static_cast<float>(release_ms_ * ms));
  up_ = static_cast<float>(std::pow(10.0, range_db_ / 20.0 / attack));
  down_ = static_cast<float>(std::pow(10.0, -range_db_ / 20.0 / release));
  hold_samples_ = static_cast<uint32_t>(hold_ms_ * ms);
}

void Gate::run(float* x, uint32_t n) noexcept {
  float env = env_, g = gain_, min_g = gain_;
  uint32_t hold = hold_left_;
  bool open = open_;
  const float decay = env_decay_, open_level = open_level_, close_level = close_level_, floor = floor_, up = up_,
              down = down_;
  for (uint32_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    env = a > env ? a : env * decay;
    if (env >= open_level) open = true;
    if (open) {
      if (env >= close_level) {
        hold = hold_samples_;
      } else if (hold > 0) {
        --hold;
      } else {
        open = false;
      }
    }
    const float target = open ? 1.0f : floor;
    if (g < target) {
      g *= up;
      if (g > target) g = target;
    } else if (g > target) {
      g *= down;
      if (g < target) g = target;
    }
    x[i] *= g;
    if (g < min_g) min_g = g;
  }
  env_ = env < 1e-20f ? 0.0f : env;
  gain_ = g;
  hold_left_ = hold;
  open_ = open;
  reduction_db_ = -gain_to_db(min_g);
}

void Gate::process(float* x, uint32_t n) noexcept {
  fade_.run(
      x, n, [this](float* y, uint32_t m) { run(y, m); },
      [this] {
        env_ = 0.0f;
        gain_ = 1.0f;
        open_ = true;
        hold_left_ = hold_samples_;
      });
  if (fade_.settled_bypassed()) reduction_db_ = 0.0f;
}

// ---- Compressor -------------------------------------------------------------

float Compressor::curve_db(float in_db, float threshold_db, float ratio, float knee_db) noexcept {
  const float d = in_db - threshold_db;
  if (2.0f * d < -knee_db) return in_db;
  if (knee_db > 0.0f && 2.0f * std::fabs(d) <= knee_db) {
    const float k = d + knee_db / 2.0f;
    return in_db + (1.0f / ratio - 1.0f) * k * k / (2.0f * knee_db);
  }
  return threshold_db + d / ratio;
}

void Compressor::prepare(const ProcessSpec& spec) {
  rate_ = spec.rate;
  fade_.prepare(spec.rate);
  const uint32_t ticks = ramp_ticks(spec.rate);
  threshold_.prepare(ticks, threshold_.target());
  ratio_.prepare(ticks, ratio_.target() > 0.0f ? ratio_.target() : 1.0f);
  knee_.prepare(ticks, knee_.target());
  makeup_.prepare(ramp_samples(spec.rate), makeup_.target() > 0.0f ? makeup_.target() : 1.0f);
  dirty_ = true;
  reset();
}

void Compressor::reset() noexcept {
  fade_.snap();
  threshold_.snap();
  ratio_.snap();
  knee_.snap();
  makeup_.snap();
  gr_db_ = 0.0f;
  reduction_db_ = 0.0f;
  dirty_ = true;
  control();
}

void Compressor::control() noexcept {
  const bool moving = threshold_.smoothing() || ratio_.smoothing() || knee_.smoothing();
  threshold_.next();
  ratio_.next();
  knee_.next();
  if (dirty_) {
    attack_coeff_ = static_cast<float>(std::exp(-1.0 / (attack_ms_ * 1e-3 * rate_)));
    release_coeff_ = static_cast<float>(std::exp(-1.0 / (release_ms_ * 1e-3 * rate_)));
  }
  if (dirty_ || moving) knee_start_level_ = db_to_gain(threshold_.current() - knee_.current() / 2.0f);
  dirty_ = false;
}

void Compressor::run(float* x, uint32_t n) noexcept {
  const float t = threshold_.current(), r = ratio_.current(), k = knee_.current();
  const float start = knee_start_level_, ac = attack_coeff_, rc = release_coeff_;
  float gr = gr_db_, most = 0.0f;
  for (uint32_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    float target = 0.0f;
    if (a > start) {
      const float in_db = 6.0205999f * std::log2(a);
      target = curve_db(in_db, t, r, k) - in_db;
    }
    gr = target < gr ? ac * gr + (1.0f - ac) * target : rc * gr + (1.0f - rc) * target;
    if (gr > -1e-5f) gr = 0.0f;
    const float g = gr == 0.0f ? 1.0f : std::exp2(gr * 0.16609640474f);
    x[i] *= g * makeup_.next();
    if (-gr > most) most = -gr;
  }
  gr_db_ = gr;
  reduction_db_ = most;
}

void Compressor::process(float* x, uint32_t n) noexcept {
  fade_.run(
      x, n, [this](float* y, uint32_t m) { run(y, m); }, [this] { gr_db_ = 0.0f; });
  if (fade_.settled_bypassed()) {
    reduction_db_ = 0.0f;
    makeup_.snap();
  }
}

// ---- Limiter ----------------------------------------------------------------

void Limiter::prepare(const ProcessSpec& spec, uint32_t channels) {
  rate_ = spec.rate;
  channels_ = channels > 0 ? channels : 1;
  lookahead_ = static_cast<uint32_t>(spec.rate * kLookaheadSeconds);
  if (lookahead_ < 1) lookahead_ = 1;
  delay_.assign(static_cast<size_t>(lookahead_) * channels_, 0.0f);
  uint32_t cap = 1;
  while (cap < lookahead_ + 2) cap <<= 1;
  dq_value_.assign(cap, 1.0f);
  dq_index_.assign(cap, 0);
  dq_mask_ = cap - 1;
  minima_.assign(lookahead_ + 1, 1.0f);
  wet_.prepare(ramp_samples(spec.rate), bypassed_ ? 0.0f : 1.0f);
  ceiling_.prepare(ramp_samples(spec.rate), ceiling_.target() > 0.0f ? ceiling_.target() : db_to_gain(-1.0f));
  dirty_ = true;
  reset();
}

void Limiter::set_bypass(bool b) noexcept {
  if (wet_.target() == 0.0f && !wet_.smoothing()) needs_reset_ = true;
  bypassed_ = b;
  wet_.set_target(b ? 0.0f : 1.0f);
}

void Limiter::clear_gain_state() noexcept {
  for (auto& m : minima_) m = 1.0f;
  sum_ = static_cast<double>(minima_.size());
  dq_head_ = dq_size_ = 0;
  last_limited_ = n_;
  gain_ = 1.0;
  reduction_db_ = 0.0f;
}

void Limiter::reset() noexcept {
  wet_.snap();
  ceiling_.snap();
  needs_reset_ = wet_.target() == 0.0f;
  for (auto& d : delay_) d = 0.0f;
  pos_ = 0;
  n_ = 0;
  clear_gain_state();
  control();
}

void Limiter::control() noexcept {
  if (!dirty_) return;
  dirty_ = false;
  release_coeff_ = std::exp(-1.0 / (release_ms_ * 1e-3 * rate_));
}

void Limiter::delay_only(float* const* x, uint32_t channels, uint32_t n) noexcept {
  const uint32_t la = lookahead_;
  for (uint32_t c = 0; c < channels; ++c) {
    float* line = delay_.data() + static_cast<size_t>(c) * la;
    uint32_t pos = pos_;
    // Contiguous runs up to the ring's end: each a plain swap that vectorizes.
    for (uint32_t i = 0; i < n;) {
      const uint32_t len = std::min(n - i, la - pos);
      float* __restrict l = line + pos;
      float* __restrict y = x[c] + i;
      for (uint32_t k = 0; k < len; ++k) {
        const float d = l[k];
        l[k] = y[k];
        y[k] = d;
      }
      pos += len;
      if (pos == la) pos = 0;
      i += len;
    }
  }
  pos_ = static_cast<uint32_t>((pos_ + n) % la);
  n_ += n;
}

void Limiter::process(float* const* x, uint32_t channels, uint32_t n) noexcept {
  if (channels > channels_) channels = channels_;
  if (channels == 0) return;
  if (wet_.target() == 0.0f && !wet_.smoothing()) {
    // Bypassed: only the delay, so the latency stays.
    delay_only(x, channels, n);
    ceiling_.snap();
    reduction_db_ = 0.0f;
    return;
  }
  if (needs_reset_) {
    clear_gain_state();
    needs_reset_ = false;
  }
  // At rest (unity gain, nothing over the ceiling in the window) a segment that stays
  // under a steady ceiling leaves the gain at unity: the output is the delayed input,
  // exactly as the full computation below would give it, at a fraction of the cost.
  const uint32_t window = lookahead_ + 1;
  if (gain_ == 1.0 && n_ > last_limited_ + 2ull * window && !ceiling_.smoothing() && !wet_.smoothing()) {
    const float c = ceiling_.current();
    float peak = 0.0f;
    for (uint32_t ch = 0; ch < channels; ++ch)
      for (uint32_t i = 0; i < n; ++i) peak = fmax0(std::fabs(x[ch][i]), peak);
    if (peak <= c) {
      delay_only(x, channels, n);
      // The state the full computation leaves: one unity entry in the deque, unity minima.
      dq_size_ = 1;
      dq_value_[dq_head_] = 1.0f;
      dq_index_[dq_head_] = n_ - 1;
      sum_ = static_cast<double>(window);
      reduction_db_ = 0.0f;
      return;
    }
  }
  switch (channels) {
    case 1: run<1>(x, 1, n); break;
    case 2: run<2>(x, 2, n); break;
    default: run<0>(x, channels, n); break;
  }
}

// kChannels: the channel count known at compile time, or 0 to take `channels`.
template <uint32_t kChannels>
void Limiter::run(float* const* x, uint32_t channels, uint32_t n) noexcept {
  const uint32_t nch = kChannels > 0 ? kChannels : channels;
  const uint32_t la = lookahead_;
  const uint32_t window = la + 1;
  const double rc = release_coeff_;
  const double inv_window = 1.0 / window;
  double g = gain_;
  float min_g = 1.0f;
  uint32_t mpos = static_cast<uint32_t>(n_ % window);
  // A moving ceiling may lower the safety clip below samples already in the delay:
  // no rest until they are out.
  if (ceiling_.smoothing()) last_limited_ = n_ + n;
  for (uint32_t i = 0; i < n; ++i) {
    const float c = ceiling_.next();
    float a = std::fabs(x[0][i]);
    for (uint32_t ch = 1; ch < nch; ++ch) a = fmax0(std::fabs(x[ch][i]), a);
    float req = 1.0f;
    if (a > c) {
      req = c / a;
      last_limited_ = n_;
    }
    // Sliding minimum of the required gain over [n - la, n].
    while (dq_size_ > 0 && dq_value_[(dq_head_ + dq_size_ - 1) & dq_mask_] >= req) --dq_size_;
    const uint32_t slot = (dq_head_ + dq_size_) & dq_mask_;
    dq_value_[slot] = req;
    dq_index_[slot] = n_;
    ++dq_size_;
    if (dq_index_[dq_head_] + window <= n_) {
      dq_head_ = (dq_head_ + 1) & dq_mask_;
      --dq_size_;
    }
    const float m = dq_value_[dq_head_];
    // Moving average of the minima over the same window.
    sum_ += static_cast<double>(m) - static_cast<double>(minima_[mpos]);
    minima_[mpos] = m;
    if (++mpos == window) mpos = 0;
    const auto avg = static_cast<float>(sum_ * inv_window);
    // The gain is kept in double: a float release stalls where a step is under half
    // an ulp (0.9999714 for 20 ms), so it would never come back to unity and rest.
    g = avg < g ? avg : avg - (avg - g) * rc;
    if (avg - g < 1e-9) g = avg;
    const auto gf = static_cast<float>(g);
    if (gf < min_g) min_g = gf;
    const bool fading = wet_.smoothing();
    const float w = fading ? wet_.next() : 1.0f;
    for (uint32_t ch = 0; ch < nch; ++ch) {
      float* line = delay_.data() + static_cast<size_t>(ch) * la;
      const float d = line[pos_];
      line[pos_] = x[ch][i];
      float y = d * gf;
      if (std::fabs(y) > c) {
        if (std::fabs(y) > c * 1.0001f) ++clips_;
        y = y > 0.0f ? c : -c;
      }
      if (fading) y = d + w * (y - d);
      x[ch][i] = y;
    }
    if (++pos_ == la) pos_ = 0;
    ++n_;
  }
  gain_ = g;
  reduction_db_ = -gain_to_db(min_g);
}

}  // namespace hushbox::dsp
