#include "equalizer.h"

namespace hushbox::dsp {

void Equalizer::prepare(const ProcessSpec& spec) {
  rate_ = spec.rate;
  fade_.prepare(spec.rate);
  const uint32_t ticks = ramp_ticks(spec.rate);
  const float default_freq[kBands] = {100.0f, 300.0f, 3000.0f, 10000.0f};
  for (uint32_t b = 0; b < kBands; ++b) {
    Section& s = bands_[b];
    const float f = s.log_freq.target() != 0.0f ? s.log_freq.target() : std::log(default_freq[b]);
    s.log_freq.prepare(ticks, f);
    s.gain.prepare(ticks, s.gain.target());
    s.log_q.prepare(ticks, s.log_q.target());
  }
  reset();
}

void Equalizer::reset() noexcept {
  fade_.snap();
  for (uint32_t b = 0; b < kBands; ++b) {
    Section& s = bands_[b];
    s.log_freq.snap();
    s.gain.snap();
    s.log_q.snap();
    s.f.reset();
    s.active = s.gain.current() != 0.0f;
    design(b);
  }
}

void Equalizer::design(uint32_t b) noexcept {
  Section& s = bands_[b];
  const double f = std::exp(static_cast<double>(s.log_freq.current()));
  const double g = s.gain.current();
  switch (b) {
    case kLow: s.f.c = design::low_shelf(rate_, f, g); break;
    case kHigh: s.f.c = design::high_shelf(rate_, f, g); break;
    default: s.f.c = design::peaking(rate_, f, g, std::exp(static_cast<double>(s.log_q.current()))); break;
  }
}

void Equalizer::control() noexcept {
  if (fade_.settled_bypassed()) {
    for (auto& s : bands_) {
      if (s.log_freq.smoothing() || s.gain.smoothing() || s.log_q.smoothing()) stale_ = true;
      s.log_freq.snap();
      s.gain.snap();
      s.log_q.snap();
    }
    return;
  }
  if (stale_) {
    for (uint32_t b = 0; b < kBands; ++b) {
      bands_[b].active = bands_[b].gain.current() != 0.0f;
      design(b);
    }
    stale_ = false;
  }
  for (uint32_t b = 0; b < kBands; ++b) {
    Section& s = bands_[b];
    const bool moving = s.log_freq.smoothing() || s.gain.smoothing() || s.log_q.smoothing();
    if (!moving) continue;
    s.log_freq.next();
    s.gain.next();
    s.log_q.next();
    if (!s.active) {
      s.f.reset();  // comes in from (almost) 0 dB: a fresh state has no transient to speak of
      s.active = true;
    }
    design(b);
    if (!s.log_freq.smoothing() && !s.gain.smoothing() && !s.log_q.smoothing() && s.gain.current() == 0.0f) {
      s.active = false;
    }
  }
}

void Equalizer::run(float* x, uint32_t n) noexcept {
  Biquad* active[kBands];
  uint32_t count = 0;
  for (auto& s : bands_) {
    if (s.active) active[count++] = &s.f;
  }
  if (count == 0) return;
  for (uint32_t i = 0; i < n; ++i) {
    double y = x[i];
    for (uint32_t k = 0; k < count; ++k) y = active[k]->process(y);
    x[i] = static_cast<float>(y);
  }
}

void Equalizer::process(float* x, uint32_t n) noexcept {
  fade_.run(
      x, n, [this](float* y, uint32_t m) { run(y, m); },
      [this] {
        for (auto& s : bands_) s.f.reset();
      });
}

}  // namespace hushbox::dsp
