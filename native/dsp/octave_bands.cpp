#include "octave_bands.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace hushbox::dsp {

float OctaveBands::centre_hz(uint32_t band) noexcept {
  return static_cast<float>(1000.0 * std::exp2((kFirstBand + static_cast<int>(band)) / 6.0));
}

bool OctaveBands::prepare(uint32_t rate, uint32_t window) {
  if (rate == 0 || window < 256 || (window & (window - 1)) != 0 || !fft_.prepare(window)) return false;
  rate_ = rate;
  hann_.resize(window);
  double sum_sq = 0.0;
  for (uint32_t i = 0; i < window; ++i) {
    hann_[i] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * i / window));
    sum_sq += static_cast<double>(hann_[i]) * hann_[i];
  }
  windowed_.assign(window, 0.0f);
  re_.assign(window / 2 + 1, 0.0f);
  im_.assign(window / 2 + 1, 0.0f);
  // Parseval: a sine of amplitude A puts N * A^2/4 * sum(w^2) into the positive bins around it;
  // the band reads its mean square against a full-scale sine's (1/2).
  scale_ = static_cast<float>(4.0 / (static_cast<double>(window) * sum_sq));

  const double df = static_cast<double>(rate) / window;
  const double nyquist = rate / 2.0;
  shares_.clear();
  bands_ = 0;
  for (uint32_t b = 0; b < kBands; ++b) {
    const double c = centre_hz(b);
    const double lo = c * std::exp2(-1.0 / 12.0), hi = c * std::exp2(1.0 / 12.0);
    if (hi > nyquist) break;
    bands_ = b + 1;
    const auto first = static_cast<uint32_t>(std::max(1.0, std::floor(lo / df + 0.5)));
    const auto last = std::min(static_cast<uint32_t>(std::floor(hi / df + 0.5)), window / 2);
    for (uint32_t k = first; k <= last; ++k) {
      const double overlap = std::min(hi, (k + 0.5) * df) - std::max(lo, (k - 0.5) * df);
      if (overlap > 0) shares_.push_back({b, k, static_cast<float>(overlap / df)});
    }
  }
  return true;
}

void OctaveBands::analyze(const float* x, float* out) noexcept {
  const uint32_t n = fft_.size();
  for (uint32_t i = 0; i < n; ++i) windowed_[i] = x[i] * hann_[i];
  fft_.forward(windowed_.data(), re_.data(), im_.data());
  double power[kBands] = {};
  for (const Share& s : shares_)
    power[s.band] += static_cast<double>(s.weight) *
                     (static_cast<double>(re_[s.bin]) * re_[s.bin] + static_cast<double>(im_[s.bin]) * im_[s.bin]);
  for (uint32_t b = 0; b < kBands; ++b) {
    const double p = power[b] * scale_;
    out[b] = b < bands_ && p > 1e-14 ? std::max(kFloorDb, static_cast<float>(10.0 * std::log10(p))) : kFloorDb;
  }
}

}  // namespace hushbox::dsp
