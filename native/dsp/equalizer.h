// Parametric EQ: low shelf, two peaks, high shelf (RBJ biquads). Frequency,
// gain and Q glide once per control interval and the coefficients follow; a
// section at exactly 0 dB is skipped.
#pragma once

#include <array>

#include "audio_block.h"
#include "biquad.h"
#include "stage.h"

namespace hushbox::dsp {

class Equalizer {
 public:
  enum Band : uint32_t { kLow = 0, kPeak1 = 1, kPeak2 = 2, kHigh = 3, kBands = 4 };

  // [control]
  void prepare(const ProcessSpec& spec);
  // [audio]
  void reset() noexcept;
  // [audio]
  void set_bypass(bool b) noexcept { fade_.set_bypass(b); }
  void set_freq(Band b, float hz) noexcept { bands_[b].log_freq.set_target(static_cast<float>(std::log(hz))); }
  void set_gain_db(Band b, float db) noexcept { bands_[b].gain.set_target(db); }
  void set_q(Band b, float q) noexcept { bands_[b].log_q.set_target(static_cast<float>(std::log(q))); }
  // [audio] Once per control interval.
  void control() noexcept;
  // [audio] n <= kControlInterval.
  void process(float* x, uint32_t n) noexcept;

 private:
  struct Section {
    SmoothedValue log_freq, gain, log_q;
    Biquad f;
    bool active = false;
  };
  void design(uint32_t b) noexcept;
  void run(float* x, uint32_t n) noexcept;

  double rate_ = 48000.0;
  BypassFade fade_;
  std::array<Section, kBands> bands_{};
  bool stale_ = false;  // settings changed while bypassed: redesign on the way back
};

}  // namespace hushbox::dsp
