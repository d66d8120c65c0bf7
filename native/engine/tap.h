// The audio tap: the clean voice (or the raw mic, or the output mix) handed
// from the audio thread through a bounded SPSC ring to the tap thread, which
// resamples it per client with libsoxr and serves it as Wyoming audio events
// (audio-start / audio-chunk / audio-stop) on a Unix socket and, when turned
// on, a TCP port behind a token. The audio never passes through the
// supervisor's Node.js event loop.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "link.h"
#include "sample_ring.h"
#include "status.h"

namespace hushbox {

struct TapConfig {
  std::string socket_path;  // empty: no Unix socket
  std::string tcp_host = "0.0.0.0";
  uint32_t tcp_port = 0;   // 0: no TCP listener
  std::string token_file;  // TCP clients must send this token first (required with a TCP port)
  link::TapSource source = link::TapSource::kMic;
  uint32_t rate = 16000;       // what a client gets unless it asks otherwise (16000 or 48000)
  uint32_t width = 2;          // 2: s16le, 4: f32le
  uint32_t stuck_ms = 5000;    // a client that takes nothing for this long is dropped
  uint32_t backlog_ms = 2000;  // audio kept for a slow client before the oldest is dropped
  uint32_t chunk_ms = 20;      // audio per audio-chunk event
  // Tests and the bench: the thread pops the ring this often (ms).
  uint32_t poll_ms = 5;
  bool enabled() const { return !socket_path.empty() || tcp_port != 0; }
};

struct TapClientState;

class Tap {
 public:
  Tap();
  ~Tap();
  Tap(const Tap&) = delete;
  Tap& operator=(const Tap&) = delete;

  // [control] Allocate the ring, read the token, bind the sockets. Before the audio thread runs.
  Status init(const TapConfig& config, uint32_t engine_rate, uint32_t max_frames, link::Segment* segment);
  // [control] Start / stop the tap thread (stop sends audio-stop to every client).
  Status start();
  void stop();
  bool enabled() const noexcept { return enabled_; }
  // [control] After a failed init(): no sockets, no thread, push() does nothing.
  void disable();

  // [audio] One block: channel 0 of the interleaved input (raw mic), the mic
  // strip's output, and the output mix (planar). Wait-free; drops when the ring is full.
  void push(const float* in_interleaved, uint32_t in_channels, const float* processed_mic,
            const float* const* out_planar, uint32_t out_channels, uint32_t frames) noexcept {
    if (!active_.load(std::memory_order_relaxed)) return;
    const auto source = static_cast<link::TapSource>(source_.load(std::memory_order_relaxed));
    float* s = scratch_.data();
    if (frames > scratch_.size()) frames = static_cast<uint32_t>(scratch_.size());
    switch (source) {
      case link::TapSource::kMicRaw:
        for (uint32_t f = 0; f < frames; ++f) s[f] = in_interleaved[f * in_channels];
        break;
      case link::TapSource::kMic:
        for (uint32_t f = 0; f < frames; ++f) s[f] = processed_mic[f];
        break;
      case link::TapSource::kMix:
        if (out_channels >= 2) {
          for (uint32_t f = 0; f < frames; ++f) s[f] = 0.5f * (out_planar[0][f] + out_planar[1][f]);
        } else {
          for (uint32_t f = 0; f < frames; ++f) s[f] = out_planar[0][f];
        }
        break;
    }
    if (!ring_.push(s, frames)) ring_dropped_.fetch_add(frames, std::memory_order_relaxed);
  }
  // [audio] From the link command.
  void set_source(link::TapSource s) noexcept { source_.store(static_cast<uint32_t>(s), std::memory_order_relaxed); }

 private:
  void thread_main();
  void accept_clients(int listen_fd, uint32_t transport);
  void feed_clients(const float* samples, uint32_t n);
  void close_client(size_t index);
  void publish();

  TapConfig config_;
  bool enabled_ = false;
  uint32_t engine_rate_ = 48000;
  link::Segment* link_ = nullptr;
  SampleRing ring_;
  std::vector<float> scratch_;     // [audio] one block
  std::vector<float> pop_buffer_;  // [tap]
  std::atomic<bool> active_{false};
  std::atomic<uint32_t> source_{1};
  std::atomic<uint64_t> ring_dropped_{0};
  std::atomic<bool> stop_{false};
  bool running_ = false;
  pthread_t thread_{};
  int unix_fd_ = -1;
  int tcp_fd_ = -1;
  std::string token_;
  std::vector<std::unique_ptr<TapClientState>> clients_;
  uint32_t next_id_ = 1;
  link::TapTelemetry telemetry_{};
};

}  // namespace hushbox
