// Recording takes: the audio thread copies the chosen source into a large
// preallocated SPSC ring while a take runs; the engine's writer thread
// (hb-writer) writes it with libsndfile (WAV 24-bit or FLAC) to the data
// partition. A write stall longer than the ring becomes a counted gap (written
// as silence, so the take keeps its timeline), never a blocked audio thread.
// The engine owns the file: it is finished when the engine stops, whatever
// happened to the supervisor; a WAV header is rewritten and the file synced
// every second, so a power cut loses about the last second.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "link.h"
#include "sample_ring.h"
#include "spsc_queue.h"
#include "status.h"

namespace hushbox {

struct RecorderConfig {
  uint32_t ring_ms = 10000;             // the longest write stall a take absorbs (at 4 channels)
  uint64_t margin_bytes = 64ull << 20;  // stop a take before free space falls under this
  uint32_t sync_ms = 1000;              // header rewrite + fdatasync period
  // Test hook: the writer sleeps `stall_ms` once per engine run, when a take reaches `stall_at_ms`.
  uint32_t stall_at_ms = 0;
  uint32_t stall_ms = 0;
};

class Recorder {
 public:
  static constexpr uint32_t kMaxTakeChannels = 2 + link::kMaxChannels;

  Recorder() = default;
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // [control] Allocate the ring (ring_ms at 4 channels). Before the audio thread runs.
  Status init(const RecorderConfig& config, uint32_t rate, uint32_t max_frames, uint32_t out_channels,
              link::Segment* segment);
  // [control] The writer thread; stop() finishes a take in progress (reason engine_stop).
  Status start();
  void stop();

  // [audio] One block into the ring while a take runs. Wait-free; a full ring becomes a gap.
  void push(const float* in_interleaved, uint32_t in_channels, const float* processed_mic,
            const float* const* out_planar, uint32_t out_channels, uint32_t frames) noexcept;

 private:
  struct Gap {
    uint64_t at;  // frames of the take pushed before the gap
    uint64_t frames;
  };
  static_assert(std::is_trivially_copyable_v<Gap>);

  void thread_main();
  void begin(const link::RecordCommand& cmd);
  void finish(link::RecordStopReason reason, int error);
  void drain(bool all);
  bool write_frames(const float* data, uint64_t frames);
  bool write_silence(uint64_t frames);
  void check_disk();
  void publish();

  RecorderConfig config_;
  uint32_t rate_ = 48000;
  uint32_t out_channels_ = 2;
  link::Segment* link_ = nullptr;
  SampleRing ring_;
  SpscQueue<Gap, 256> gaps_;
  std::vector<float> scratch_;  // [audio] one block, every take channel
  std::vector<float> chunk_;    // [writer]
  std::vector<float> zeros_;    // [writer]

  // Written by the writer, read by the audio thread.
  std::atomic<uint32_t> epoch_{0};  // odd while a take runs
  std::atomic<uint32_t> source_{0};
  std::atomic<uint32_t> channels_{0};
  // Audio-thread state of the current take.
  uint32_t audio_epoch_ = 0;
  uint64_t audio_pushed_ = 0;
  uint64_t audio_gap_ = 0;

  // Writer state.
  std::atomic<bool> stop_{false};
  bool running_ = false;
  pthread_t thread_{};
  void* file_ = nullptr;  // SNDFILE*
  int fd_ = -1;
  uint64_t written_ = 0;      // frames of the take in the file (gaps included)
  uint64_t next_gap_at_ = 0;  // valid while has_gap_
  bool has_gap_ = false;
  Gap gap_{};
  int64_t next_sync_ns_ = 0;
  bool stalled_ = false;
  link::RecordTelemetry telemetry_{};
  // Since the engine started (telemetry_ starts afresh with each take).
  uint64_t takes_total_ = 0;
  uint64_t bytes_done_ = 0;  // of the takes finished
  uint64_t gaps_total_ = 0;
  uint64_t gap_frames_total_ = 0;
  // [writer] Time one step away from the ring (a write, a sync, the test stall) for the longest stall.
  void note_stall(int64_t began_ns);
};

}  // namespace hushbox
