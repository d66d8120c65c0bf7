#include "chain.h"

#include <cmath>

namespace hushbox::dsp {
namespace {
// Balance pan: the centre leaves both sides at unity; panning turns the far side down.
inline float pan_left(float pan_pct) noexcept { return pan_pct <= 0.0f ? 1.0f : 1.0f - pan_pct / 100.0f; }
inline float pan_right(float pan_pct) noexcept { return pan_pct >= 0.0f ? 1.0f : 1.0f + pan_pct / 100.0f; }
}  // namespace

Chain::Chain() {
  const auto table = param_table();
  for (uint32_t i = 0; i < kParamCount; ++i) values_[i] = table[i].def;
}

bool Chain::prepare(const ProcessSpec& spec) {
  if (spec.rate <= 0.0 || spec.max_frames == 0 || spec.channels == 0 || spec.channels > kMaxChainChannels) {
    return false;
  }
  spec_ = spec;
  mic_out_.assign(spec.max_frames, 0.0f);
  for (auto& s : strips_) s.prepare(spec);
  const uint32_t ramp = ramp_samples(spec.rate);
  mix_ll_.prepare(ramp, 1.0f);
  mix_li_.prepare(ramp, 1.0f);
  mix_rl_.prepare(ramp, 1.0f);
  mix_ri_.prepare(ramp, 1.0f);
  master_gain_.prepare(ramp, 1.0f);
  master_limiter_.prepare(spec, spec.channels);
  master_wet_.prepare(ramp, 1.0f);
  for (uint32_t i = 0; i < kParamCount; ++i) apply(i);
  reset();
  return true;
}

void Chain::reset() noexcept {
  for (auto& s : strips_) s.reset();
  mix_ll_.snap();
  mix_li_.snap();
  mix_rl_.snap();
  mix_ri_.snap();
  master_gain_.snap();
  master_limiter_.reset();
  master_reduction_db_ = 0.0f;
  if (master_warmup_ > 0) {  // a reset is not mid-signal: come back at once
    master_warmup_ = 0;
    master_wet_.set_target(1.0f);
  }
  master_wet_.snap();
  master_needs_reset_ = master_wet_.target() == 0.0f;
  phase_ = 0;
}

void Chain::set_param(uint32_t index, float value) noexcept {
  if (index >= kParamCount) return;
  values_[index] = clamp_param(index, value);
  apply(index);
}

float Chain::param(uint32_t index) const noexcept { return index < kParamCount ? values_[index] : 0.0f; }

void Chain::update_mix() noexcept {
  const float mic = db_to_gain(values_[kMixMicGain]), inst = db_to_gain(values_[kMixInstGain]);
  mix_ll_.set_target(mic * pan_left(values_[kMixMicPan]));
  mix_rl_.set_target(mic * pan_right(values_[kMixMicPan]));
  mix_li_.set_target(inst * pan_left(values_[kMixInstPan]));
  mix_ri_.set_target(inst * pan_right(values_[kMixInstPan]));
}

void Chain::apply(uint32_t index) noexcept {
  const float v = values_[index];
  if (index < kStrips * kStripParamCount) {
    const auto p = static_cast<StripParam>(index % kStripParamCount);
    if (index < kStripParamCount) {
      strips_[0].set_param(p, v);
    } else {
      // The second strip, and any further channel, follow the instrument settings.
      for (uint32_t c = 1; c < kMaxChainChannels; ++c) strips_[c].set_param(p, v);
    }
    return;
  }
  switch (index) {
    case kMixMicGain:
    case kMixMicPan:
    case kMixInstGain:
    case kMixInstPan: update_mix(); break;
    case kMasterGain: master_gain_.set_target(db_to_gain(v)); break;
    case kMasterLimitBypass: master_limiter_.set_bypass(v >= 0.5f); break;
    case kMasterLimitCeiling: master_limiter_.set_ceiling_db(v); break;
    case kMasterLimitRelease: master_limiter_.set_release_ms(v); break;
    case kMasterBypass: {
      const bool settled_bypassed = master_wet_.target() == 0.0f && !master_wet_.smoothing();
      if (v >= 0.5f) {
        master_warmup_ = 0;
        master_wet_.set_target(0.0f);
      } else if (settled_bypassed && master_warmup_ == 0) {
        // Back from a settled bypass: the chain starts afresh, its delay lines empty.
        // It runs unheard until they are full, then fades in, so nothing steps in.
        master_needs_reset_ = true;
        master_warmup_ = latency_samples();
      } else if (master_warmup_ == 0) {
        master_wet_.set_target(1.0f);
      }
      break;
    }
    default: break;
  }
}

void Chain::process_segment(float* const* ch, uint32_t channels, uint32_t offset, uint32_t n) noexcept {
  const bool settled_bypassed = master_wet_.target() == 0.0f && !master_wet_.smoothing();
  const bool warming = master_warmup_ > 0;
  if (settled_bypassed && !warming) {  // bit-exact passthrough
    master_reduction_db_ = 0.0f;
    for (uint32_t i = 0; i < n; ++i) mic_out_[offset + i] = ch[0][offset + i];
    return;
  }
  if (master_needs_reset_) {
    for (uint32_t c = 0; c < channels; ++c) strips_[c].reset();
    master_limiter_.reset();
    master_needs_reset_ = false;
  }
  const bool fading = master_wet_.smoothing();
  float dry[kMaxChainChannels][kControlInterval];
  if (fading || warming) {
    for (uint32_t c = 0; c < channels; ++c)
      for (uint32_t i = 0; i < n; ++i) dry[c][i] = ch[c][offset + i];
  }
  for (uint32_t c = 0; c < channels; ++c) {
    float* x = ch[c] + offset;
    strips_[c].process(x, n);
    // A NaN or infinity (a corrupt input sample, a float file gone wrong) would
    // stick in every filter state: silence the segment and start the strip afresh.
    float probe = 0.0f;
    for (uint32_t i = 0; i < n; ++i) probe += x[i] * 0.0f;
    if (probe != 0.0f) {
      for (uint32_t i = 0; i < n; ++i) x[i] = 0.0f;
      strips_[c].reset();
      ++recoveries_;
    }
  }
  for (uint32_t i = 0; i < n; ++i) mic_out_[offset + i] = ch[0][offset + i];

  // Mix.
  if (channels >= 2) {
    float* l = ch[0] + offset;
    float* r = ch[1] + offset;
    const bool moving = mix_ll_.smoothing() || mix_li_.smoothing() || mix_rl_.smoothing() || mix_ri_.smoothing();
    if (!moving) {
      const float ll = mix_ll_.current(), li = mix_li_.current(), rl = mix_rl_.current(), ri = mix_ri_.current();
      for (uint32_t i = 0; i < n; ++i) {
        const float mic = l[i], inst = r[i];
        l[i] = ll * mic + li * inst;
        r[i] = rl * mic + ri * inst;
      }
    } else {
      for (uint32_t i = 0; i < n; ++i) {
        const float mic = l[i], inst = r[i];
        l[i] = mix_ll_.next() * mic + mix_li_.next() * inst;
        r[i] = mix_rl_.next() * mic + mix_ri_.next() * inst;
      }
    }
  } else {
    float* m = ch[0] + offset;
    for (uint32_t i = 0; i < n; ++i) {
      // Mono out: the mic's level, whatever its pan.
      const float ll = mix_ll_.next(), rl = mix_rl_.next();
      m[i] *= ll > rl ? ll : rl;
      mix_li_.next();
      mix_ri_.next();
    }
  }
  // Master gain (one ramp shared by every channel).
  if (!master_gain_.smoothing()) {
    const float g = master_gain_.current();
    if (g != 1.0f) {
      for (uint32_t c = 0; c < channels; ++c)
        for (uint32_t i = 0; i < n; ++i) ch[c][offset + i] *= g;
    }
  } else {
    for (uint32_t i = 0; i < n; ++i) {
      const float g = master_gain_.next();
      for (uint32_t c = 0; c < channels; ++c) ch[c][offset + i] *= g;
    }
  }
  // Master limiter: the last stage, so the outputs never cross its ceiling.
  float* out[kMaxChainChannels];
  for (uint32_t c = 0; c < channels; ++c) out[c] = ch[c] + offset;
  master_limiter_.process(out, channels, n);
  master_reduction_db_ = warming ? 0.0f : master_limiter_.gain_reduction_db();
  if (warming) {
    for (uint32_t c = 0; c < channels; ++c)
      for (uint32_t i = 0; i < n; ++i) ch[c][offset + i] = dry[c][i];
    master_warmup_ = master_warmup_ > n ? master_warmup_ - n : 0;
    if (master_warmup_ == 0) master_wet_.set_target(1.0f);
  } else if (fading) {
    for (uint32_t i = 0; i < n; ++i) {
      const float w = master_wet_.next();
      for (uint32_t c = 0; c < channels; ++c) {
        float& y = ch[c][offset + i];
        y = dry[c][i] + w * (y - dry[c][i]);
      }
    }
  }
}

void Chain::process(AudioBlock& block) noexcept {
  const uint32_t channels = block.num_channels < spec_.channels ? block.num_channels : spec_.channels;
  if (channels == 0) return;
  uint32_t done = 0;
  while (done < block.frames) {
    if (phase_ == 0) {
      for (uint32_t c = 0; c < channels; ++c) strips_[c].control();
      master_limiter_.control();
    }
    uint32_t n = kControlInterval - phase_;
    if (n > block.frames - done) n = block.frames - done;
    process_segment(block.channels, channels, done, n);
    phase_ = (phase_ + n) % kControlInterval;
    done += n;
  }
}

}  // namespace hushbox::dsp
