// Noise suppression with at most 3 ms of algorithmic latency, for one channel.
//
// Spectral analysis/synthesis with asymmetric windows (after Mauler & Martin,
// "A low delay, variable resolution, perfect reconstruction spectral
// analysis-synthesis system", and the windows of Wang et al. 2022): a long
// analysis window (~21 ms, 47 Hz bins at 48 kHz) rises slowly and falls within
// the last 1 ms, and a 3 ms synthesis window covers only the end of the frame;
// frames every 2 ms. The delay is the synthesis window's length (143 samples
// at 48 kHz) while the frequency resolution is the analysis window's; the two
// windows' product overlap-adds to exactly 1. Noise power is tracked per bin
// (speech presence probability MMSE tracker, Gerkmann & Hendriks 2012, with a
// minimum-statistics floor; the gains use its 5 s average held within 1.5 dB of
// it). The a priori SNR is decision-directed with a second step (Plapous et
// al.), the Wiener gain is smoothed over frequency and time (instant attack,
// 50 ms release), limited by the floor, and pulled to the floor in pauses
// (little speech presence over 300 Hz..4 kHz). Every size and time constant
// scales with the sample rate. Steady tones in the noise (hum, a fan's blade,
// a compressor) go first, through narrow notches (TonalRemover): a gain
// shaped through a 3 ms window cannot be narrower than ~300 Hz.
#pragma once

#include <cstdint>
#include <vector>

#include "audio_block.h"
#include "real_fft.h"
#include "smoothed_value.h"
#include "tonal_remover.h"

namespace hushbox::dsp {

class NoiseSuppressor {
 public:
  static constexpr float kMinFloorDb = -40.0f;
  static constexpr float kMaxFloorDb = 0.0f;

  // [control] Sizes every buffer for spec.rate (8 kHz .. 384 kHz) and up to
  // spec.max_frames per call; the only method that allocates. False if the
  // spec is out of range.
  bool prepare(const ProcessSpec& spec);
  // [audio] Forget the signal and the noise estimate; parameters jump to their targets.
  void reset() noexcept;
  // [audio] Strength 0..1 (0: the signal passes unchanged, only delayed); ramped.
  void set_strength(float strength) noexcept;
  // [audio] Maximum attenuation in dB, -40..0; ramped.
  void set_floor_db(float db) noexcept;
  // [audio] Process `frames` (1..spec.max_frames) samples in place. The output
  // depends only on the sample sequence, not on how it is cut into blocks.
  void process(float* samples, uint32_t frames) noexcept;

  // [any] Algorithmic delay in samples (constant; the output lags the input by this).
  uint32_t latency_samples() const noexcept { return latency_; }
  // [audio] Gain reduction in dB (>= 0), power weighted over the last ~0.1 s.
  float gain_reduction_db() const noexcept { return gain_reduction_db_; }
  // [any] Analysis size and hop in samples (for tests and benches).
  uint32_t fft_size() const noexcept { return fft_.size(); }
  uint32_t hop() const noexcept { return hop_; }
  // [any] The steady tones being notched out (for tests and benches).
  const TonalRemover& tonal() const noexcept { return tonal_; }

 private:
  void process_frame() noexcept;
  void update_noise(const float* power) noexcept;

  TonalRemover tonal_;
  RealFft fft_;
  double rate_ = 48000.0;
  uint32_t size_ = 0;     // analysis frame (FFT) length
  uint32_t bins_ = 0;     // size_ / 2 + 1
  uint32_t hop_ = 0;      // samples between frames
  uint32_t synth_ = 0;    // synthesis window length
  uint32_t latency_ = 0;  // synth_ - 1

  std::vector<float> analysis_;   // size_
  std::vector<float> synthesis_;  // synth_, applied to the last synth_ samples of a frame
  std::vector<float> input_;      // the last size_ input samples
  std::vector<float> overlap_;    // synth_, overlap-add accumulator
  std::vector<float> output_;     // hop_, finished samples handed out one by one
  std::vector<float> frame_, re_, im_;
  uint32_t input_pos_ = 0;
  uint32_t output_pos_ = 0;

  // Per-bin state.
  std::vector<float> power_;       // |X|^2 of this frame
  std::vector<float> noise_;       // noise power estimate
  std::vector<float> noise_slow_;  // noise_ averaged over ~5 s
  std::vector<float> noise_est_;   // noise_slow_ kept within 1.5 dB of noise_: what the gains use
  std::vector<float> presence_;    // smoothed speech presence probability
  std::vector<float> clean_prev_;  // last frame's clean power estimate (decision-directed)
  std::vector<float> smooth_;      // recursively smoothed power (minimum statistics)
  std::vector<float> min_now_;     // running minimum of the sub-window under way
  std::vector<float> min_sub_;     // minima of the last kSubWindows sub-windows
  std::vector<float> gain_;
  std::vector<float> raw_gain_;     // Wiener gain before smoothing
  std::vector<float> gain_smooth_;  // gain after the time smoothing
  float frame_presence_ = 1.0f;     // mean speech presence over the speech band
  float speech_weight_ = 1.0f;      // 0 in pauses, 1 in speech
  float speech_release_ = 0.0f;
  uint32_t band_lo_ = 0, band_hi_ = 1;
  uint32_t noise_every_ = 1;  // the noise tracker runs every noise_every_ frames (~125 Hz)

  // Time constants per frame, derived from the rate in prepare().
  float noise_alpha_ = 0.0f;
  float slow_alpha_ = 0.0f;
  float presence_alpha_ = 0.0f;
  float dd_alpha_ = 0.0f;
  float smooth_alpha_ = 0.0f;
  float release_alpha_ = 0.0f;
  uint32_t sub_window_frames_ = 1;
  uint32_t sub_window_count_ = 0;
  uint32_t sub_window_index_ = 0;
  uint32_t warmup_frames_ = 0;
  uint32_t frames_seen_ = 0;
  uint32_t low_bin_ = 0;

  float strength_target_ = 1.0f;
  float floor_db_target_ = -30.0f;
  SmoothedValue strength_;
  SmoothedValue floor_db_;
  float meter_alpha_ = 0.0f;
  float meter_in_ = 0.0f, meter_out_ = 0.0f;
  float gain_reduction_db_ = 0.0f;
};

}  // namespace hushbox::dsp
