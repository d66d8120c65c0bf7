// Signals and measurements shared by the DSP tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "dsp/audio_block.h"
#include "dsp/chain.h"

namespace hushbox::test {

inline std::vector<float> tone(double rate, double hz, double amplitude, size_t n, double phase = 0.0) {
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(amplitude * std::sin(2.0 * M_PI * hz * i / rate + phase));
  return out;
}

inline void add(std::vector<float>& a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) a[i] += b[i];
}

// Amplitude of the component at `hz` in x[from, from + n), Hann-windowed so
// that strong tones nearby do not leak into the figure.
inline double amplitude_at(const std::vector<float>& x, size_t from, size_t n, double rate, double hz) {
  double re = 0.0, im = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double w = 2.0 * M_PI * hz * static_cast<double>(from + i) / rate;
    const double hann = 0.5 - 0.5 * std::cos(2.0 * M_PI * (static_cast<double>(i) + 0.5) / static_cast<double>(n));
    re += hann * x[from + i] * std::cos(w);
    im -= hann * x[from + i] * std::sin(w);
  }
  return 4.0 * std::sqrt(re * re + im * im) / static_cast<double>(n);
}

inline double db(double ratio) { return 20.0 * std::log10(ratio); }

inline double max_step(const std::vector<float>& x, size_t from, size_t to) {
  double m = 0.0;
  for (size_t i = from + 1; i < to && i < x.size(); ++i)
    m = std::max(m, static_cast<double>(std::fabs(x[i] - x[i - 1])));
  return m;
}

// Runs a chain over planar signals in blocks of `block` frames.
class ChainRunner {
 public:
  ChainRunner(double rate, uint32_t channels, uint32_t max_frames = 512) : channels_(channels), max_(max_frames) {
    chain.prepare({rate, max_frames, channels});
  }
  // Process `in` (planar) from `from` for `n` frames, in place.
  void run(std::vector<std::vector<float>>& x, size_t from, size_t n, uint32_t block) {
    std::vector<float*> ptrs(channels_);
    size_t done = 0;
    while (done < n) {
      const auto len = static_cast<uint32_t>(std::min<size_t>(block, n - done));
      for (uint32_t c = 0; c < channels_; ++c) ptrs[c] = x[c].data() + from + done;
      dsp::AudioBlock b{ptrs.data(), channels_, len};
      chain.process(b);
      done += len;
    }
  }
  // Every stage of both strips bypassed, and the master limiter.
  void bypass_all_stages() {
    for (uint32_t s = 0; s < dsp::kStrips; ++s) {
      for (auto p : {dsp::kHpfBypass, dsp::kHumBypass, dsp::kNsBypass, dsp::kGateBypass, dsp::kCompBypass,
                     dsp::kEqBypass, dsp::kLimitBypass})
        chain.set_param(dsp::strip_param(s, p), 1.0f);
    }
    chain.set_param(dsp::kMasterLimitBypass, 1.0f);
  }
  dsp::Chain chain;

 private:
  uint32_t channels_;
  uint32_t max_;
};

}  // namespace hushbox::test
