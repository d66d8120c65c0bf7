#include "real_fft.h"

#include <cmath>
#include <numbers>

namespace hushbox::dsp {

bool RealFft::prepare(uint32_t size) {
  if (size < 8 || (size & (size - 1)) != 0) return false;
  size_ = size;
  half_ = size / 2;
  const uint32_t n = half_;
  uint32_t bits = 0;
  while ((1u << bits) < n) ++bits;
  bitrev_.assign(n, 0);
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t r = 0;
    for (uint32_t b = 0; b < bits; ++b) r |= ((i >> b) & 1u) << (bits - 1 - b);
    bitrev_[i] = r;
  }
  stage_re_.clear();
  stage_im_.clear();
  for (uint32_t len = 2; len <= n; len <<= 1) {
    for (uint32_t j = 0; j < len / 2; ++j) {
      const double a = -2.0 * std::numbers::pi * j / len;
      stage_re_.push_back(static_cast<float>(std::cos(a)));
      stage_im_.push_back(static_cast<float>(std::sin(a)));
    }
  }
  post_re_.assign(n + 1, 0.0f);
  post_im_.assign(n + 1, 0.0f);
  for (uint32_t k = 0; k <= n; ++k) {
    const double a = -2.0 * std::numbers::pi * k / size;
    post_re_[k] = static_cast<float>(std::cos(a));
    post_im_[k] = static_cast<float>(std::sin(a));
  }
  zr_.assign(n, 0.0f);
  zi_.assign(n, 0.0f);
  return true;
}

void RealFft::complex_fft(float* re, float* im) const noexcept {
  // The input is already in bit-reversed order (forward/inverse scatter it so).
  const uint32_t n = half_;
  // The first two stages have only the twiddles 1 and -i: one radix-4 pass.
  for (uint32_t a = 0; a < n; a += 4) {
    const float y0r = re[a] + re[a + 1], y0i = im[a] + im[a + 1];
    const float y1r = re[a] - re[a + 1], y1i = im[a] - im[a + 1];
    const float y2r = re[a + 2] + re[a + 3], y2i = im[a + 2] + im[a + 3];
    const float y3r = re[a + 2] - re[a + 3], y3i = im[a + 2] - im[a + 3];
    re[a] = y0r + y2r;
    im[a] = y0i + y2i;
    re[a + 2] = y0r - y2r;
    im[a + 2] = y0i - y2i;
    re[a + 1] = y1r + y3i;
    im[a + 1] = y1i - y3r;
    re[a + 3] = y1r - y3i;
    im[a + 3] = y1i + y3r;
  }
  uint32_t offset = 3;  // twiddles of the stages of length 2 and 4
  uint32_t len = 8;
  // Two radix-2 stages at a time (lengths len and 2 len): half the passes
  // over the data.
  for (; 2 * len <= n; len <<= 2) {
    const uint32_t h = len / 2;
    const float* __restrict wr = stage_re_.data() + offset;  // W_len^j, j < h
    const float* __restrict wi = stage_im_.data() + offset;
    const float* __restrict vr = wr + h;  // W_2len^j, j < len
    const float* __restrict vi = wi + h;
    for (uint32_t base = 0; base < n; base += 2 * len) {
      float* __restrict r0 = re + base;
      float* __restrict i0 = im + base;
      float* __restrict r1 = r0 + h;
      float* __restrict i1 = i0 + h;
      float* __restrict r2 = r0 + len;
      float* __restrict i2 = i0 + len;
      float* __restrict r3 = r2 + h;
      float* __restrict i3 = i2 + h;
#pragma GCC ivdep
      for (uint32_t j = 0; j < h; ++j) {
        // Stage of length len: (0, 1) and (2, 3).
        const float t1r = r1[j] * wr[j] - i1[j] * wi[j];
        const float t1i = r1[j] * wi[j] + i1[j] * wr[j];
        const float t3r = r3[j] * wr[j] - i3[j] * wi[j];
        const float t3i = r3[j] * wi[j] + i3[j] * wr[j];
        const float b0r = r0[j] + t1r, b0i = i0[j] + t1i;
        const float b1r = r0[j] - t1r, b1i = i0[j] - t1i;
        const float b2r = r2[j] + t3r, b2i = i2[j] + t3i;
        const float b3r = r2[j] - t3r, b3i = i2[j] - t3i;
        // Stage of length 2 len: (0, 2) with W^j and (1, 3) with W^(j + h).
        const float u2r = b2r * vr[j] - b2i * vi[j];
        const float u2i = b2r * vi[j] + b2i * vr[j];
        const float u3r = b3r * vr[j + h] - b3i * vi[j + h];
        const float u3i = b3r * vi[j + h] + b3i * vr[j + h];
        r0[j] = b0r + u2r;
        i0[j] = b0i + u2i;
        r2[j] = b0r - u2r;
        i2[j] = b0i - u2i;
        r1[j] = b1r + u3r;
        i1[j] = b1i + u3i;
        r3[j] = b1r - u3r;
        i3[j] = b1i - u3i;
      }
    }
    offset += h + len;
  }
  if (len <= n) {  // one radix-2 stage left
    const uint32_t h = len / 2;
    const float* __restrict wr = stage_re_.data() + offset;
    const float* __restrict wi = stage_im_.data() + offset;
    float* __restrict ar = re;
    float* __restrict ai = im;
    float* __restrict br = re + h;
    float* __restrict bi = im + h;
#pragma GCC ivdep
    for (uint32_t j = 0; j < h; ++j) {
      const float tr = br[j] * wr[j] - bi[j] * wi[j];
      const float ti = br[j] * wi[j] + bi[j] * wr[j];
      br[j] = ar[j] - tr;
      bi[j] = ai[j] - ti;
      ar[j] += tr;
      ai[j] += ti;
    }
  }
}

