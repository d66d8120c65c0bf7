// What every stage of a strip shares: the control interval, the ramp time,
// and the crossfaded bypass.
//
// A strip processes in segments of at most kControlInterval samples, aligned
// to absolute sample positions; stages update coefficients once per interval
// (control()) and ramp gains per sample. The output therefore does not depend
// on the block size the engine runs with.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "smoothed_value.h"

namespace hushbox::dsp {

inline constexpr uint32_t kControlInterval = 16;
inline constexpr double kRampSeconds = 0.02;

inline uint32_t ramp_samples(double rate) noexcept { return static_cast<uint32_t>(rate * kRampSeconds); }
// Ramp length in control intervals, for values smoothed once per interval.
inline uint32_t ramp_ticks(double rate) noexcept {
  const auto t = static_cast<uint32_t>(rate * kRampSeconds / kControlInterval);
  return t > 0 ? t : 1;
}

inline float db_to_gain(float db) noexcept { return std::pow(10.0f, db * 0.05f); }
inline float gain_to_db(float g) noexcept { return g > 1e-10f ? 20.0f * std::log10(g) : -200.0f; }

// Crossfaded bypass around a unit that has none of its own (and the shape the
// strip gives every stage): settled bypass skips the unit; switching ramps
// between dry and processed over kRampSeconds; a unit switched on after a
// settled bypass starts from a reset state. A unit with latency gets a dry
// path delayed by as much, so the crossfade is aligned and the strip's
// latency does not change with the bypass.
class BypassFade {
 public:
  // [control] `latency`: the unit's delay in samples (0: none, dry untouched).
  void prepare(double rate, uint32_t latency = 0) {
    wet_.prepare(ramp_samples(rate), bypassed_ ? 0.0f : 1.0f);
    needs_reset_ = bypassed_;
    delay_.assign(latency, 0.0f);
    pos_ = 0;
  }
  // [audio]
  void set_bypass(bool bypassed) noexcept {
    if (settled_bypassed()) needs_reset_ = true;
    bypassed_ = bypassed;
    wet_.set_target(bypassed ? 0.0f : 1.0f);
  }
  // [audio] After reset(): jump to the target.
  void snap() noexcept { wet_.snap(); }
  // [any] Bypassed and the fade is over: the unit does not run.
  bool settled_bypassed() const noexcept { return wet_.target() == 0.0f && !wet_.smoothing(); }
  bool fading() const noexcept { return wet_.smoothing(); }

  // [audio] n <= kControlInterval. process(float*, uint32_t) runs the unit in
  // place; reset() clears it.
  template <class Process, class Reset>
  void run(float* x, uint32_t n, Process&& process, Reset&& reset) noexcept {
    if (!delay_.empty()) {
      run_delayed(x, n, process, reset);
      return;
    }
    if (settled_bypassed()) return;
    if (needs_reset_) {
      reset();
      needs_reset_ = false;
    }
    if (!wet_.smoothing()) {
      process(x, n);
      return;
    }
    float dry[kControlInterval];
    for (uint32_t i = 0; i < n; ++i) dry[i] = x[i];
    process(x, n);
    for (uint32_t i = 0; i < n; ++i) {
      const float w = wet_.next();
      x[i] = dry[i] + w * (x[i] - dry[i]);
    }
  }

 private:
  template <class Process, class Reset>
  void run_delayed(float* x, uint32_t n, Process& process, Reset& reset) noexcept {
    float dry[kControlInterval];
    const auto len = static_cast<uint32_t>(delay_.size());
    for (uint32_t i = 0; i < n; ++i) {
      dry[i] = delay_[pos_];
      delay_[pos_] = x[i];
      if (++pos_ == len) pos_ = 0;
    }
    if (settled_bypassed()) {
      for (uint32_t i = 0; i < n; ++i) x[i] = dry[i];
      return;
    }
    if (needs_reset_) {
      reset();
      needs_reset_ = false;
    }
    process(x, n);
    if (!wet_.smoothing()) return;
    for (uint32_t i = 0; i < n; ++i) {
      const float w = wet_.next();
      x[i] = dry[i] + w * (x[i] - dry[i]);
    }
  }

  std::vector<float> delay_;
  uint32_t pos_ = 0;
  SmoothedValue wet_;
  bool bypassed_ = false;
  bool needs_reset_ = false;
};

}  // namespace hushbox::dsp
