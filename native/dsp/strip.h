// One input's processing strip: trim and polarity, high-pass, hum removal,
// noise suppression, gate, compressor, EQ, limiter, output trim. The stages are public so the
// chain can route parameters to them and tests can read their meters.
#pragma once

#include <cstdint>

#include "audio_block.h"
#include "dynamics.h"
#include "equalizer.h"
#include "high_pass.h"
#include "hum_remover.h"
#include "noise_suppressor.h"
#include "params.h"
#include "stage.h"
#include "trim.h"

namespace hushbox::dsp {

struct StripMeters {
  float gate_reduction_db = 0.0f;
  float comp_reduction_db = 0.0f;
  float limit_reduction_db = 0.0f;
  float hum_hz = 0.0f;  // tracked mains fundamental, 0 while none
  float ns_reduction_db = 0.0f;
  // Steady tones the noise suppressor notches out, Hz (none while it is bypassed).
  uint32_t tone_count = 0;
  float tones_hz[TonalRemover::kMaxTones] = {};
};

class Strip {
 public:
  // [control]
  void prepare(const ProcessSpec& spec);
  // [audio]
  void reset() noexcept;
  // [audio] One parameter of this strip (value already clamped).
  void set_param(StripParam p, float value) noexcept;
  // [audio] Once per control interval, before process().
  void control() noexcept;
  // [audio] n <= kControlInterval.
  void process(float* x, uint32_t n) noexcept;
  // [any] Algorithmic latency in samples.
  uint32_t latency_samples() const noexcept { return ns.latency_samples() + limiter.latency_samples(); }
  // [audio]
  StripMeters meters() const noexcept;

  Trim trim;
  HighPass hpf;
  HumRemover hum;
  NoiseSuppressor ns;
  // Noise suppression has its own delay: the fade delays the dry path to match,
  // so bypassing it neither clicks nor moves the signal in time.
  BypassFade ns_fade;
  Gate gate;
  Compressor comp;
  Equalizer eq;
  Limiter limiter;
  Trim out;

 private:
  uint32_t ns_warmup_ = 0;  // samples left before a re-enabled suppressor fades in
  uint32_t ns_warmup_samples_ = 0;
};

}  // namespace hushbox::dsp