void RealFft::forward(const float* x, float* re, float* im) noexcept {
  const uint32_t n = half_;
  float* zr = zr_.data();
  float* zi = zi_.data();
  const uint32_t* rev = bitrev_.data();
  for (uint32_t m = 0; m < n; ++m) {
    zr[rev[m]] = x[2 * m];
    zi[rev[m]] = x[2 * m + 1];
  }
  complex_fft(zr, zi);
  re[0] = zr[0] + zi[0];
  im[0] = 0.0f;
  re[n] = zr[0] - zi[0];
  im[n] = 0.0f;
#pragma GCC ivdep
  for (uint32_t k = 1; k < n; ++k) {
    // Z[k] and conj(Z[n-k]) give the spectra of the even (E) and odd (O) samples.
    const float ar = zr[k], ai = zi[k];
    const float cr = zr[n - k], ci = -zi[n - k];
    const float er = 0.5f * (ar + cr), ei = 0.5f * (ai + ci);
    const float or_ = 0.5f * (ai - ci), oi = -0.5f * (ar - cr);
    const float wr = post_re_[k], wi = post_im_[k];
    re[k] = er + or_ * wr - oi * wi;
    im[k] = ei + or_ * wi + oi * wr;
  }
}

void RealFft::inverse(float* re, float* im, float* x) noexcept {
  const uint32_t n = half_;
  float* zr = zr_.data();
  float* zi = zi_.data();
  const float scale = 1.0f / static_cast<float>(n);
  // The arithmetic first, into x (free until the end) so that the loop
  // vectorizes; then the bit-reversed scatter on its own.
  float* __restrict tr = x;
  float* __restrict ti = x + n;
  const float* __restrict pr = post_re_.data();
  const float* __restrict pi = post_im_.data();
#pragma GCC ivdep
  for (uint32_t k = 0; k < n; ++k) {
    const float ar = re[k], ai = im[k];
    const float cr = re[n - k], ci = -im[n - k];
    const float er = 0.5f * (ar + cr), ei = 0.5f * (ai + ci);
    // O = (X[k] - conj(X[n-k])) / 2 * e^{+2 pi i k / N}
    const float dr = 0.5f * (ar - cr), di = 0.5f * (ai - ci);
    const float wr = pr[k], wi = -pi[k];
    const float or_ = dr * wr - di * wi, oi = dr * wi + di * wr;
    // Z = E + i O, conjugated so that the forward transform inverts it.
    tr[k] = (er - oi) * scale;
    ti[k] = -(ei + or_) * scale;
  }
  const uint32_t* rev = bitrev_.data();
  for (uint32_t k = 0; k < n; ++k) {
    zr[rev[k]] = tr[k];
    zi[rev[k]] = ti[k];
  }
  complex_fft(zr, zi);
  for (uint32_t m = 0; m < n; ++m) {
    x[2 * m] = zr[m];
    x[2 * m + 1] = -zi[m];
  }
}

}  // namespace hushbox::dsp
