// The engine: a backend, the DSP chain, the link, an audio thread and a
// housekeeping thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../dsp/chain.h"
#include "../dsp/meter.h"
#include "backend.h"
#include "link.h"
#include "profiles.h"
#include "recorder.h"
#include "rt.h"
#include "shm.h"
#include "status.h"
#include "tap.h"

namespace hushbox {

struct EngineConfig {
  std::string backend = "sim";
  IoConfig io;
  RtConfig rt;
  std::string link_name;    // empty: no link
  double duration_s = 0;    // 0: until stopped
  std::string stats_path;   // JSON written at exit
  ParamValues params;       // applied in order before the first block (profile, preset, --set)
  TapConfig tap;            // the audio stream (off unless a socket or port is given)
  RecorderConfig recorder;  // recording takes (started over the link)
};

using link::state_name;

// Wake-up lateness histogram, 1 us bins; allocated before the audio thread runs.
class JitterHistogram {
 public:
  static constexpr uint32_t kBins = 20000;  // 0..20 ms, the last bin collects the rest
  void allocate() { bins_.assign(kBins, 0); }
  // [audio]
  void add(int64_t late_ns) noexcept {
    int64_t us = late_ns < 0 ? 0 : late_ns / 1000;
    if (us >= kBins) us = kBins - 1;
    ++bins_[static_cast<size_t>(us)];
    ++count_;
    if (late_ns > max_ns_) max_ns_ = late_ns;
  }
  // [control] Microseconds below which fraction q of wake-ups fell.
  double percentile(double q) const;
  double max_us() const { return static_cast<double>(max_ns_) / 1000.0; }
  uint64_t count() const { return count_; }

 private:
  std::vector<uint64_t> bins_;
  uint64_t count_ = 0;
  int64_t max_ns_ = 0;
};

class Engine {
 public:
  Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine();

  // [control] Everything that allocates or may fail, before any thread starts.
  Status init(const EngineConfig& config);
  // [control] Run until request_stop(), the duration, or the end of the input.
  Status run();
  // [any] Async-signal-safe.
  void request_stop() noexcept { stop_.store(true, std::memory_order_relaxed); }
  bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }
  // [control] The stats JSON (after run()).
  std::string stats_json() const;

 private:
  void audio_thread_main() noexcept;
  void housekeeping_thread_main();
  void drain_commands() noexcept;
  void publish(int64_t now) noexcept;
  void set_state(link::EngineState s) noexcept;
  void post_event(link::EventType type, uint32_t seq, int32_t code, float value) noexcept;
  void count_xrun(const IoResult& r) noexcept;
  void add_jitter_bin(int64_t late_ns) noexcept;

  EngineConfig config_;
  std::unique_ptr<Backend> backend_;
  dsp::Chain chain_;
  SharedSegment shm_;
  link::Segment* link_ = nullptr;
  std::unique_ptr<link::Segment> private_link_;  // when run without --link

  std::vector<float> in_;   // interleaved
  std::vector<float> out_;  // interleaved
  std::vector<std::vector<float>> planar_;
  std::vector<float*> planar_ptrs_;
  dsp::Meter meter_in_[link::kMaxChannels];
  dsp::Meter meter_out_[link::kMaxChannels];
  JitterHistogram jitter_;
  Tap tap_;
  Recorder recorder_;

  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  bool memory_locked_ = false;
  std::string memory_lock_error_;
  bool dma_latency_held_ = false;
  std::string dma_latency_error_;
  RtReport rt_report_;
  int64_t period_ns_ = 0;
  int64_t started_ns_ = 0;
  int64_t ended_ns_ = 0;

  // Audio-thread state, published through the telemetry seqlock.
  link::Telemetry telemetry_{};
  double load_sum_ = 0.0;
  uint32_t last_applied_seq_ = 0;
  uint64_t periods_at_last_xrun_ = 0;
  static constexpr uint32_t kXrunTimes = 32;
  int64_t xrun_times_ns_[kXrunTimes] = {};                        // CLOCK_MONOTONIC of the first xruns, for the stats
  link::EngineState final_state_ = link::EngineState::kStarting;  // the state the audio loop ended in
  Status run_status_;
};

}  // namespace hushbox
