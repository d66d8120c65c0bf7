// Input/output trim: a smoothed gain in dB with an optional polarity flip
// (the flip ramps through zero, so it never clicks).
#pragma once

#include "audio_block.h"
#include "smoothed_value.h"
#include "stage.h"

namespace hushbox::dsp {

class Trim {
 public:
  // [control]
  void prepare(const ProcessSpec& spec) noexcept { gain_.prepare(ramp_samples(spec.rate), target()); }
  // [audio]
  void reset() noexcept { gain_.snap(); }
  // [audio]
  void set_gain_db(float db) noexcept {
    db_ = db;
    gain_.set_target(target());
  }
  // [audio]
  void set_polarity(bool inverted) noexcept {
    inverted_ = inverted;
    gain_.set_target(target());
  }
  // [audio] In place, any length.
  void process(float* x, uint32_t n) noexcept {
    if (!gain_.smoothing()) {
      const float g = gain_.current();
      if (g == 1.0f) return;
      for (uint32_t i = 0; i < n; ++i) x[i] *= g;
      return;
    }
    for (uint32_t i = 0; i < n; ++i) x[i] *= gain_.next();
  }
  float gain() const noexcept { return gain_.current(); }

 private:
  float target() const noexcept { return inverted_ ? -db_to_gain(db_) : db_to_gain(db_); }
  float db_ = 0.0f;
  bool inverted_ = false;
  SmoothedValue gain_;
};

}  // namespace hushbox::dsp
