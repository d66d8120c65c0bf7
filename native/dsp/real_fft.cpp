#include "real_fft.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <utility>

namespace hushbox::dsp {

namespace {

// GCC/Clang vector extensions: SSE2 on x86-64, NEON on ARM64, no intrinsics.
typedef float v4 __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

inline v4 load(const float* p) noexcept {
  v4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, v4 v) noexcept { std::memcpy(p, &v, sizeof v); }
inline v4 splat(float f) noexcept { return v4{f, f, f, f}; }

template <int I0, int I1, int I2, int I3>
inline v4 shuffle(v4 a, v4 b) noexcept {
#if defined(__clang__)
  return __builtin_shufflevector(a, b, I0, I1, I2, I3);
#else
  return __builtin_shuffle(a, b, v4i{I0, I1, I2, I3});
#endif
}

inline v4 reverse(v4 v) noexcept { return shuffle<3, 2, 1, 0>(v, v); }

inline void transpose(v4& a, v4& b, v4& c, v4& d) noexcept {
  const v4 t0 = shuffle<0, 4, 1, 5>(a, b), t1 = shuffle<2, 6, 3, 7>(a, b);
  const v4 t2 = shuffle<0, 4, 1, 5>(c, d), t3 = shuffle<2, 6, 3, 7>(c, d);
  a = shuffle<0, 1, 4, 5>(t0, t2);
  b = shuffle<2, 3, 6, 7>(t0, t2);
  c = shuffle<0, 1, 4, 5>(t1, t3);
  d = shuffle<2, 3, 6, 7>(t1, t3);
}

// x[2m] + i x[2m + 1], m = 0..3, as split vectors.
inline void load_interleaved(const float* x, v4& re, v4& im) noexcept {
  const v4 lo = load(x), hi = load(x + 4);
  re = shuffle<0, 2, 4, 6>(lo, hi);
  im = shuffle<1, 3, 5, 7>(lo, hi);
}

template <typename T>
struct Quad {
  T re[4], im[4];
};

// A radix-4 decimation-in-frequency butterfly, before its twiddles:
// y_r = sum_j x_j (-i)^(r j).
template <typename T>
inline Quad<T> butterfly(T ar, T ai, T br, T bi, T cr, T ci, T dr, T di) noexcept {
  const T t0r = ar + cr, t0i = ai + ci, t1r = ar - cr, t1i = ai - ci;
  const T t2r = br + dr, t2i = bi + di, t3r = bi - di, t3i = dr - br;  // -i (b - d)
  return {{t0r + t2r, t1r + t3r, t0r - t2r, t1r - t3r}, {t0i + t2i, t1i + t3i, t0i - t2i, t1i - t3i}};
}

template <typename T>
inline void rotate(T& re, T& im, T wr, T wi) noexcept {
  const T r = re * wr - im * wi;
  im = re * wi + im * wr;
  re = r;
}

// Stockham radix-4 stage of length l and stride s (OTFFT's formulation):
// x[q + s (p + j m)], j < 4 -> y[q + s (4 p + r)], m = l / 4, with twiddles
// W_l^(r p). Scalar: only for the first stage of the smallest sizes.
void stage_scalar(const float* xr, const float* xi, float* yr, float* yi, uint32_t l, uint32_t s,
                  const float* tw) noexcept {
  const uint32_t m = l / 4;
  for (uint32_t p = 0; p < m; ++p) {
    for (uint32_t q = 0; q < s; ++q) {
      const uint32_t a = q + s * p, o = q + s * 4 * p;
      Quad<float> y = butterfly(xr[a], xi[a], xr[a + s * m], xi[a + s * m], xr[a + 2 * s * m], xi[a + 2 * s * m],
                                xr[a + 3 * s * m], xi[a + 3 * s * m]);
      for (uint32_t r = 1; r < 4; ++r) rotate(y.re[r], y.im[r], tw[(2 * r - 2) * m + p], tw[(2 * r - 1) * m + p]);
      for (uint32_t r = 0; r < 4; ++r) {
        yr[o + s * r] = y.re[r];
        yi[o + s * r] = y.im[r];
      }
    }
  }
}

// The first stage (stride 1, l / 4 >= 4): four butterflies p..p+3 at once,
// their outputs transposed so that each store is contiguous. With `x`, the
// input is x[2j] + i x[2j + 1] instead of xr/xi.
void stage_first(const float* x, const float* xr, const float* xi, float* yr, float* yi, uint32_t l,
                 const float* tw) noexcept {
  const uint32_t m = l / 4;
  for (uint32_t p = 0; p < m; p += 4) {
    v4 ar, ai, br, bi, cr, ci, dr, di;
    if (x != nullptr) {
      load_interleaved(x + 2 * p, ar, ai);
      load_interleaved(x + 2 * (p + m), br, bi);
      load_interleaved(x + 2 * (p + 2 * m), cr, ci);
      load_interleaved(x + 2 * (p + 3 * m), dr, di);
    } else {
      ar = load(xr + p), ai = load(xi + p);
      br = load(xr + p + m), bi = load(xi + p + m);
      cr = load(xr + p + 2 * m), ci = load(xi + p + 2 * m);
      dr = load(xr + p + 3 * m), di = load(xi + p + 3 * m);
    }
    Quad<v4> y = butterfly(ar, ai, br, bi, cr, ci, dr, di);
    for (uint32_t r = 1; r < 4; ++r)
      rotate(y.re[r], y.im[r], load(tw + (2 * r - 2) * m + p), load(tw + (2 * r - 1) * m + p));
    transpose(y.re[0], y.re[1], y.re[2], y.re[3]);
    transpose(y.im[0], y.im[1], y.im[2], y.im[3]);
    for (uint32_t j = 0; j < 4; ++j) {
      store(yr + 4 * (p + j), y.re[j]);
      store(yi + 4 * (p + j), y.im[j]);
    }
  }
}

// A later stage (s >= 4): four values of q at once, the twiddles broadcast.
// kStride = 4 (the second stage: one vector per p) compiles without the inner loop.
template <uint32_t kStride>
void stage_vector(const float* xr, const float* xi, float* yr, float* yi, uint32_t l, uint32_t stride,
                  const float* tw) noexcept {
  const uint32_t s = kStride != 0 ? kStride : stride;
  const uint32_t m = l / 4;
  const uint32_t sm = s * m;
  for (uint32_t p = 0; p < m; ++p) {
    v4 wr[4], wi[4];
    for (uint32_t r = 1; r < 4; ++r) {
      wr[r] = splat(tw[(2 * r - 2) * m + p]);
      wi[r] = splat(tw[(2 * r - 1) * m + p]);
    }
    const float* ar = xr + s * p;
    const float* ai = xi + s * p;
    float* or_ = yr + 4 * s * p;
    float* oi = yi + 4 * s * p;
    for (uint32_t q = 0; q < s; q += 4) {
      Quad<v4> y = butterfly(load(ar + q), load(ai + q), load(ar + sm + q), load(ai + sm + q), load(ar + 2 * sm + q),
                             load(ai + 2 * sm + q), load(ar + 3 * sm + q), load(ai + 3 * sm + q));
      if (p != 0) {
        for (uint32_t r = 1; r < 4; ++r) rotate(y.re[r], y.im[r], wr[r], wi[r]);
      }
      for (uint32_t r = 0; r < 4; ++r) {
        store(or_ + s * r + q, y.re[r]);
        store(oi + s * r + q, y.im[r]);
      }
    }
  }
}

// The last stage for n = 8: radix 2, length 2, stride s = n / 2.
void stage_radix2(const float* xr, const float* xi, float* yr, float* yi, uint32_t s) noexcept {
  for (uint32_t q = 0; q < s; q += 4) {
    const v4 ar = load(xr + q), ai = load(xi + q), br = load(xr + s + q), bi = load(xi + s + q);
    store(yr + q, ar + br);
    store(yi + q, ai + bi);
    store(yr + s + q, ar - br);
    store(yi + s + q, ai - bi);
  }
}

// v_j *= e^{-2 pi i j / 8}, j < 4: the twiddles inside an 8-point DFT.
inline void rotate8(v4 (&vr)[4], v4 (&vi)[4]) noexcept {
  const v4 c = splat(0.70710678118654752f);
  const v4 v1r = c * (vr[1] + vi[1]), v1i = c * (vi[1] - vr[1]);
  const v4 v3r = c * (vi[3] - vr[3]), v3i = -c * (vr[3] + vi[3]);
  const v4 v2r = vi[2], v2i = -vr[2];
  vr[1] = v1r, vi[1] = v1i, vr[2] = v2r, vi[2] = v2i, vr[3] = v3r, vi[3] = v3i;
}

// The last stage when log2(n) is odd, in place of a radix-4 stage of length 8
// and a radix-2 one: radix 8, length 8 (no twiddles between stages), stride
// s = n / 8. One 8-point DFT per q: a radix-2 step, then two 4-point DFTs
// (even and odd outputs).
void stage_radix8(const float* xr, const float* xi, float* yr, float* yi, uint32_t s) noexcept {
  for (uint32_t q = 0; q < s; q += 4) {
    v4 ur[4], ui[4], vr[4], vi[4];
    for (uint32_t j = 0; j < 4; ++j) {
      const v4 ar = load(xr + s * j + q), ai = load(xi + s * j + q);
      const v4 br = load(xr + s * (j + 4) + q), bi = load(xi + s * (j + 4) + q);
      ur[j] = ar + br;
      ui[j] = ai + bi;
      vr[j] = ar - br;
      vi[j] = ai - bi;
    }
    rotate8(vr, vi);
    const Quad<v4> e = butterfly(ur[0], ui[0], ur[1], ui[1], ur[2], ui[2], ur[3], ui[3]);
    const Quad<v4> o = butterfly(vr[0], vi[0], vr[1], vi[1], vr[2], vi[2], vr[3], vi[3]);
    for (uint32_t r = 0; r < 4; ++r) {
      store(yr + s * (2 * r) + q, e.re[r]);
      store(yi + s * (2 * r) + q, e.im[r]);
      store(yr + s * (2 * r + 1) + q, o.re[r]);
      store(yi + s * (2 * r + 1) + q, o.im[r]);
    }
  }
}

// Output R alone of the 4-point DFT of a: sum_j a_j (-i)^(R j).
template <uint32_t R>
inline void dft4_one(const v4 (&ar)[4], const v4 (&ai)[4], v4& yr, v4& yi) noexcept {
  if constexpr (R == 0) {
    yr = (ar[0] + ar[2]) + (ar[1] + ar[3]), yi = (ai[0] + ai[2]) + (ai[1] + ai[3]);
  } else if constexpr (R == 1) {
    yr = (ar[0] - ar[2]) + (ai[1] - ai[3]), yi = (ai[0] - ai[2]) + (ar[3] - ar[1]);
  } else if constexpr (R == 2) {
    yr = (ar[0] + ar[2]) - (ar[1] + ar[3]), yi = (ai[0] + ai[2]) - (ai[1] + ai[3]);
  } else {
    yr = (ar[0] - ar[2]) - (ai[1] - ai[3]), yi = (ai[0] - ai[2]) - (ar[3] - ar[1]);
  }
}

// The pruned last stages, for inverse_tail(): only the outputs y[q + s r]
// with q + s r >= need, one output r at a time, so that the skipped ones
// cost nothing. (Every earlier stage's output feeds some needed one.)
// Radix 4 (log2(n) even, s = n / 4), output R, from q on.
template <uint32_t R>
void radix4_tail(const float* xr, const float* xi, float* yr, float* yi, uint32_t s, uint32_t q) noexcept {
  for (; q < s; q += 4) {
    v4 ar[4], ai[4];
    for (uint32_t j = 0; j < 4; ++j) ar[j] = load(xr + s * j + q), ai[j] = load(xi + s * j + q);
    v4 y_r, y_i;
    dft4_one<R>(ar, ai, y_r, y_i);
    store(yr + s * R + q, y_r);
    store(yi + s * R + q, y_i);
  }
}

// Radix 8 (log2(n) odd, s = n / 8), output R, from q on.
template <uint32_t R>
void radix8_tail(const float* xr, const float* xi, float* yr, float* yi, uint32_t s, uint32_t q) noexcept {
  for (; q < s; q += 4) {
    v4 ar[4], ai[4];
    for (uint32_t j = 0; j < 4; ++j) {
      const v4 a_r = load(xr + s * j + q), a_i = load(xi + s * j + q);
      const v4 b_r = load(xr + s * (j + 4) + q), b_i = load(xi + s * (j + 4) + q);
      ar[j] = R % 2 == 0 ? a_r + b_r : a_r - b_r;
      ai[j] = R % 2 == 0 ? a_i + b_i : a_i - b_i;
    }
    if constexpr (R % 2 != 0) rotate8(ar, ai);
    v4 y_r, y_i;
    dft4_one<R / 2>(ar, ai, y_r, y_i);
    store(yr + s * R + q, y_r);
    store(yi + s * R + q, y_i);
  }
}

using TailFn = void (*)(const float*, const float*, float*, float*, uint32_t, uint32_t) noexcept;

// The last stage of radix `radix` (4 or 8) for the outputs from `need` on.
void stage_tail(const float* xr, const float* xi, float* yr, float* yi, uint32_t s, uint32_t radix,
                uint32_t need) noexcept {
  static constexpr TailFn kRadix4[] = {radix4_tail<0>, radix4_tail<1>, radix4_tail<2>, radix4_tail<3>};
  static constexpr TailFn kRadix8[] = {radix8_tail<0>, radix8_tail<1>, radix8_tail<2>, radix8_tail<3>,
                                       radix8_tail<4>, radix8_tail<5>, radix8_tail<6>, radix8_tail<7>};
  for (uint32_t r = 0; r < radix; ++r) {
    if (need >= s * r + s) continue;
    const uint32_t first = need > s * r ? (need - s * r) & ~3u : 0;
    (radix == 8 ? kRadix8 : kRadix4)[r](xr, xi, yr, yi, s, first);
  }
}

}  // namespace

bool RealFft::prepare(uint32_t size) {
  if (size < 8 || (size & (size - 1)) != 0) return false;
  size_ = size;
  half_ = size / 2;
  const uint32_t n = half_;
  twiddles_.clear();
  for (uint32_t l = n; l >= 4; l /= 4) {
    const uint32_t m = l / 4;
    for (uint32_t r = 1; r < 4; ++r) {
      for (uint32_t p = 0; p < m; ++p)
        twiddles_.push_back(static_cast<float>(std::cos(-2.0 * std::numbers::pi * r * p / l)));
      for (uint32_t p = 0; p < m; ++p)
        twiddles_.push_back(static_cast<float>(std::sin(-2.0 * std::numbers::pi * r * p / l)));
    }
  }
  post_re_.assign(n + 1, 0.0f);
  post_im_.assign(n + 1, 0.0f);
  for (uint32_t k = 0; k <= n; ++k) {
    const double a = -2.0 * std::numbers::pi * k / size;
    post_re_[k] = static_cast<float>(std::cos(a));
    post_im_[k] = static_cast<float>(std::sin(a));
  }
  ar_.assign(n, 0.0f);
  ai_.assign(n, 0.0f);
  br_.assign(n, 0.0f);
  bi_.assign(n, 0.0f);
  return true;
}

RealFft::Split RealFft::complex_fft(const float* x, uint32_t need) noexcept {
  const uint32_t n = half_;
  Split src{ar_.data(), ai_.data()};
  Split dst{br_.data(), bi_.data()};
  const float* tw = twiddles_.data();
  if (n < 16) {
    if (x != nullptr) {
      for (uint32_t m = 0; m < n; ++m) {
        src.re[m] = x[2 * m];
        src.im[m] = x[2 * m + 1];
      }
    }
    stage_scalar(src.re, src.im, dst.re, dst.im, n, 1, tw);
  } else {
    stage_first(x, src.re, src.im, dst.re, dst.im, n, tw);
  }
  std::swap(src, dst);
  tw += 6 * (n / 4);
  uint32_t l = n / 4, s = 4;
  for (; l >= 4; l /= 4, s *= 4) {
    if (l == 8) {  // log2(n) odd: one radix-8 stage ends it
      if (need != 0) {
        stage_tail(src.re, src.im, dst.re, dst.im, s, 8, need);
      } else {
        stage_radix8(src.re, src.im, dst.re, dst.im, s);
      }
      return dst;
    }
    if (need != 0 && l == 4) {
      stage_tail(src.re, src.im, dst.re, dst.im, s, 4, need);
    } else if (s == 4) {
      stage_vector<4>(src.re, src.im, dst.re, dst.im, l, s, tw);
    } else {
      stage_vector<0>(src.re, src.im, dst.re, dst.im, l, s, tw);
    }
    std::swap(src, dst);
    tw += 6 * (l / 4);
  }
  if (l == 2) {  // n = 8 only
    stage_radix2(src.re, src.im, dst.re, dst.im, s);
    std::swap(src, dst);
  }
  return src;
}

void RealFft::forward(const float* x, float* re, float* im) noexcept {
  const uint32_t n = half_;
  const Split z = complex_fft(x, 0);
  const float* __restrict zr = z.re;
  const float* __restrict zi = z.im;
  const float* __restrict pr = post_re_.data();
  const float* __restrict pi = post_im_.data();
  re[0] = zr[0] + zi[0];
  im[0] = 0.0f;
  re[n] = zr[0] - zi[0];
  im[n] = 0.0f;
  // Z[k] and conj(Z[n-k]) give the spectra of the even samples,
  // E = (Z[k] + conj(Z[n-k])) / 2, and of the odd ones,
  // O = -i (Z[k] - conj(Z[n-k])) / 2: X[k] = E + O w^k (w = e^{-2 pi i / N})
  // and X[n-k] = conj(E - O w^k), both from one product. Below, er + i ei =
  // 2 E and p + i q = 2 O w^k.
  const uint32_t h = n / 2;
  uint32_t k = 1;
  const v4 half = splat(0.5f);
  for (; k + 4 <= h; k += 4) {
    const v4 ar = load(zr + k), ai = load(zi + k);
    const v4 cr = reverse(load(zr + n - k - 3)), ci = reverse(load(zi + n - k - 3));
    const v4 wr = load(pr + k), wi = load(pi + k);
    const v4 er = ar + cr, ei = ai - ci, sr = ar - cr, si = ai + ci;
    const v4 p = si * wr + sr * wi, q = si * wi - sr * wr;
    store(re + k, half * (er + p));
    store(im + k, half * (ei + q));
    store(re + n - k - 3, reverse(half * (er - p)));
    store(im + n - k - 3, reverse(half * (q - ei)));
  }
  for (; k <= h; ++k) {  // the rest; X[n/2] last, as X[k]
    const float ar = zr[k], ai = zi[k], cr = zr[n - k], ci = zi[n - k];
    const float er = ar + cr, ei = ai - ci, sr = ar - cr, si = ai + ci;
    const float p = si * pr[k] + sr * pi[k], q = si * pi[k] - sr * pr[k];
    re[n - k] = 0.5f * (er - p);
    im[n - k] = 0.5f * (q - ei);
    re[k] = 0.5f * (er + p);
    im[k] = 0.5f * (ei + q);
  }
}

void RealFft::inverse(float* re, float* im, float* x) noexcept { inverse_tail(re, im, x, size_); }

void RealFft::inverse_tail(float* re, float* im, float* x, uint32_t count) noexcept {
  const uint32_t n = half_;
  float* __restrict tr = ar_.data();
  float* __restrict ti = ai_.data();
  const float* __restrict pr = post_re_.data();
  const float* __restrict pi = post_im_.data();
  // 2 E = X[k] + conj(X[n-k]), 2 O = (X[k] - conj(X[n-k])) conj(w^k) and
  // 2 Z[k] = 2 E + 2 i O, conjugated so that the forward transform inverts
  // it; the pair n - k has conj(2 E) and conj(2 O). Below, er + i ei = 2 E and
  // or_ + i oi = 2 O.
  const auto one = [&](uint32_t k, uint32_t partner) {
    const float ar = re[k], ai = im[k], cr = re[partner], ci = im[partner];
    const float er = ar + cr, ei = ai - ci, dr = ar - cr, di = ai + ci;
    const float or_ = dr * pr[k] + di * pi[k], oi = di * pr[k] - dr * pi[k];
    tr[k] = er - oi;
    ti[k] = -(ei + or_);
    return std::pair{er + oi, ei - or_};  // the pair's
  };
  one(0, n);
  const uint32_t h = n / 2;
  uint32_t k = 1;
  for (; k + 4 <= h; k += 4) {
    const v4 ar = load(re + k), ai = load(im + k);
    const v4 cr = reverse(load(re + n - k - 3)), ci = reverse(load(im + n - k - 3));
    const v4 wr = load(pr + k), wi = load(pi + k);
    const v4 er = ar + cr, ei = ai - ci, dr = ar - cr, di = ai + ci;
    const v4 or_ = dr * wr + di * wi, oi = di * wr - dr * wi;
    store(tr + k, er - oi);
    store(ti + k, -(ei + or_));
    store(tr + n - k - 3, reverse(er + oi));
    store(ti + n - k - 3, reverse(ei - or_));
  }
  for (; k < h; ++k) {
    const auto [r, i] = one(k, n - k);
    tr[n - k] = r;
    ti[n - k] = i;
  }
  one(h, h);
  // x[t] for t >= size_ - count comes from z[m], m >= need. The scale (1/2
  // and 1/n) applied only there: a power of two, so the same rounding.
  const uint32_t need = (size_ - std::min(count, size_)) / 2;
  const Split z = complex_fft(nullptr, need);
  const v4 scale = splat(0.5f / static_cast<float>(n));
  for (uint32_t m = need & ~3u; m < n; m += 4) {
    const v4 r = load(z.re + m) * scale, i = load(z.im + m) * -scale;
    store(x + 2 * m, shuffle<0, 4, 1, 5>(r, i));
    store(x + 2 * m + 4, shuffle<2, 6, 3, 7>(r, i));
  }
}

}  // namespace hushbox::dsp
