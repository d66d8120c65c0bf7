// Smoothed gain in decibels.
#pragma once

#include <cmath>

#include "audio_block.h"
#include "smoothed_value.h"

namespace hushbox::dsp {

class Gain {
 public:
  // [control]
  void prepare(const ProcessSpec& spec) noexcept {
    gain_.prepare(static_cast<uint32_t>(spec.rate * 0.02), db_to_linear(db_));
  }
  // [audio]
  void reset() noexcept { gain_.snap(); }
  // [audio]
  void set_gain_db(float db) noexcept {
    db_ = db;
    gain_.set_target(db_to_linear(db));
  }
  // [audio] One channel, in place.
  void process(float* samples, uint32_t frames) noexcept {
    if (!gain_.smoothing()) {
      const float g = gain_.current();
      if (g == 1.0f) return;
      for (uint32_t i = 0; i < frames; ++i) samples[i] *= g;
      return;
    }
    for (uint32_t i = 0; i < frames; ++i) samples[i] *= gain_.next();
  }

  static float db_to_linear(float db) noexcept { return std::pow(10.0f, db / 20.0f); }

 private:
  float db_ = 0.0f;
  SmoothedValue gain_;
};

}  // namespace hushbox::dsp
