#include "chain.h"

namespace hushbox::dsp {

Chain::Chain() {
  const auto table = param_table();
  for (uint32_t i = 0; i < kParamCount; ++i) values_[i] = table[i].def;
}

bool Chain::prepare(const ProcessSpec& spec) {
  if (spec.rate <= 0.0 || spec.max_frames == 0 || spec.channels == 0 || spec.channels > kMaxChainChannels) {
    return false;
  }
  spec_ = spec;
  for (auto& g : trim_) g.prepare(spec);
  for (uint32_t i = 0; i < kParamCount; ++i) apply(i);
  reset();
  return true;
}

void Chain::reset() noexcept {
  for (auto& g : trim_) g.reset();
}

void Chain::set_param(uint32_t index, float value) noexcept {
  if (index >= kParamCount) return;
  values_[index] = clamp_param(index, value);
  apply(index);
}

float Chain::param(uint32_t index) const noexcept { return index < kParamCount ? values_[index] : 0.0f; }

void Chain::apply(uint32_t index) noexcept {
  switch (index) {
    case kMicTrimGain: trim_[0].set_gain_db(values_[index]); break;
    case kInstTrimGain:
      // The second strip, and any further channel, follow the instrument trim.
      for (uint32_t c = 1; c < kMaxChainChannels; ++c) trim_[c].set_gain_db(values_[index]);
      break;
    default: break;
  }
}

void Chain::process(AudioBlock& block) noexcept {
  const uint32_t channels = block.num_channels < spec_.channels ? block.num_channels : spec_.channels;
  for (uint32_t c = 0; c < channels; ++c) trim_[c].process(block.channels[c], block.frames);
}

}  // namespace hushbox::dsp
