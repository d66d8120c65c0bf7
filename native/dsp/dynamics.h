// Dynamics: expander/gate, compressor and look-ahead limiter. Each reports
// its gain reduction (dB, the most of the last segment).
#pragma once

#include <cstdint>
#include <vector>

#include "audio_block.h"
#include "smoothed_value.h"
#include "stage.h"

namespace hushbox::dsp {

// Opens when the level reaches the threshold, closes when it falls below
// threshold - hysteresis for longer than hold; the gain ramps linearly in dB
// across the range: attack is the time to open fully, release to close fully.
class Gate {
 public:
  // [control]
  void prepare(const ProcessSpec& spec);
  // [audio]
  void reset() noexcept;
  // [audio]
  void set_bypass(bool b) noexcept { fade_.set_bypass(b); }
  void set_threshold_db(float v) noexcept { threshold_db_ = v, dirty_ = true; }
  void set_range_db(float v) noexcept { range_db_ = v, dirty_ = true; }
  void set_attack_ms(float v) noexcept { attack_ms_ = v, dirty_ = true; }
  void set_hold_ms(float v) noexcept { hold_ms_ = v, dirty_ = true; }
  void set_release_ms(float v) noexcept { release_ms_ = v, dirty_ = true; }
  void set_hysteresis_db(float v) noexcept { hysteresis_db_ = v, dirty_ = true; }
  // [audio] Once per control interval.
  void control() noexcept;
  // [audio] n <= kControlInterval.
  void process(float* x, uint32_t n) noexcept;
  // [audio]
  float gain() const noexcept { return gain_; }
  float gain_reduction_db() const noexcept { return reduction_db_; }
  bool open() const noexcept { return open_; }

 private:
  void run(float* x, uint32_t n) noexcept;
  double rate_ = 48000.0;
  BypassFade fade_;
  float threshold_db_ = -55.0f, range_db_ = 10.0f, attack_ms_ = 2.0f, hold_ms_ = 100.0f, release_ms_ = 200.0f,
        hysteresis_db_ = 4.0f;
  bool dirty_ = true;
  float open_level_ = 0.0f, close_level_ = 0.0f, floor_ = 1.0f, up_ = 1.0f, down_ = 1.0f, env_decay_ = 0.0f;
  uint32_t hold_samples_ = 0;
  // State.
  float env_ = 0.0f, gain_ = 1.0f, reduction_db_ = 0.0f;
  uint32_t hold_left_ = 0;
  bool open_ = true;
};

// Feed-forward, soft knee, gain computed per sample from the peak level and
// smoothed in dB with separate attack and release (Giannoulis, Massberg and
// Reiss 2012); makeup ramps.
class Compressor {
 public:
  // [control]
  void prepare(const ProcessSpec& spec);
  // [audio]
  void reset() noexcept;
  // [audio]
  void set_bypass(bool b) noexcept { fade_.set_bypass(b); }
  void set_threshold_db(float v) noexcept { threshold_.set_target(v); }
  void set_ratio(float v) noexcept { ratio_.set_target(v); }
  void set_knee_db(float v) noexcept { knee_.set_target(v); }
  void set_attack_ms(float v) noexcept { attack_ms_ = v, dirty_ = true; }
  void set_release_ms(float v) noexcept { release_ms_ = v, dirty_ = true; }
  void set_makeup_db(float v) noexcept { makeup_.set_target(db_to_gain(v)); }
  // [audio] Once per control interval.
  void control() noexcept;
  // [audio] n <= kControlInterval.
  void process(float* x, uint32_t n) noexcept;
  // [any] The static curve: output level for a steady input level (dB).
  static float curve_db(float in_db, float threshold_db, float ratio, float knee_db) noexcept;
  float gain_reduction_db() const noexcept { return reduction_db_; }

 private:
  void run(float* x, uint32_t n) noexcept;
  double rate_ = 48000.0;
  BypassFade fade_;
  SmoothedValue threshold_, ratio_, knee_;  // per control interval
  SmoothedValue makeup_;                    // per sample, linear
  float attack_ms_ = 10.0f, release_ms_ = 150.0f;
  bool dirty_ = true;
  float attack_coeff_ = 0.0f, release_coeff_ = 0.0f;
  float knee_start_level_ = 0.0f;  // linear level below which nothing happens
  float gr_db_ = 0.0f;             // smoothed gain change, <= 0
  float reduction_db_ = 0.0f;
};

// Look-ahead peak limiter: the gain needed by each sample is known `lookahead`
// samples early; a sliding minimum and a moving average over lookahead+1
// samples make a smooth gain that is never above what any sample needs, so
// the ceiling is never crossed. Latency: the look-ahead (0.5 ms).
// Bypassed, the delay remains, so the strip's latency never changes.
// Linked channels (the master limiter on the outputs) share one gain, taken
// from the loudest, so the balance between them never moves.
class Limiter {
 public:
  // Look-ahead of each limiter: a strip's and the master's in series add
  // 1 ms together, the limiting's whole share of the latency.
  static constexpr double kLookaheadSeconds = 0.0005;
  // [control] `channels`: how many channels share the gain (a strip: 1).
  void prepare(const ProcessSpec& spec, uint32_t channels = 1);
  // [audio]
  void reset() noexcept;
  // [audio]
  void set_bypass(bool b) noexcept;
  void set_ceiling_db(float v) noexcept { ceiling_.set_target(db_to_gain(v)); }
  void set_release_ms(float v) noexcept { release_ms_ = v, dirty_ = true; }
  // [audio] Once per control interval.
  void control() noexcept;
  // [audio] Any n; one channel.
  void process(float* x, uint32_t n) noexcept { process(&x, 1, n); }
  // [audio] Any n; `channels` (at most the prepared count) under one gain.
  void process(float* const* x, uint32_t channels, uint32_t n) noexcept;
  // [any]
  uint32_t latency_samples() const noexcept { return lookahead_; }
  float gain_reduction_db() const noexcept { return reduction_db_; }
  // [any] Samples the final safety clip had to touch (should stay 0).
  uint64_t safety_clips() const noexcept { return clips_; }

 private:
  template <uint32_t kChannels>
  void run(float* const* x, uint32_t channels, uint32_t n) noexcept;
  void delay_only(float* const* x, uint32_t channels, uint32_t n) noexcept;
  void clear_gain_state() noexcept;
  double rate_ = 48000.0;
  uint32_t lookahead_ = 48;
  uint32_t channels_ = 1;
  SmoothedValue wet_;
  bool bypassed_ = false;
  bool needs_reset_ = false;
  SmoothedValue ceiling_;  // linear, per sample
  float release_ms_ = 50.0f;
  bool dirty_ = true;
  double release_coeff_ = 0.0;
  // Delay lines of the input: one ring of `lookahead` samples per channel, end to end.
  std::vector<float> delay_;
  uint32_t pos_ = 0;
  // Sliding minimum (monotonic deque over a ring) and moving sum.
  std::vector<float> dq_value_;
  std::vector<uint64_t> dq_index_;
  uint32_t dq_head_ = 0, dq_size_ = 0, dq_mask_ = 0;
  std::vector<float> minima_;  // ring of the last lookahead+1 minima
  double sum_ = 0.0;
  uint64_t n_ = 0;
  uint64_t last_limited_ = 0;  // the last sample that needed less than unity gain
  double gain_ = 1.0;
  float reduction_db_ = 0.0f;
  uint64_t clips_ = 0;
};

}  // namespace hushbox::dsp
