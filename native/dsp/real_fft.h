// An FFT of real signals (size a power of two, >= 8) built on a complex FFT of
// half the size: a Stockham (self-sorting) radix-4 FFT, ending in one radix-8
// stage when log2(N/2) is odd, so that no bit-reversal permutation is needed;
// written with 4-float vectors (SSE2 on x86-64, NEON on ARM64). Every twiddle
// is computed in prepare(). Spectra are split: re[0..N/2] and im[0..N/2].
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
  // [any] inverse() computing only x[N - count .. N): less work in the last
  // stages. x[0 .. N - count) is unspecified afterwards.
  void inverse_tail(float* re, float* im, float* x, uint32_t count) noexcept;

 private:
  struct Split {
    float* re;
    float* im;
  };
  // The complex FFT of half_ points in a_ (or, with `x`, of x[2m] + i x[2m+1]),
  // exact for the outputs from `need` on; answers the buffer it ends in (a_ or b_).
  Split complex_fft(const float* x, uint32_t need) noexcept;

  uint32_t size_ = 0;
  uint32_t half_ = 0;
  std::vector<float> twiddles_;           // per radix-4 stage: W^p, W^2p, W^3p (re, im), p < len / 4
  std::vector<float> post_re_, post_im_;  // e^{-2 pi i k / N}, k = 0..N/2
  std::vector<float> ar_, ai_, br_, bi_;  // two half-size complex buffers (ping-pong)
};

}  // namespace hushbox::dsp
