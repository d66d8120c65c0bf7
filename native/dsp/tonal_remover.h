// Steady tones in the noise (mains hum and its harmonics, a fan's blade tone,
// an air conditioner's compressor) removed by narrow notches, ahead of the
// noise suppressor: its 3 ms synthesis window cannot shape a gain narrower
// than ~300 Hz, so on its own it would take a voice's fundamental away with a
// 120 Hz hum, or leave the hum in.
//
// Detection: the input, decimated to about 8 kHz (polyphase windowed sinc),
// is analysed every 0.256 s in 0.51 s Blackman-Harris windows (1.95 Hz bins,
// sidelobes below -92 dB). Only windows without speech count (the noise
// suppressor says, frame by frame, whether it hears speech): a voice's
// harmonics are not tones to remove, and a synthetic or sung voice can hold
// its pitch for seconds. The minimum of each bin's power over the last eight
// such windows keeps only what is always there. A bin of that minimum spectrum between
// 25 Hz and 2 kHz that is the largest within +-16 Hz and stands at least
// 12 dB over its neighbourhood (geometric mean of the mean power 18..40 Hz
// to either side, so a sloping noise floor is not taken for a tone) is a
// tone; its frequency is refined by a parabola through the log power of the
// latest analysis, then by the phase advance of the tone from quarter to
// quarter of the window, where a steady tone must also hold its amplitude
// and phase (a held vowel does not, for long). Up to kMaxTones tones are followed: each gets a notch
// x - d * bandpass(x), 1.5 Hz wide, at full rate in double precision, whose
// centre follows the tone from analysis to analysis and whose depth ramps in
// over 0.1 s when the tone is found and out when it has been missing for
// six analyses (while speech goes on a tone must still show steady in the
// window, where it was; it is not looked for elsewhere). The notches add no delay.
//
// The analysis of a window is not done at once when the window is complete
// (a lump of work every 0.256 s, a tail in the audio thread's timing): it is
// cut into small steps (a slice of the window, of the bins, or of a
// steadiness test) run as the next hop's samples come in, a fixed share per
// sample, and its result applied when that hop ends. The notches so follow
// the analysis one hop (0.256 s) later than if it ran at once. At most
// kMaxCandidates peaks, the most prominent, are tested for steadiness: the
// same tones as testing them all, unless more than that many stand out.
//
// Everything is sized in prepare(); process() does not allocate, lock or
// make system calls, and its output depends only on the sample sequence, not
// on how it is cut into blocks (steps run where the samples fall; results
// apply at hop boundaries only).
#pragma once

#include <array>
#include <complex>
#include <cstdint>
#include <vector>

#include "biquad.h"
#include "real_fft.h"
#include "smoothed_value.h"

namespace hushbox::dsp {

class TonalRemover {
 public:
  static constexpr uint32_t kMaxTones = 8;
  static constexpr double kNotchWidthHz = 1.5;  // narrow: a wider notch costs the voice more than it gains
  static constexpr double kMinHz = 25.0;
  static constexpr double kMaxHz = 2000.0;
  static constexpr float kProminenceDb = 12.0f;
  static constexpr uint32_t kMaxCandidates = 2 * kMaxTones;

  // [control] Sizes every buffer for `rate` (8 kHz .. 384 kHz); the only
  // method that allocates. False if the rate is out of range.
  bool prepare(double rate);
  // [audio] Forget the signal and every tone.
  void reset() noexcept;
  // [audio] How much of each tone goes: 0 (none) .. 1 (all, at the notch's centre).
  void set_depth(float depth) noexcept { depth_ = depth < 0.0f ? 0.0f : (depth > 1.0f ? 1.0f : depth); }
  // [audio] In place, any number of samples.
  void process(float* x, uint32_t n) noexcept;
  // [audio] How likely the signal just processed holds speech (or anything
  // else above the noise), 0..1; called once per noise-suppressor frame.
  void note_speech(float presence) noexcept {
    ++frames_;
    presence_sum_ += presence;
  }

  // [any] Analysis steps run since prepare() (each a small, bounded piece of work).
  uint64_t analysis_steps() const noexcept { return steps_total_; }
  // [any] The most steps a hop's worth of samples may run: an analysis's worst case.
  uint32_t max_steps_per_hop() const noexcept { return max_steps_; }
  // [any] Input samples per hop (the analysis' period).
  uint32_t hop_samples() const noexcept { return hop_ * decimation_; }

  // [any] Tones with a notch on them now (ramping in or fully in).
  uint32_t tone_count() const noexcept;
  // [any] The frequency of the i-th such tone in Hz (i < tone_count()).
  double tone_hz(uint32_t i) const noexcept;

 private:
  struct Tone {
    Biquad bp;
    SmoothedValue level;
    double hz = 0.0;  // where the notch sits
    uint32_t misses = 0;
    bool live = false;  // found in the last analyses (level going to or at 1)

    // The notch still does something: followed, or fading out.
    bool sounding() const noexcept { return live || level.current() != 0.0f || level.smoothing(); }
    void retune(double rate, double to_hz) noexcept {
      hz = to_hz;
      bp.c = design::bandpass(rate, hz, kNotchWidthHz);
    }
    void drop() noexcept {
      live = false;
      level.set_target(0.0f);
    }
  };

