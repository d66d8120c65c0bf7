// Peak (held over a window) and RMS (exponential window) of one channel.
#pragma once

#include <cmath>
#include <cstdint>

namespace hushbox::dsp {

class Meter {
 public:
  // [control] Peak window and RMS time constant in seconds.
  void prepare(double rate, double peak_window_s = 1.0 / 30.0, double rms_tau_s = 0.3) noexcept {
    window_ = static_cast<uint32_t>(rate * peak_window_s);
    if (window_ == 0) window_ = 1;
    rms_coeff_ = static_cast<float>(1.0 - std::exp(-1.0 / (rate * rms_tau_s)));
    reset();
  }
  // [audio]
  void reset() noexcept {
    held_peak_ = current_peak_ = 0.0f;
    mean_square_ = 0.0f;
    count_ = 0;
  }
  // [audio]
  void process(const float* samples, uint32_t frames) noexcept {
    float ms = mean_square_;
    for (uint32_t i = 0; i < frames; ++i) {
      const float x = samples[i];
      const float a = std::fabs(x);
      if (a > current_peak_) current_peak_ = a;
      ms += rms_coeff_ * (x * x - ms);
      if (++count_ >= window_) {
        held_peak_ = current_peak_;
        current_peak_ = 0.0f;
        count_ = 0;
      }
    }
    mean_square_ = ms < 1e-20f ? 0.0f : ms;
  }
  // [audio] Highest of the last complete window and the one under way.
  float peak() const noexcept { return held_peak_ > current_peak_ ? held_peak_ : current_peak_; }
  float rms() const noexcept { return std::sqrt(mean_square_); }

 private:
  uint32_t window_ = 1;
  uint32_t count_ = 0;
  float rms_coeff_ = 0.0f;
  float held_peak_ = 0.0f;
  float current_peak_ = 0.0f;
  float mean_square_ = 0.0f;
};

}  // namespace hushbox::dsp
