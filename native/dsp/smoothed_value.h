// A parameter whose target is set from outside and whose current value ramps
// linearly inside, so that no change steps.
#pragma once

#include <cstdint>

namespace hushbox::dsp {

class SmoothedValue {
 public:
  // [control] Ramp length in samples; the value jumps to `initial`.
  void prepare(uint32_t ramp_samples, float initial) noexcept {
    ramp_samples_ = ramp_samples > 0 ? ramp_samples : 1;
    current_ = target_ = initial;
    remaining_ = 0;
    step_ = 0.0f;
  }

  // [audio] New target; the ramp restarts from the current value.
  void set_target(float target) noexcept {
    if (target == target_) return;
    target_ = target;
    remaining_ = ramp_samples_;
    step_ = (target_ - current_) / static_cast<float>(ramp_samples_);
  }

  // [audio] Jump to the target at once (after reset, never mid-signal).
  void snap() noexcept {
    current_ = target_;
    remaining_ = 0;
  }

  // [audio] Advance one sample.
  float next() noexcept {
    if (remaining_ == 0) return current_;
    if (--remaining_ == 0) {
      current_ = target_;
    } else {
      current_ += step_;
    }
    return current_;
  }

  bool smoothing() const noexcept { return remaining_ != 0; }
  float current() const noexcept { return current_; }
  float target() const noexcept { return target_; }

 private:
  float current_ = 0.0f;
  float target_ = 0.0f;
  float step_ = 0.0f;
  uint32_t ramp_samples_ = 1;
  uint32_t remaining_ = 0;
};

}  // namespace hushbox::dsp