  // The analysis under way, one step at a time.
  enum class Phase : uint8_t { kIdle, kWindow, kFft, kPower, kPeaks, kSteady, kDone };
  // A steadiness test (see steady_step()), a chunk of a quarter of the window per step.
  struct SteadyTest {
    double hz = 0.0;
    uint32_t pass = 0, part = 0, offset = 0;
    std::complex<double> acc{0.0, 0.0};
    std::complex<double> x[4];
    std::complex<double> phasor{1.0, 0.0}, step{1.0, 0.0};
  };

  // Decimates x[0 .. m); true when the hop under way ended at its last sample.
  bool decimate(const float* x, uint32_t m) noexcept;
  void end_of_hop() noexcept;
  // Runs steps until `due` have run in this hop (or the analysis is done).
  void run_steps(uint32_t due) noexcept;
  void step() noexcept;
  void window_step() noexcept;
  void power_step() noexcept;
  void peaks_step() noexcept;
  void start_steady(double hz) noexcept;
  // A chunk of a steadiness test; 1: steady (hz refined), -1: not, 0: not decided yet.
  int steady_step() noexcept;
  void next_candidate() noexcept;
  void apply() noexcept;
  void follow(const double* found_hz, uint32_t found) noexcept;
  void update_active() noexcept;
  // Quarter `part` of the window under analysis (it spans two hop slots).
  const float* quarter(uint32_t part) const noexcept;

  double rate_ = 48000.0;
  float depth_ = 1.0f;

  // Decimator: a windowed-sinc FIR evaluated every decimation_ samples over a
  // line holding the last taps_ - 1 samples and room for new ones.
  uint32_t decimation_ = 6;
  uint32_t taps_ = 72;
  std::vector<float> fir_;
  static constexpr uint32_t kChunk = 256;
  std::vector<float> line_;  // taps_ - 1 + 4 * kChunk
  size_t line_fill_ = 0;
  uint32_t phase_dec_ = 0;  // input samples since the last decimated one, modulo decimation_
  double fs_dec_ = 8000.0;

  // Analysis.
  RealFft fft_;
  uint32_t size_ = 4096;  // analysis window, decimated samples
  uint32_t hop_ = 2048;
  std::vector<float> window_;
  std::vector<float> quarter_window_;  // Hann over a quarter of the window, for the steadiness test
  // Three hops of decimated samples: one being written, the two before it
  // the window under analysis (read while the next hop comes in).
  std::vector<float> decimated_;  // 3 x hop_
  uint32_t slot_ = 0;             // the hop being written
  uint32_t hop_fill_ = 0;         // samples in it
  uint32_t hops_ = 0;             // complete hops since reset (up to 2)
  std::vector<float> frame_, re_, im_;
  uint32_t bins_ = 0;  // bins kept per analysis (up to kMaxHz plus the neighbourhood)
  uint32_t bin_lo_ = 0, bin_hi_ = 0;
  uint32_t guard_ = 8, near_ = 9, far_ = 20;  // peak guard and neighbourhood, in bins
  static constexpr uint32_t kHistory = 8;
  std::vector<float> power_;    // kHistory x bins_, ring of analyses
  std::vector<float> minimum_;  // bins_
  uint32_t history_index_ = 0;
  uint32_t latest_ = 0;  // the ring entry of the latest analysis
  uint32_t analyses_ = 0;
  uint32_t frames_ = 0;  // note_speech() calls in the hop under way
  float presence_sum_ = 0.0f;
  bool last_hop_quiet_ = false;
  float floor_power_ = 0.0f;  // a -100 dBFS tone's peak power: quieter ones are left alone
  uint32_t active_ = 0;       // bit s: slot s has a notch running (in, ramping or fading out)

  // The analysis under way: new tones looked for (`analysing_`), or only the
  // followed ones checked (a window with speech).
  Phase phase_ = Phase::kIdle;
  bool analysing_ = false;
  uint32_t first_slot_ = 0, second_slot_ = 0;  // the window's two hops
  uint32_t cursor_ = 0;                        // where the phase under way is
  uint32_t steps_run_ = 0;                     // in this hop
  uint64_t steps_total_ = 0;
  uint32_t max_steps_ = 1;   // the most an analysis takes: spread over a hop
  uint32_t candidates_ = 0;  // peaks found, most prominent first
  double candidate_hz_[kMaxCandidates] = {};
  float candidate_prominence_[kMaxCandidates] = {};
  uint32_t tested_ = 0;  // candidates (or followed tones) tested so far
  SteadyTest test_;
  double found_hz_[kMaxTones] = {};
  uint32_t found_ = 0;
  // Checking the followed tones: which slots were live at the start, and the outcome per slot.
  uint32_t checked_ = 0;
  bool verified_[kMaxTones] = {};
  double verified_hz_[kMaxTones] = {};

  std::array<Tone, kMaxTones> tones_{};
};

}  // namespace hushbox::dsp
