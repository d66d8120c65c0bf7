// High-pass: a DC blocker and a Butterworth low cut of 12, 24, 36 or 48 dB
// per octave (1 to 4 cascaded sections). The corner glides; a slope change
// crossfades from the old cascade to the new one.
#pragma once

#include <array>

#include "audio_block.h"
#include "biquad.h"
#include "stage.h"

namespace hushbox::dsp {

class HighPass {
 public:
  static constexpr uint32_t kMaxSections = 4;

  // [control]
  void prepare(const ProcessSpec& spec);
  // [audio]
  void reset() noexcept;
  // [audio]
  void set_bypass(bool b) noexcept { fade_.set_bypass(b); }
  void set_freq(float hz) noexcept { freq_.set_target(static_cast<float>(std::log(hz))); }
  void set_slope(float db_per_octave) noexcept;
  // [audio] Once per control interval.
  void control() noexcept;
  // [audio] n <= kControlInterval.
  void process(float* x, uint32_t n) noexcept;
  // [any] Sections of the cascade in use (slope / 12).
  uint32_t sections() const noexcept { return banks_[active_].count; }

 private:
  struct Bank {
    std::array<Biquad, kMaxSections> s{};
    uint32_t count = 2;
    void design(double rate, double freq) noexcept;
    void reset() noexcept {
      for (auto& b : s) b.reset();
    }
  };
  void run(float* x, uint32_t n) noexcept;

  double rate_ = 48000.0;
  BypassFade fade_;
  SmoothedValue freq_;  // natural log of Hz, per control interval
  Bank banks_[2];
  uint32_t active_ = 0;
  uint32_t wanted_sections_ = 2;
  SmoothedValue xfade_;  // 0: active bank, 1: the other one
  bool crossfading_ = false;
  bool stale_ = false;  // settings changed while bypassed: redesign on the way back
  // DC blocker: y = x - x1 + r * y1
  double dc_r_ = 0.9995, dc_x1_ = 0.0, dc_y1_ = 0.0;
};

}  // namespace hushbox::dsp
