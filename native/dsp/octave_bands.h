// 1/6-octave band levels of a signal, for the front panel's spectrum: a
// Hann-windowed real FFT whose power is summed into bands centred on
// 1 kHz * 2^(k/6). Not real-time code: it runs on the engine's spectrum
// thread, never the audio thread. Bands narrower than the FFT's bin spacing
// (the lowest few) take their share of the bins they overlap, so they read
// smoothed rather than empty.
#pragma once

#include <cstdint>
#include <vector>

#include "real_fft.h"

namespace hushbox::dsp {

class OctaveBands {
 public:
  // 1/6-octave centres 1000 * 2^(k/6), k = kFirstBand..kFirstBand+kBands-1: 22.1 Hz .. 20.2 kHz.
  static constexpr int kFirstBand = -33;
  static constexpr uint32_t kBands = 60;
  // What a band reads with nothing in it, dBFS.
  static constexpr float kFloorDb = -140.0f;

  // [control] Allocates. `window` is the FFT size: a power of two >= 256.
  bool prepare(uint32_t rate, uint32_t window);
  uint32_t window() const noexcept { return fft_.size(); }
  // [any] Bands whose upper edge lies below Nyquist (the rest read kFloorDb).
  uint32_t bands() const noexcept { return bands_; }
  static float centre_hz(uint32_t band) noexcept;

  // [spectrum] Band levels of the last window() samples of `x`, in dBFS: a
  // full-scale sine in a band reads 0 dB there. `out` holds kBands values.
  void analyze(const float* x, float* out) noexcept;

 private:
  struct Share {
    uint32_t band;
    uint32_t bin;
    float weight;  // the part of the bin inside the band
  };
  uint32_t rate_ = 0;
  uint32_t bands_ = 0;
  RealFft fft_;
  std::vector<float> hann_;
  std::vector<float> windowed_, re_, im_;
  std::vector<Share> shares_;  // by band, then bin
  float scale_ = 0.0f;         // power -> mean square of a sine
};

}  // namespace hushbox::dsp
