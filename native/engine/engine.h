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
#include "midi.h"
#include "midi_input.h"
#include "profiles.h"
#include "recorder.h"
#include "rt.h"
#include "shm.h"
#include "spectrum.h"
#include "status.h"
#include "tap.h"

namespace hushbox {

struct EngineConfig {
  std::string backend = "sim";
  IoConfig io;
  RtConfig rt;
  std::string link_name;     // empty: no link
  double duration_s = 0;     // 0: until stopped
  std::string stats_path;    // JSON written at exit
  ParamValues params;        // applied in order before the first block (profile, preset, --set)
  std::string midi;          // MIDI source: empty (none), "seq", "hw:..." or "file:PATH"
  link::MidiMap midi_map{};  // mappings before the supervisor sends its own (--midi-map)
  TapConfig tap;             // the audio stream (off unless a socket or port is given)
  RecorderConfig recorder;   // recording takes (started over the link)
  // JACK backend: the client's name, and the ports to connect ours to (in order: mic, inst...; out_left, out_right...).
  std::string jack_name = "hushbox";
  std::vector<std::string> connect_in;
  std::vector<std::string> connect_out;
};

struct JackState;  // engine_jack.cpp
struct JackStateDeleter {
  void operator()(JackState* s) const noexcept;
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
  // [any] JACK port names of the chain's inputs and outputs, named after the strips (mic, inst, out_left...).
  static std::vector<std::string> jack_input_names(uint32_t channels);
  static std::vector<std::string> jack_output_names(uint32_t channels);
  // [control] The stats JSON (after run()).
  std::string stats_json() const;

 private:
  Status run_threads();  // the audio and housekeeping threads (every backend but JACK)
  void audio_thread_main() noexcept;
  void housekeeping_thread_main();
  void drain_commands() noexcept;
  void publish(int64_t now) noexcept;
  void set_state(link::EngineState s) noexcept;
  void post_event(link::EventType type, uint32_t seq, int32_t code, float value) noexcept;
  void count_xrun(const IoResult& r, link::XrunStream stream) noexcept;
  void add_jitter_bin(int64_t late_ns) noexcept;
  void note_clock(const ClockStatus& c, int64_t now) noexcept;
  void drain_midi(int64_t now) noexcept;
  struct MidiTarget;
  // [audio] One period through meters and chain, in place in planar_ptrs_; t0: when it began.
  void process_period(uint32_t frames, int64_t t0) noexcept;
  // [audio] Swap in a chain prepared off the audio thread, with the current parameters.
  void adopt_pending_chain() noexcept;
  // [control] A chain prepared for this rate and period, with the parameters as applied now.
  std::unique_ptr<dsp::Chain> prepare_chain(uint32_t rate, uint32_t frames, std::string& error) const;

  // JACK (engine_jack.cpp): the chain runs in JACK's process callback; the
  // control thread connects, reconnects after the server went away, and
  // prepares the chain again when the server's rate or period changes.
  Status init_jack();
  Status run_jack();
  bool jack_open() noexcept;
  void jack_close() noexcept;
  void jack_prepare_for(uint32_t rate, uint32_t frames) noexcept;
  void jack_set_latencies(int mode) noexcept;
  int jack_process(uint32_t nframes) noexcept;
  static int jack_process_cb(uint32_t nframes, void* self) noexcept;

  EngineConfig config_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<dsp::Chain> chain_owner_;  // [control] owns chain_
  dsp::Chain* chain_ = nullptr;              // [audio] the chain in use
  // [control → audio] A chain prepared off the audio thread; the audio thread takes it at a period's start.
  std::unique_ptr<dsp::Chain> pending_owner_;
  std::atomic<dsp::Chain*> pending_chain_{nullptr};
  std::atomic<bool> chain_swapped_{false};  // [audio → control] the pending chain is in use
  uint32_t chain_rate_ = 0;                 // [control] what chain_owner_ (or the pending one) was prepared for
  uint32_t chain_frames_ = 0;
  uint32_t pending_rate_ = 0;  // [control → audio] with pending_chain_
  uint32_t pending_frames_ = 0;
  uint32_t chain_frames_in_use_ = 0;  // [audio] the period chain_ was prepared for
  static constexpr uint32_t kJackMaxFrames = 8192;
  std::atomic<uint32_t> chain_latency_{0};  // [any] the chain's latency, for JACK's latency callback
  std::unique_ptr<JackState, JackStateDeleter> jack_;
  void (*rt_guard_section_)(int) = nullptr;  // test/engine/rt-guard.test.ts: the interposer's section marker
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
  JitterHistogram process_;         // the audio thread's own time per period (read to write), for the stats
  uint64_t audio_page_faults_ = 0;  // taken by the audio thread while running
  Tap tap_;
  Recorder recorder_;
  Spectrum spectrum_;

  // MIDI: the thread, its queue to the audio thread, and the audio thread's copy of the map.
  MidiInput midi_;
  MidiToAudioQueue midi_queue_;
  link::MidiMap midi_map_{};
  uint32_t midi_map_version_ = ~0u;
  midi::CcPairs midi_pairs_;      // [audio] 14-bit CC pairs' MSBs
  JitterHistogram midi_latency_;  // sequencer/raw arrival -> applied on the audio thread
  uint32_t midi_touched_[link::kMaxMidiMappings] = {};
  uint32_t midi_touched_count_ = 0;
  uint64_t midi_programs_ = 0;
  int32_t midi_last_program_ = -1;
  uint64_t midi_actions_ = 0;

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
  static constexpr uint32_t kXrunTimes = 256;
  int64_t xrun_times_ns_[kXrunTimes] = {};                        // CLOCK_MONOTONIC of the first xruns, for the stats
  link::EngineState final_state_ = link::EngineState::kStarting;  // the state the audio loop ended in
  Status run_status_;
  static constexpr uint32_t kDriftSeconds = 600;
  static constexpr double kFillSettleS = 10.0;
  float drift_by_s_[kDriftSeconds] = {};  // the measured drift at each second of the run, for the stats
  uint32_t drift_seconds_ = 0;
  float fill_min_ = -1.0f, fill_max_ = 0.0f;
};

}  // namespace hushbox
