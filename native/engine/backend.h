// An audio device as the engine's audio thread sees it: wait for a period of
// input, then hand back a period of output. Interleaved float samples.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "status.h"
#include "wav.h"

namespace hushbox {

struct IoConfig {
  uint32_t rate = 48000;
  uint32_t frames = 64;        // period size
  uint32_t periods = 2;        // buffer = frames * periods
  uint32_t channels = 2;       // channels the chain sees
  std::string device;          // backend-specific: ALSA name, or unused
  std::string capture_device;  // ALSA: capture from here instead of `device`
  std::string input;           // sim/file: "tone", "noise", "silence" or a WAV path
  std::string output;          // sim/file: WAV path, or empty to discard
  // sim/file: the output WAV's sample format (process writes what it read).
  SampleFormat output_format = SampleFormat::kFloat32;
  // ALSA, capture and playback on two cards (two clocks): resample the playback to hold the buffer between them.
  bool drift_correction = true;
};

// The clocks as the backend measures them (ALSA): each stream against CLOCK_MONOTONIC, playback against
// capture, and the frames in flight between them (capture backlog + playback queue).
struct ClockStatus {
  float drift_ppm = 0;      // playback rate / capture rate - 1
  float capture_ppm = 0;    // capture rate / nominal, against CLOCK_MONOTONIC
  float playback_ppm = 0;   // playback rate / nominal, against CLOCK_MONOTONIC
  float fill_frames = 0;    // frames in flight (averaged over 0.25 s)
  float target_frames = 0;  // what the correction holds the fill at (0: no correction)
  float ratio_ppm = 0;      // resampling applied: playback frames per captured frame - 1
  uint32_t two_clocks = 0;  // capture and playback on different cards
  uint32_t corrected = 0;   // the adaptive resampler runs
};

struct IoResult {
  // kWaiting: no device (missing or lost); the backend waited a period and
  // looks for it off the audio thread.
  enum class Kind { kOk, kXrun, kEnd, kError, kWaiting };
  Kind kind = Kind::kOk;
  int64_t deadline_ns = 0;  // when the period was due (0 if the device does not say)
  int64_t wake_ns = 0;      // when the thread woke with it
  uint32_t lost_frames = 0;
  int code = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // [control] Open the device and allocate everything the audio thread needs.
  virtual Status open(const IoConfig& config) = 0;
  // [audio] Start the clock / the stream.
  virtual Status start() noexcept = 0;
  // [audio] Block until a period of input is ready, then copy it to `in`.
  virtual IoResult read(float* in, uint32_t frames) noexcept = 0;
  // [audio] Queue a period of output.
  virtual IoResult write(const float* out, uint32_t frames) noexcept = 0;
  // [audio] Stop the stream.
  virtual void stop() noexcept = 0;
  // [housekeeping] Non-real-time work (draining recordings); called every few ms.
  virtual void housekeeping() {}
  // [control] Finish files; after the audio thread ended.
  virtual Status close() { return Status::success(); }
  // [any] Frames of device buffering on the round trip.
  virtual uint32_t latency_frames() const noexcept = 0;
  // [audio] The clocks' measurement, updated by read().
  virtual ClockStatus clock_status() const noexcept { return {}; }
  // [any] True when read() follows a real-time clock (sim, ALSA); false for the file backend.
  virtual bool clocked() const noexcept = 0;
  virtual const char* name() const noexcept = 0;
};

// [control] "sim", "file" or "alsa"; nullptr for an unknown name.
std::unique_ptr<Backend> make_backend(const std::string& name);

}  // namespace hushbox
