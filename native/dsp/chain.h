// The processing chain: one strip per input channel (channel 1: mic, 2 and
// beyond: instrument), a 2-in/2-out mix, master gain, a master limiter linked
// across the outputs (the strips' limiters cannot stop their sum from
// clipping), and master bypass. The engine calls it for every backend;
// `process` is the real-time path and never allocates, locks or blocks.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "audio_block.h"
#include "dynamics.h"
#include "params.h"
#include "smoothed_value.h"
#include "stage.h"
#include "strip.h"

namespace hushbox::dsp {

inline constexpr uint32_t kMaxChainChannels = 8;

class Chain {
 public:
  Chain();

  // [control] Prepare every stage; the only place that may allocate.
  bool prepare(const ProcessSpec& spec);
  // [audio] Clear state; smoothed values jump to their targets.
  void reset() noexcept;
  // [audio] Set a parameter's target (clamped to its range); ramps inside process().
  void set_param(uint32_t index, float value) noexcept;
  // [any] The target value of a parameter.
  float param(uint32_t index) const noexcept;
  // [audio] Process in place; block.frames <= spec.max_frames.
  void process(AudioBlock& block) noexcept;
  // [any] Algorithmic latency in samples (while not bypassed): a strip's, then the master limiter's look-ahead.
  uint32_t latency_samples() const noexcept { return strips_[0].latency_samples() + master_limiter_.latency_samples(); }
  // [audio] Meters of the strip processing channel `channel`.
  StripMeters meters(uint32_t channel) const noexcept {
    return channel < kMaxChainChannels ? strips_[channel].meters() : StripMeters{};
  }
  // [audio] The master limiter's gain reduction (dB, >= 0); 0 while it or the chain is bypassed.
  float master_limit_reduction_db() const noexcept { return master_reduction_db_; }
  // [audio] The mic strip's output (channel 1, before the mix) of the last process() call.
  const float* processed_mic() const noexcept { return mic_out_.data(); }
  // [any] Times a strip was reset after a NaN or infinity.
  uint64_t recoveries() const noexcept { return recoveries_; }
  // [any] For tests and the bench.
  const Strip& strip(uint32_t channel) const noexcept { return strips_[channel]; }
  const Limiter& master_limiter() const noexcept { return master_limiter_; }

 private:
  void apply(uint32_t index) noexcept;
  void update_mix() noexcept;
  void process_segment(float* const* ch, uint32_t channels, uint32_t offset, uint32_t n) noexcept;

  ProcessSpec spec_{};
  std::array<float, kParamCount> values_{};
  std::array<Strip, kMaxChainChannels> strips_{};
  uint32_t phase_ = 0;  // position within the control interval
  // Mix: out_l = ll * mic + li * inst, out_r = rl * mic + ri * inst (mono: out = ll * mic).
  SmoothedValue mix_ll_, mix_li_, mix_rl_, mix_ri_;
  SmoothedValue master_gain_;
  Limiter master_limiter_;  // every output channel under one gain
  float master_reduction_db_ = 0.0f;
  SmoothedValue master_wet_;  // 1: processed, 0: bypassed
  bool master_needs_reset_ = false;
  uint32_t master_warmup_ = 0;  // samples left before the chain, back from bypass, fades in
  uint64_t recoveries_ = 0;
  std::vector<float> mic_out_;  // max_frames, allocated in prepare()
};

}  // namespace hushbox::dsp
