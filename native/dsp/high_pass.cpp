#include "high_pass.h"

namespace hushbox::dsp {

void HighPass::Bank::design(double rate, double freq) noexcept {
  // Butterworth of order 2*count: section k has Q = 1 / (2 sin((2k+1) pi / (2 order))).
  const uint32_t order = 2 * count;
  for (uint32_t k = 0; k < count; ++k) {
    const double q = 1.0 / (2.0 * std::sin(M_PI * (2.0 * k + 1.0) / (2.0 * order)));
    s[k].c = design::highpass(rate, freq, q);
  }
}

void HighPass::prepare(const ProcessSpec& spec) {
  rate_ = spec.rate;
  fade_.prepare(spec.rate);
  const float f = freq_.target() != 0.0f ? freq_.target() : static_cast<float>(std::log(80.0));
  freq_.prepare(ramp_ticks(spec.rate), f);
  xfade_.prepare(ramp_samples(spec.rate), 0.0f);
  crossfading_ = false;
  banks_[active_].count = wanted_sections_;
  banks_[active_].design(rate_, std::exp(static_cast<double>(f)));
  dc_r_ = 1.0 - 2.0 * M_PI * 3.0 / spec.rate;  // 3 Hz
  reset();
}

void HighPass::reset() noexcept {
  fade_.snap();
  freq_.snap();
  if (crossfading_) {
    active_ ^= 1u;
    crossfading_ = false;
  }
  xfade_.prepare(ramp_samples(rate_), 0.0f);
  if (banks_[active_].count != wanted_sections_) banks_[active_].count = wanted_sections_;
  banks_[active_].design(rate_, std::exp(static_cast<double>(freq_.current())));
  banks_[0].reset();
  banks_[1].reset();
  dc_x1_ = dc_y1_ = 0.0;
}

void HighPass::set_slope(float db_per_octave) noexcept {
  int s = static_cast<int>(std::lround(db_per_octave / 12.0f));
  wanted_sections_ = static_cast<uint32_t>(s < 1 ? 1 : (s > 4 ? 4 : s));
}

void HighPass::control() noexcept {
  if (fade_.settled_bypassed()) {
    freq_.snap();
    stale_ = true;
    return;
  }
  if (stale_) {
    // Back from a settled bypass (the fade resets the state): take the settings as they are now.
    if (crossfading_) active_ ^= 1u;
    crossfading_ = false;
    banks_[active_].count = wanted_sections_;
    banks_[active_].design(rate_, std::exp(static_cast<double>(freq_.current())));
    stale_ = false;
  }
  const bool gliding = freq_.smoothing();
  const double f = std::exp(static_cast<double>(freq_.next()));
  if (crossfading_ && !xfade_.smoothing()) {
    active_ ^= 1u;
    crossfading_ = false;
    xfade_.prepare(1, 0.0f);
  }
  if (!crossfading_ && wanted_sections_ != banks_[active_].count) {
    Bank& next = banks_[active_ ^ 1u];
    next.count = wanted_sections_;
    next.design(rate_, f);
    next.reset();
    xfade_.prepare(ramp_samples(rate_), 0.0f);
    xfade_.set_target(1.0f);
    crossfading_ = true;
  }
  if (gliding) {
    banks_[active_].design(rate_, f);
    if (crossfading_) banks_[active_ ^ 1u].design(rate_, f);
  }
}

void HighPass::run(float* x, uint32_t n) noexcept {
  double x1 = dc_x1_, y1 = dc_y1_;
  const double r = dc_r_;
  Bank& a = banks_[active_];
  const uint32_t count = a.count;
  if (!crossfading_) {
    for (uint32_t i = 0; i < n; ++i) {
      const double in = x[i];
      double y = in - x1 + r * y1;
      x1 = in;
      y1 = y;
      for (uint32_t k = 0; k < count; ++k) y = a.s[k].process(y);
      x[i] = static_cast<float>(y);
    }
  } else {
    Bank& b = banks_[active_ ^ 1u];
    for (uint32_t i = 0; i < n; ++i) {
      const double in = x[i];
      const double d = in - x1 + r * y1;
      x1 = in;
      y1 = d;
      double ya = d, yb = d;
      for (uint32_t k = 0; k < count; ++k) ya = a.s[k].process(ya);
      for (uint32_t k = 0; k < b.count; ++k) yb = b.s[k].process(yb);
      const double w = xfade_.next();
      x[i] = static_cast<float>(ya + w * (yb - ya));
    }
  }
  dc_x1_ = x1;
  dc_y1_ = y1;
}

void HighPass::process(float* x, uint32_t n) noexcept {
  fade_.run(
      x, n, [this](float* y, uint32_t m) { run(y, m); },
      [this] {
        banks_[0].reset();
        banks_[1].reset();
        dc_x1_ = dc_y1_ = 0.0;
      });
}

}  // namespace hushbox::dsp
