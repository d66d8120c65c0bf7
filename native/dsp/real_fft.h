// A radix-2 FFT of real signals (size a power of two, >= 8) built on a complex
// FFT of half the size, with every twiddle and the bit-reversal table computed
// in prepare(). Spectra are split: re[0..N/2] and im[0..N/2].
#pragma once

#include <cstdint>
#include <vector>

namespace hushbox::dsp {

class RealFft {
 public:
  // [control] Size must be a power of two >= 8; false otherwise. Allocates.
  bool prepare(uint32_t size);
  uint32_t size() const noexcept { return size_; }
  uint32_t bins() const noexcept { return size_ / 2 + 1; }

  // [any] X[k] = sum x[t] e^{-2 pi i k t / N}, k = 0..N/2. `x` is not modified.
  void forward(const float* x, float* re, float* im) noexcept;
  // [any] The exact inverse of forward() (scaled by 1/N); re/im are used as scratch.
  void inverse(float* re, float* im, float* x) noexcept;

 private:
  void complex_fft(float* re, float* im) const noexcept;

  uint32_t size_ = 0;
  uint32_t half_ = 0;
  std::vector<uint32_t> bitrev_;
  std::vector<float> stage_re_, stage_im_;  // per-stage twiddles, stage after stage
  std::vector<float> post_re_, post_im_;    // e^{-2 pi i k / N}, k = 0..N/2
  std::vector<float> zr_, zi_;              // half-size complex scratch
};

}  // namespace hushbox::dsp
