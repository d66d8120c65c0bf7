// The sim backend: a device clocked in real time by the engine itself,
// one period at a time with absolute-deadline sleeps; and the file backend:
// the same path, unclocked, to the end of the input.
#include <atomic>
#include <memory>
#include <vector>

#include "alsa_backend.h"
#include "backend.h"
#include "rt.h"
#include "sample_ring.h"
#include "signal_source.h"
#include "wav.h"

namespace hushbox {
namespace {

class SourceSinkBackend : public Backend {
 public:
  explicit SourceSinkBackend(bool clocked) : clocked_(clocked) {}

  Status open(const IoConfig& config) override {
    config_ = config;
    period_ns_ = static_cast<int64_t>(1e9 * config.frames / config.rate);
    Status s = Status::success();
    if (config.input == "loopback" && clocked_) {
      // A cable from the outputs to the inputs: what is played comes back periods x frames later,
      // the round trip a duplex device with this buffering has (for the latency measurement).
      loop_delay_ = config.frames * config.periods;
      loop_.assign(static_cast<size_t>(loop_delay_ + config.frames) * config.channels, 0.0f);
    } else {
      s = source_.open(config.input, config.rate, config.channels, clocked_);
      if (!s) return s;
    }
    if (!config.output.empty()) {
      s = writer_.open(config.output, config.rate, config.channels, config.output_format);
      if (!s) return s;
      // Four seconds of room between the audio thread and the writer.
      ring_.allocate(config.rate * config.channels * 4);
      scratch_.resize(static_cast<size_t>(config.rate) * config.channels);
      recording_ = true;
    }
    return Status::success();
  }

  Status start() noexcept override {
    next_deadline_ns_ = now_ns() + period_ns_;
    return Status::success();
  }

  IoResult read(float* in, uint32_t frames) noexcept override {
    IoResult r;
    if (clocked_) {
      sleep_until_ns(next_deadline_ns_);
      r.deadline_ns = next_deadline_ns_;
      r.wake_ns = now_ns();
      next_deadline_ns_ += period_ns_;
      // Woke a whole period late: a real device would have overrun. Skip the
      // lost periods and count them, as ALSA would.
      if (r.wake_ns - r.deadline_ns >= period_ns_) {
        const int64_t lost = (r.wake_ns - r.deadline_ns) / period_ns_;
        next_deadline_ns_ += lost * period_ns_;
        r.kind = IoResult::Kind::kXrun;
        r.lost_frames = static_cast<uint32_t>(lost * frames);
      }
    } else {
      r.wake_ns = now_ns();
    }
    if (ended_) {
      r.kind = IoResult::Kind::kEnd;
      return r;
    }
    if (!loop_.empty()) {
      loop_read(in, frames);
      valid_frames_ = frames;
      return r;
    }
    valid_frames_ = source_.fill(in, frames);
    if (valid_frames_ < frames) ended_ = true;
    if (valid_frames_ == 0) r.kind = IoResult::Kind::kEnd;
    return r;
  }

  IoResult write(const float* out, uint32_t frames) noexcept override {
    IoResult r;
    // The last block of a file is zero-padded; only the frames that came in go out.
    if (valid_frames_ < frames) frames = valid_frames_;
    if (!loop_.empty()) {
      const uint32_t size = static_cast<uint32_t>(loop_.size() / config_.channels);
      loop_write(out, (loop_read_ + size - frames + loop_delay_) % size, frames);
    }
    if (recording_ && !ring_.push(out, frames * config_.channels)) {
      dropped_.fetch_add(frames, std::memory_order_relaxed);
    }
    if (!clocked_) housekeeping_now();
    return r;
  }

  void stop() noexcept override {}

  void housekeeping() override {
    if (clocked_) housekeeping_now();
  }

  Status close() override {
    housekeeping_now();
    return writer_.close();
  }

  uint32_t latency_frames() const noexcept override {
    // A period in, a period out: what a duplex device with this buffering adds at least.
    return clocked_ ? config_.frames * config_.periods : 0;
  }
  bool clocked() const noexcept override { return clocked_; }
  const char* name() const noexcept override { return clocked_ ? "sim" : "file"; }

 private:
  // [audio] The next `frames` frames of the loop into `in`.
  void loop_read(float* in, uint32_t frames) noexcept {
    const uint32_t ch = config_.channels;
    const uint32_t size = static_cast<uint32_t>(loop_.size() / ch);
    for (uint32_t f = 0; f < frames; ++f) {
      const size_t slot = static_cast<size_t>((loop_read_ + f) % size) * ch;
      for (uint32_t c = 0; c < ch; ++c) in[f * ch + c] = loop_[slot + c];
    }
    loop_read_ = (loop_read_ + frames) % size;
  }

  // [audio] `frames` frames of output into the loop at frame `at` (wrapping).
  void loop_write(const float* out, uint32_t at, uint32_t frames) noexcept {
    const uint32_t ch = config_.channels;
    const uint32_t size = static_cast<uint32_t>(loop_.size() / ch);
    for (uint32_t f = 0; f < frames; ++f) {
      const size_t slot = static_cast<size_t>((at + f) % size) * ch;
      for (uint32_t c = 0; c < ch; ++c) loop_[slot + c] = out[f * ch + c];
    }
  }

  void housekeeping_now() {
    if (!recording_) return;
    for (;;) {
      const uint32_t n = ring_.pop(scratch_.data(), static_cast<uint32_t>(scratch_.size()));
      if (n == 0) break;
      writer_.write(scratch_.data(), n / config_.channels);
    }
  }

  bool clocked_;
  IoConfig config_;
  int64_t period_ns_ = 0;
  int64_t next_deadline_ns_ = 0;
  uint32_t valid_frames_ = 0;
  bool ended_ = false;
  SignalSource source_;
  WavWriter writer_;
  SampleRing ring_;
  std::vector<float> scratch_;
  bool recording_ = false;
  std::atomic<uint64_t> dropped_{0};
  std::vector<float> loop_;  // --input loopback: outputs back to the inputs
  uint32_t loop_delay_ = 0;
  uint32_t loop_read_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_backend(const std::string& name) {
  if (name == "sim") return std::make_unique<SourceSinkBackend>(true);
  if (name == "file") return std::make_unique<SourceSinkBackend>(false);
  if (name == "alsa") return make_alsa_backend();
  return nullptr;
}

}  // namespace hushbox
