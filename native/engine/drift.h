// Clock drift: a delay-locked loop that tracks the ratio of two clocks, and the
// controller that holds the buffer between two devices at its target.
//
// ClockDll is the second-order loop of F. Adriaensen, "Using a DLL to filter
// time" (2005): it predicts the tracked position y from the reference
// position x with a ratio, and corrects phase and ratio with the prediction
// error. Fed with two sound cards' hardware positions read back to back, the
// positions' coarse steps (a timer tick's worth of frames) cancel, so the
// ratio settles to within a ppm or so; fed with a position against
// CLOCK_MONOTONIC it gives a card's rate against the system clock. The
// bandwidth starts wide (lock in a second) and narrows (precision) over the
// first seconds. Everything here is [audio]: no allocation, no system call.
#pragma once

#include <cmath>
#include <cstdint>

namespace hushbox {

class ClockDll {
 public:
  // Bandwidth (Hz) at the start and after `narrow_s` seconds of lock.
  void configure(double wide_hz, double narrow_hz, double narrow_s, double nominal_ratio) noexcept {
    wide_hz_ = wide_hz;
    narrow_hz_ = narrow_hz;
    narrow_s_ = narrow_s;
    ratio_ = nominal_ratio;
    nominal_ = nominal_ratio;
    locked_ = false;
    locked_s_ = 0.0;
    err_avg_ = 0.0;
    updates_ = 0;
  }
  // x: the reference's position, y: the tracked one; dt_s: seconds since the last update.
  void update(double x, double y, double dt_s) noexcept {
    if (!locked_) {
      x_ = x;
      y_ = y;
      locked_ = true;
      return;
    }
    const double dx = x - x_;
    if (!(dx > 0.0) || !(dt_s > 0.0)) return;
    x_ = x;
    locked_s_ += dt_s;
    const double t = locked_s_ / narrow_s_;
    const double bw = t >= 1.0 ? narrow_hz_ : wide_hz_ * std::pow(narrow_hz_ / wide_hz_, t);
    const double w = 2.0 * M_PI * bw * dt_s;
    y_ += ratio_ * dx;
    double e = y - y_;
    // Once locked, a lone outlier (a timer tick between the two position reads) is taken at 4x the usual
    // error at most, so it cannot kick the ratio.
    if (locked_s_ > 3.0) {
      const double limit = 4.0 * (err_avg_ > 1.0 ? err_avg_ : 1.0);
      if (e > limit) e = limit;
      if (e < -limit) e = -limit;
    }
    err_avg_ += 0.01 * (std::fabs(e) - err_avg_);
    y_ += std::sqrt(2.0) * w * e;
    ratio_ += w * w * e / dx;
    ++updates_;
  }
  // After a discontinuity (an xrun restarted the streams): keep the ratio, take the next position as is.
  void rephase() noexcept { locked_ = false; }
  double ratio() const noexcept { return ratio_; }
  double ppm() const noexcept { return (ratio_ / nominal_ - 1.0) * 1e6; }
  double locked_s() const noexcept { return locked_s_; }
  uint64_t updates() const noexcept { return updates_; }

 private:
  double wide_hz_ = 1.0, narrow_hz_ = 0.05, narrow_s_ = 10.0;
  double nominal_ = 1.0;
  double ratio_ = 1.0;
  double x_ = 0.0, y_ = 0.0;
  bool locked_ = false;
  double locked_s_ = 0.0;
  double err_avg_ = 0.0;  // mean |error|, in y's units
  uint64_t updates_ = 0;
};

// How many frames the playback side should get per captured frame so the
// frames in flight between two devices (capture backlog + playback queue) stay
// at their target: the measured ratio, nudged by the fill's error so it is
// taken back over `correct_s` seconds, within +-max_ppm.
class FillController {
 public:
  void configure(double rate, double correct_s, double settle_s, double max_ppm) noexcept {
    rate_ = rate;
    correct_s_ = correct_s;
    settle_s_ = settle_s;
    max_ = max_ppm * 1e-6;
    elapsed_s_ = 0.0;
    have_target_ = false;
    fill_avg_ = -1.0;
    integral_ = 0.0;
  }
  // [audio] fill: frames in flight now; ratio: the measured playback/capture ratio. Returns out frames per in frame.
  double update(double fill, double ratio, double dt_s) noexcept {
    elapsed_s_ += dt_s;
    // A short average: the fill moves by a period as the streams take turns.
    const double a = dt_s / (0.25 + dt_s);
    fill_avg_ = fill_avg_ < 0.0 ? fill : fill_avg_ + a * (fill - fill_avg_);
    if (!have_target_) {
      if (elapsed_s_ < settle_s_) return ratio;
      target_ = fill_avg_;  // the fill once the resampler's pipeline is full: held from here on
      have_target_ = true;
    }
    const double err = (fill_avg_ - target_) / rate_;  // seconds too many in flight
    integral_ += err * dt_s / (correct_s_ * correct_s_);
    if (integral_ > max_) integral_ = max_;
    if (integral_ < -max_) integral_ = -max_;
    double adj = err / correct_s_ + integral_;
    if (adj > max_) adj = max_;
    if (adj < -max_) adj = -max_;
    return ratio * (1.0 - adj);
  }
  bool has_target() const noexcept { return have_target_; }
  double target() const noexcept { return have_target_ ? target_ : 0.0; }
  double fill() const noexcept { return fill_avg_ < 0.0 ? 0.0 : fill_avg_; }

 private:
  double rate_ = 48000.0, correct_s_ = 4.0, settle_s_ = 1.0, max_ = 2e-3;
  double elapsed_s_ = 0.0;
  bool have_target_ = false;
  double target_ = 0.0;
  double fill_avg_ = -1.0;
  double integral_ = 0.0;
};

}  // namespace hushbox
