#include "hum_remover.h"

namespace hushbox::dsp {
namespace {
constexpr double kNominal[2] = {50.0, 60.0};
constexpr double kMaxDriftHz = 1.0;
}  // namespace

void HumRemover::prepare(const ProcessSpec& spec) {
  rate_ = spec.rate;
  fade_.prepare(spec.rate);
  decimation_ = static_cast<uint32_t>(std::lround(spec.rate / 1500.0));
  if (decimation_ < 1) decimation_ = 1;
  fs_dec_ = spec.rate / decimation_;
  window_ = static_cast<uint32_t>(std::lround(fs_dec_ * 0.25));
  hann_.resize(window_);
  for (uint32_t i = 0; i < window_; ++i) hann_[i] = 0.5 - 0.5 * std::cos(2.0 * M_PI * (i + 0.5) / window_);
  for (uint32_t f = 0; f < kFamilies; ++f) {
    for (uint32_t k = 0; k < kAnalysedLines; ++k) {
      const double w = -2.0 * M_PI * kNominal[f] * (k + 1) / fs_dec_;
      rotation_[f][k] = {std::cos(w), std::sin(w)};
    }
  }
  for (auto& d : depth_) d.prepare(ramp_samples(spec.rate), 0.0f);
  reset();
}

void HumRemover::clear_analysis() noexcept {
  dec_count_ = 0;
  dec_sum_ = 0.0;
  win_count_ = 0;
  energy_ = 0.0;
  for (uint32_t f = 0; f < kFamilies; ++f) {
    for (uint32_t k = 0; k < kAnalysedLines; ++k) {
      phasor_[f][k] = {1.0, 0.0};
      acc_[f][k] = {0.0, 0.0};
    }
  }
  for (uint32_t f = 0; f < kFamilies; ++f) {
    have_last_phase_[f] = false;
    last_drift_valid_[f] = false;
  }
  votes_ = 0;
  vote_family_ = -1;
}

void HumRemover::reset() noexcept {
  fade_.snap();
  clear_analysis();
  offset_hz_ = 0.0;
  pending_offset_hz_ = 0.0;
  switching_ = false;
  pending_family_ = -1;
  if (mode_ == kAuto) {
    family_ = -1;
    engaged_ = false;
  } else {
    family_ = mode_ == k50 ? 0 : 1;
    engaged_ = true;
  }
  fundamental_hz_ = family_ >= 0 ? kNominal[family_] : 0.0;
  for (uint32_t k = 0; k < kMaxHarmonics; ++k) {
    depth_[k].set_target(engaged_ && k < harmonics_ ? 1.0f : 0.0f);
    depth_[k].snap();
    bp_[k].reset();
  }
  redesign();
}

void HumRemover::set_mains(int mode) noexcept {
  if (mode == mode_) return;
  mode_ = mode;
  if (mode == kAuto) return;  // keep what is there; analysis goes on
  const int f = mode == k50 ? 0 : 1;
  if (f != family_ || !engaged_) {
    pending_family_ = f;
    pending_offset_hz_ = 0.0;
    switching_ = true;
  }
}

void HumRemover::set_harmonics(int count) noexcept {
  harmonics_ = static_cast<uint32_t>(count < 1 ? 1 : (count > static_cast<int>(kMaxHarmonics) ? kMaxHarmonics : count));
}

void HumRemover::redesign() noexcept {
  designed_hz_ = fundamental_hz_;
  running_ = 0;
  for (uint32_t k = 0; k < kMaxHarmonics; ++k) {
    if (depth_[k].current() > 0.0f || depth_[k].target() > 0.0f) running_ = k + 1;
  }
  if (fundamental_hz_ <= 0.0) return;
  for (uint32_t k = 0; k < running_; ++k) {
    const double f = fundamental_hz_ * (k + 1);
    if (f < rate_ * 0.45) {
      bp_[k].c = design::bandpass(rate_, f, kNotchWidthHz + kNotchWidthPerHarmonicHz * (k + 1));
    } else {
      bp_[k].c = BiquadCoeffs{0.0, 0.0, 0.0, 0.0, 0.0};  // above Nyquist: no notch
    }
  }
}

void HumRemover::control() noexcept {
  if (fade_.settled_bypassed()) return;
  bool any_depth = false;
  for (uint32_t k = 0; k < kMaxHarmonics; ++k) {
    if (depth_[k].current() > 0.0f || depth_[k].smoothing()) any_depth = true;
  }
  if (switching_) {
    // Ramp every notch out, then move to the new family and ramp back in.
    if (any_depth) {
      for (auto& d : depth_) d.set_target(0.0f);
    } else {
      family_ = pending_family_;
      pending_family_ = -1;
      switching_ = false;
      engaged_ = family_ >= 0;
      offset_hz_ = std::fabs(pending_offset_hz_) < kMaxDriftHz ? pending_offset_hz_ : 0.0;
      pending_offset_hz_ = 0.0;
      fundamental_hz_ = engaged_ ? kNominal[family_] : 0.0;
      for (auto& b : bp_) b.reset();
    }
  }
  if (!switching_) {
    for (uint32_t k = 0; k < kMaxHarmonics; ++k) {
      const float want = engaged_ && k < harmonics_ ? 1.0f : 0.0f;
      if (depth_[k].target() != want) {
        if (want > 0.0f && depth_[k].current() == 0.0f) bp_[k].reset();
        depth_[k].set_target(want);
      }
    }
  }
  if (engaged_) fundamental_hz_ = kNominal[family_] + offset_hz_;
  uint32_t running = 0;
  for (uint32_t k = 0; k < kMaxHarmonics; ++k) {
    if (depth_[k].current() > 0.0f || depth_[k].target() > 0.0f) running = k + 1;
  }
  if (fundamental_hz_ != designed_hz_ || running != running_) redesign();
}

void HumRemover::analyse(double xd) noexcept {
  energy_ += xd * xd;
  const double xw = xd * hann_[win_count_];
  for (uint32_t f = 0; f < kFamilies; ++f) {
    for (uint32_t k = 0; k < kAnalysedLines; ++k) {
      acc_[f][k] += xw * phasor_[f][k];
      phasor_[f][k] *= rotation_[f][k];
    }
  }
  if (++win_count_ >= window_) end_of_window();
}

void HumRemover::end_of_window() noexcept {
  const double n = static_cast<double>(window_);
  double line_power[kFamilies] = {};
  double drift[kFamilies] = {};
  bool have_drift[kFamilies] = {};
  for (uint32_t f = 0; f < kFamilies; ++f) {
    double weight = 0.0, sum = 0.0;
    for (uint32_t k = 0; k < kAnalysedLines; ++k) {
      line_power[f] += 8.0 * std::norm(acc_[f][k]) / (n * n);  // Hann: coherent gain 1/2
      phasor_[f][k] /= std::abs(phasor_[f][k]);
      // Drift of the fundamental from the phase advance of line k over one window.
      const double phase = std::arg(acc_[f][k]);
      if (have_last_phase_[f]) {
        double d = phase - last_phase_[f][k];
        while (d > M_PI) d -= 2.0 * M_PI;
        while (d < -M_PI) d += 2.0 * M_PI;
        const double w = std::norm(acc_[f][k]);
        sum += w * d * fs_dec_ / (2.0 * M_PI * n * (k + 1));
        weight += w;
      }
      last_phase_[f][k] = phase;
    }
    if (weight > 0.0) {
      drift[f] = sum / weight;
      have_drift[f] = true;
    }
    have_last_phase_[f] = true;
  }
  const double total = energy_ / n;
  // Detection: one family's lines carry a good share of the energy, far more
  // than the other family's, and sit still (a voice's harmonics glide; mains
  // does not): the drift is small and the same as a window ago. Two windows
  // in a row.
  if (mode_ == kAuto && total > 1e-12) {
    int vote = -1;
    for (int f = 0; f < 2; ++f) {
      const bool steady = have_drift[f] && last_drift_valid_[f] && std::fabs(drift[f]) < kMaxDriftHz &&
                          std::fabs(drift[f] - last_drift_[f]) < 0.1;
      if (steady && line_power[f] > 0.05 * total && line_power[f] > 8.0 * line_power[1 - f]) vote = f;
    }
    if (vote >= 0 && vote != family_) {
      votes_ = vote == vote_family_ ? votes_ + 1 : 1;
      vote_family_ = vote;
      if (votes_ >= 2 && !switching_) {
        pending_family_ = vote;
        pending_offset_hz_ = drift[vote];
        switching_ = true;
        votes_ = 0;
      }
    } else {
      votes_ = 0;
    }
  }
  for (uint32_t f = 0; f < kFamilies; ++f) {
    last_drift_[f] = drift[f];
    last_drift_valid_[f] = have_drift[f];
  }
  // Tracking: follow the drift of the current family while its lines stand out.
  const int fam = family_ >= 0 && !switching_ ? family_ : -1;
  if (fam >= 0 && have_drift[fam] && line_power[fam] > 1e-3 * total && line_power[fam] > 1e-14) {
    double target = drift[fam];
    target = target > kMaxDriftHz ? kMaxDriftHz : (target < -kMaxDriftHz ? -kMaxDriftHz : target);
    offset_hz_ += 0.5 * (target - offset_hz_);
  }
  for (uint32_t f = 0; f < kFamilies; ++f)
    for (uint32_t k = 0; k < kAnalysedLines; ++k) acc_[f][k] = {0.0, 0.0};
  energy_ = 0.0;
  win_count_ = 0;
}

void HumRemover::run(float* x, uint32_t n) noexcept {
  // Analysis sees the input before the notches.
  for (uint32_t i = 0; i < n; ++i) {
    dec_sum_ += x[i];
    if (++dec_count_ >= decimation_) {
      analyse(dec_sum_ / decimation_);
      dec_sum_ = 0.0;
      dec_count_ = 0;
    }
  }
  const uint32_t sections = running_;
  if (sections == 0) return;
  bool ramping = false;
  float depth[kMaxHarmonics];
  for (uint32_t k = 0; k < sections; ++k) {
    depth[k] = depth_[k].current();
    ramping = ramping || depth_[k].smoothing();
  }
  if (!ramping) {
    for (uint32_t i = 0; i < n; ++i) {
      double y = x[i];
      for (uint32_t k = 0; k < sections; ++k) y -= depth[k] * bp_[k].process(y);
      x[i] = static_cast<float>(y);
    }
    return;
  }
  for (uint32_t i = 0; i < n; ++i) {
    double y = x[i];
    for (uint32_t k = 0; k < sections; ++k) y -= depth_[k].next() * bp_[k].process(y);
    x[i] = static_cast<float>(y);
  }
}

void HumRemover::process(float* x, uint32_t n) noexcept {
  fade_.run(
      x, n, [this](float* y, uint32_t m) { run(y, m); },
      [this] {
        clear_analysis();
        for (auto& b : bp_) b.reset();
      });
}

}  // namespace hushbox::dsp
