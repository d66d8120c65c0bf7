// The front panel's spectrum: the audio thread copies the mic (before
// processing) and the output mix into a preallocated SPSC ring, never
// waiting; the engine's spectrum thread (hb-spectrum) keeps the last window of
// each, computes their 1/6-octave band levels (dsp::OctaveBands) every hop
// (50 ms: 20 spectra a second) and publishes them on the link under a seqlock.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "../dsp/octave_bands.h"
#include "link.h"
#include "sample_ring.h"
#include "status.h"

namespace hushbox {

class Spectrum {
 public:
  static constexpr uint32_t kHopMs = 50;

  Spectrum() = default;
  ~Spectrum();
  Spectrum(const Spectrum&) = delete;
  Spectrum& operator=(const Spectrum&) = delete;

  // [control] Allocate ring, history and analyser. Before the audio thread runs.
  Status init(uint32_t rate, uint32_t max_frames, link::Segment* segment);
  // [control] The spectrum thread.
  Status start();
  void stop();

  // [audio] One block: input channel 0 (the mic, before processing) and the output mix
  // ((L + R) / 2, as the stream's `mix`). Wait-free; a full ring drops the block (counted).
  void push(const float* in_interleaved, uint32_t in_channels, const float* const* out_planar, uint32_t out_channels,
            uint32_t frames) noexcept {
    float* s = scratch_.data();
    if (static_cast<size_t>(frames) * 2 > scratch_.size()) return;
    for (uint32_t f = 0; f < frames; ++f) {
      s[2 * f] = in_interleaved[static_cast<size_t>(f) * in_channels];
      s[2 * f + 1] = out_channels >= 2 ? 0.5f * (out_planar[0][f] + out_planar[1][f]) : out_planar[0][f];
    }
    if (!ring_.push(s, frames * 2)) dropped_.fetch_add(frames, std::memory_order_relaxed);
  }

 private:
  void thread_main();
  void take(const float* pairs, uint32_t frames);
  void analyze(int64_t now);

  uint32_t rate_ = 48000;
  uint32_t window_ = 8192;
  uint32_t hop_ = 2400;
  link::Segment* link_ = nullptr;
  SampleRing ring_;
  std::vector<float> scratch_;  // [audio] one block of pairs
  std::vector<float> pop_;      // [spectrum]
  // [spectrum] The last samples of each signal, linear: [0, fill_) with room to 2 * window_.
  std::vector<float> in_, out_;
  uint32_t fill_ = 0;
  uint32_t since_ = 0;  // frames taken since the last analysis
  dsp::OctaveBands bands_;
  link::SpectrumTelemetry telemetry_{};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<bool> stop_{false};
  bool running_ = false;
  pthread_t thread_{};
};

}  // namespace hushbox
