// One input's processing strip: trim and polarity, high-pass, hum removal,
// gate, compressor, EQ, limiter, output trim. The stages are public so the
// chain can route parameters to them and tests can read their meters.
#pragma once

#include <cstdint>

#include "audio_block.h"
#include "dynamics.h"
#include "equalizer.h"
#include "high_pass.h"
#include "hum_remover.h"
#include "params.h"
#include "stage.h"
#include "trim.h"

namespace hushbox::dsp {

struct StripMeters {
  float gate_reduction_db = 0.0f;
  float comp_reduction_db = 0.0f;
  float limit_reduction_db = 0.0f;
  float hum_hz = 0.0f;  // tracked mains fundamental, 0 while none
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
  uint32_t latency_samples() const noexcept { return limiter.latency_samples(); }
  // [audio]
  StripMeters meters() const noexcept;

  Trim trim;
  HighPass hpf;
  HumRemover hum;
  Gate gate;
  Compressor comp;
  Equalizer eq;
  Limiter limiter;
  Trim out;
};

}  // namespace hushbox::dsp
