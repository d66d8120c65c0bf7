#include "engine/drift.h"

#include <cmath>
#include <cstdint>
#include <random>

#include "check.h"

namespace {
// Two cards whose positions advance in timer ticks (as snd-aloop's do, 4 ms
// jiffies), the playback one `ppm` faster, read every period with a little
// timing noise and, now and then, a tick landing between the two reads.
struct TwoCards {
  double ppm;
  double rate = 48000.0;
  double tick_s = 0.004;
  double cap(double t) const { return std::floor(t / tick_s) * tick_s * rate; }
  double play(double t) const { return std::floor(t / tick_s) * tick_s * rate * (1.0 + ppm * 1e-6); }
};
}  // namespace

TEST("drift: the loop measures two cards' drift to within a ppm in 30 s, outliers and all") {
  for (double ppm : {-1000.0, -100.0, 0.0, 100.0, 500.0, 1000.0}) {
    TwoCards cards{ppm};
    hushbox::ClockDll dll;
    dll.configure(1.0, 0.05, 10.0, 1.0);
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> jitter(0.0, 0.002);
    const double period = 512.0 / 48000.0;
    double last = 0.0;
    int outliers = 0;
    for (int k = 1; k < static_cast<int>(30.0 / period); ++k) {
      const double t = k * period + jitter(rng);
      // One read in 40 sees the playback card a tick later than the capture card.
      const bool split = k % 40 == 0;
      outliers += split;
      dll.update(cards.cap(t), cards.play(split ? t + cards.tick_s : t), t - last);
      last = t;
    }
    CHECK(outliers > 50);
    CHECK_NEAR(dll.ppm(), ppm, 1.0);
  }
}

TEST("drift: the fill controller holds the frames in flight between two clocks within a period") {
  // Capture 512 frames per period; the playback card eats (1 + 800 ppm) as fast; the controller decides what to give
  // it.
  const double rate = 48000.0, frames = 512.0, ppm = 800.0;
  hushbox::FillController ctl;
  ctl.configure(rate, 4.0, 1.0, 2000.0);
  double queued = 1024.0, carry = 0.0, lo = 1e9, hi = -1e9;
  const double period = frames / rate;
  for (int k = 1; k < static_cast<int>(120.0 / period); ++k) {
    queued -= frames * (1.0 + ppm * 1e-6);                                     // played during the period
    CHECK(queued > 0.0);                                                       // never an underrun
    const double ratio = ctl.update(queued, 1.0 + ppm * 1e-6 * 0.99, period);  // a measured ratio 1 % off
    if (k * period > 30.0) {
      lo = std::min(lo, queued);
      hi = std::max(hi, queued);
    }
    const double give = frames * ratio + carry;
    const double whole = std::floor(give);
    carry = give - whole;
    queued += whole;
  }
  CHECK(ctl.has_target());
  CHECK(hi - lo < 8.0);  // the fill, read at the same point of each period, moves by a few frames
  CHECK_NEAR(0.5 * (hi + lo), ctl.target(), 4.0);
}
