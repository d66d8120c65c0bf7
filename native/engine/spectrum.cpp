#include "spectrum.h"

#include <cstring>

#include "rt.h"

namespace hushbox {

Spectrum::~Spectrum() { stop(); }

Status Spectrum::init(uint32_t rate, uint32_t max_frames, link::Segment* segment) {
  rate_ = rate;
  link_ = segment;
  // About 170 ms whatever the rate (8192 at 44.1/48 kHz): 1/6-octave bands are resolved from about 100 Hz up.
  window_ = 256;
  while (window_ < rate / 6) window_ <<= 1;
  hop_ = rate * kHopMs / 1000;
  if (!bands_.prepare(rate, window_))
    return Status::error("the spectrum analyser rejected " + std::to_string(rate) + " Hz");
  ring_.allocate(2 * (rate / 2 + max_frames));  // half a second of pairs: the thread takes them every 10 ms
  scratch_.assign(static_cast<size_t>(max_frames) * 2, 0.0f);
  pop_.assign(static_cast<size_t>(hop_) * 2, 0.0f);
  in_.assign(static_cast<size_t>(window_) * 2, 0.0f);
  out_.assign(static_cast<size_t>(window_) * 2, 0.0f);
  fill_ = window_;  // starts on a window of silence
  since_ = 0;
  telemetry_ = link::SpectrumTelemetry{};
  telemetry_.rate = rate;
  telemetry_.window = window_;
  telemetry_.bands = bands_.bands();
  for (uint32_t b = 0; b < link::kSpectrumBands; ++b) {
    telemetry_.centre_hz[b] = dsp::OctaveBands::centre_hz(b);
    telemetry_.in_db[b] = telemetry_.out_db[b] = dsp::OctaveBands::kFloorDb;
  }
  link_->spectrum.init(telemetry_);
  return Status::success();
}

Status Spectrum::start() {
  if (running_) return Status::success();
  stop_.store(false);
  if (!start_thread(
          thread_,
          [](void* self) -> void* {
            static_cast<Spectrum*>(self)->thread_main();
            return nullptr;
          },
          this))
    return Status::error("cannot start the spectrum thread");
  running_ = true;
  return Status::success();
}

void Spectrum::stop() {
  if (!running_) return;
  stop_.store(true);
  pthread_join(thread_, nullptr);
  running_ = false;
}

void Spectrum::take(const float* pairs, uint32_t frames) {
  if (fill_ + frames > in_.size()) {  // keep the last window, at the front
    const uint32_t keep = window_;
    std::memmove(in_.data(), in_.data() + fill_ - keep, keep * sizeof(float));
    std::memmove(out_.data(), out_.data() + fill_ - keep, keep * sizeof(float));
    fill_ = keep;
  }
  for (uint32_t f = 0; f < frames; ++f) {
    in_[fill_ + f] = pairs[2 * f];
    out_[fill_ + f] = pairs[2 * f + 1];
  }
  fill_ += frames;
  since_ += frames;
}

void Spectrum::analyze(int64_t now) {
  bands_.analyze(in_.data() + fill_ - window_, telemetry_.in_db);
  bands_.analyze(out_.data() + fill_ - window_, telemetry_.out_db);
  ++telemetry_.seq;
  telemetry_.time_ns = static_cast<uint64_t>(now);
  telemetry_.dropped_frames = dropped_.load(std::memory_order_relaxed);
  link_->spectrum.store(telemetry_);
}

void Spectrum::thread_main() {
  pthread_setname_np(pthread_self(), "hb-spectrum");
  while (!stop_.load(std::memory_order_relaxed)) {
    // At most a hop at a time, so a backlog (after the thread was held up) still ends in one analysis per hop.
    for (uint32_t got; (got = ring_.pop(pop_.data(), hop_ * 2) / 2) > 0;) {
      take(pop_.data(), got);
      if (since_ >= hop_ && ring_.available() < static_cast<uint64_t>(hop_) * 2) {
        analyze(now_ns());
        since_ = 0;
      }
    }
    sleep_until_ns(now_ns() + 10'000'000);
  }
}

}  // namespace hushbox
