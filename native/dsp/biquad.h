// Second-order sections in double precision (narrow notches and low cut-offs
// at 192 kHz need it), and their designs after the RBJ Audio EQ Cookbook.
#pragma once

#include <cmath>

namespace hushbox::dsp {

struct BiquadCoeffs {
  double b0 = 1.0, b1 = 0.0, b2 = 0.0, a1 = 0.0, a2 = 0.0;
};

// Transposed direct form II; coefficients may change between samples.
struct Biquad {
  BiquadCoeffs c;
  double z1 = 0.0, z2 = 0.0;

  double process(double x) noexcept {
    const double y = c.b0 * x + z1;
    z1 = c.b1 * x - c.a1 * y + z2;
    z2 = c.b2 * x - c.a2 * y;
    return y;
  }
  void reset() noexcept { z1 = z2 = 0.0; }
};

namespace design {

inline BiquadCoeffs normalize(double b0, double b1, double b2, double a0, double a1, double a2) noexcept {
  return {b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0};
}

// Keeps a corner frequency safely below Nyquist.
inline double limit_freq(double rate, double f) noexcept {
  const double top = rate * 0.45;
  return f < 1.0 ? 1.0 : (f > top ? top : f);
}

inline BiquadCoeffs highpass(double rate, double f, double q) noexcept {
  const double w = 2.0 * M_PI * limit_freq(rate, f) / rate;
  const double cw = std::cos(w), alpha = std::sin(w) / (2.0 * q);
  return normalize((1.0 + cw) / 2.0, -(1.0 + cw), (1.0 + cw) / 2.0, 1.0 + alpha, -2.0 * cw, 1.0 - alpha);
}

// Band-pass with 0 dB at the centre; x - bandpass(x) is a notch of the same width.
inline BiquadCoeffs bandpass(double rate, double f, double bandwidth_hz) noexcept {
  const double fc = limit_freq(rate, f);
  const double w = 2.0 * M_PI * fc / rate;
  const double alpha = std::sin(w) / (2.0 * fc / bandwidth_hz);
  return normalize(alpha, 0.0, -alpha, 1.0 + alpha, -2.0 * std::cos(w), 1.0 - alpha);
}

inline BiquadCoeffs peaking(double rate, double f, double gain_db, double q) noexcept {
  const double a = std::pow(10.0, gain_db / 40.0);
  const double w = 2.0 * M_PI * limit_freq(rate, f) / rate;
  const double cw = std::cos(w), alpha = std::sin(w) / (2.0 * q);
  return normalize(1.0 + alpha * a, -2.0 * cw, 1.0 - alpha * a, 1.0 + alpha / a, -2.0 * cw, 1.0 - alpha / a);
}

// Shelves with slope S = 1.
inline BiquadCoeffs low_shelf(double rate, double f, double gain_db) noexcept {
  const double a = std::pow(10.0, gain_db / 40.0);
  const double w = 2.0 * M_PI * limit_freq(rate, f) / rate;
  const double cw = std::cos(w), alpha = std::sin(w) / 2.0 * std::sqrt(2.0);
  const double sa = 2.0 * std::sqrt(a) * alpha;
  return normalize(a * ((a + 1.0) - (a - 1.0) * cw + sa), 2.0 * a * ((a - 1.0) - (a + 1.0) * cw),
                   a * ((a + 1.0) - (a - 1.0) * cw - sa), (a + 1.0) + (a - 1.0) * cw + sa,
                   -2.0 * ((a - 1.0) + (a + 1.0) * cw), (a + 1.0) + (a - 1.0) * cw - sa);
}

inline BiquadCoeffs high_shelf(double rate, double f, double gain_db) noexcept {
  const double a = std::pow(10.0, gain_db / 40.0);
  const double w = 2.0 * M_PI * limit_freq(rate, f) / rate;
  const double cw = std::cos(w), alpha = std::sin(w) / 2.0 * std::sqrt(2.0);
  const double sa = 2.0 * std::sqrt(a) * alpha;
  return normalize(a * ((a + 1.0) + (a - 1.0) * cw + sa), -2.0 * a * ((a - 1.0) + (a + 1.0) * cw),
                   a * ((a + 1.0) + (a - 1.0) * cw - sa), (a + 1.0) - (a - 1.0) * cw + sa,
                   2.0 * ((a - 1.0) - (a + 1.0) * cw), (a + 1.0) - (a - 1.0) * cw - sa);
}

}  // namespace design
}  // namespace hushbox::dsp
