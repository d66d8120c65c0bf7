// The processing chain, one strip per input channel. The engine calls it for
// every backend; `process` is the real-time path and never allocates, locks
// or blocks.
#pragma once

#include <array>
#include <cstdint>

#include "audio_block.h"
#include "gain.h"
#include "params.h"

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

 private:
  void apply(uint32_t index) noexcept;

  ProcessSpec spec_{};
  std::array<float, kParamCount> values_{};
  std::array<Gain, kMaxChainChannels> trim_{};
};

}  // namespace hushbox::dsp
