// Hum removal: narrow notches on the mains fundamental and its harmonics.
// The mains frequency is found by itself (50 or 60 Hz: coherent line energy
// on a decimated copy of the input) and tracked: the phase advance of each
// line between analysis windows gives its drift, and the notches follow.
// Each notch is x - m * bandpass(x), m ramping 0..1, so notches come and go
// without a click.
#pragma once

#include <array>
#include <complex>
#include <vector>

#include "audio_block.h"
#include "biquad.h"
#include "stage.h"

namespace hushbox::dsp {

class HumRemover {
 public:
  static constexpr uint32_t kMaxHarmonics = 10;
  // Notch width grows with the harmonic: a small error in the tracked
  // fundamental is k times larger at harmonic k. Narrow (1.5 Hz + 0.25 Hz per
  // harmonic): the drift tracking holds the lines within ~0.02 Hz, and a wider
  // notch costs the voice more (speech over hum at 10 dB SNR: 10.7 dB SI-SDR
  // out with 3 + 1 Hz, 14.3 dB with 1.5 + 0.25 Hz).
  static constexpr double kNotchWidthHz = 1.5;
  static constexpr double kNotchWidthPerHarmonicHz = 0.25;
  enum Mains : int { kAuto = 0, k50 = 1, k60 = 2 };

  // [control]
  void prepare(const ProcessSpec& spec);
  // [audio]
  void reset() noexcept;
  // [audio]
  void set_bypass(bool b) noexcept { fade_.set_bypass(b); }
  void set_mains(int mode) noexcept;
  void set_harmonics(int count) noexcept;
  // [audio] Once per control interval.
  void control() noexcept;
  // [audio] n <= kControlInterval.
  void process(float* x, uint32_t n) noexcept;
  // [any] The fundamental the notches sit on now; 0 while none was found.
  double tracked_hz() const noexcept { return engaged_ ? fundamental_hz_ : 0.0; }

 private:
  static constexpr uint32_t kFamilies = 2;       // 50 Hz, 60 Hz
  static constexpr uint32_t kAnalysedLines = 3;  // fundamental, 2nd, 3rd
  void run(float* x, uint32_t n) noexcept;
  void analyse(double xd) noexcept;
  void end_of_window() noexcept;
  void redesign() noexcept;
  void clear_analysis() noexcept;

  double rate_ = 48000.0;
  BypassFade fade_;
  int mode_ = kAuto;
  uint32_t harmonics_ = 4;

  // Notches.
  std::array<Biquad, kMaxHarmonics> bp_{};
  std::array<SmoothedValue, kMaxHarmonics> depth_{};
  uint32_t running_ = 0;       // sections with depth > 0 or ramping
  double fundamental_hz_ = 0;  // where the notches are
  double designed_hz_ = 0;
  bool engaged_ = false;  // notches on the family in `family_`
  int family_ = -1;       // 0: 50 Hz, 1: 60 Hz, -1: none yet
  int pending_family_ = -1;
  bool switching_ = false;  // notches ramping out before moving to another family

  // Analysis on the input, decimated by a boxcar to about 1.5 kHz.
  uint32_t decimation_ = 32;
  uint32_t dec_count_ = 0;
  double dec_sum_ = 0.0;
  double fs_dec_ = 1500.0;
  uint32_t window_ = 375;  // decimated samples, 0.25 s
  uint32_t win_count_ = 0;
  std::vector<double> hann_;  // analysis window: little leakage from nearby speech
  double energy_ = 0.0;
  std::complex<double> phasor_[kFamilies][kAnalysedLines];
  std::complex<double> rotation_[kFamilies][kAnalysedLines];
  std::complex<double> acc_[kFamilies][kAnalysedLines];
  double last_phase_[kFamilies][kAnalysedLines] = {};
  bool have_last_phase_[kFamilies] = {};
  double last_drift_[kFamilies] = {};
  bool last_drift_valid_[kFamilies] = {};
  double pending_offset_hz_ = 0.0;
  double offset_hz_ = 0.0;  // smoothed drift of the tracked family
  int votes_ = 0;
  int vote_family_ = -1;
};

}  // namespace hushbox::dsp
