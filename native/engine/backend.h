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
  uint32_t frames = 64;   // period size
  uint32_t periods = 2;   // buffer = frames * periods
  uint32_t channels = 2;  // channels the chain sees
  std::string device;     // backend-specific: ALSA name, or unused
  std::string input;      // sim/file: "tone", "noise", "silence" or a WAV path
  std::string output;     // sim/file: WAV path, or empty to discard
  // sim/file: the output WAV's sample format (process writes what it read).
  SampleFormat output_format = SampleFormat::kFloat32;
};

struct IoResult {
  enum class Kind { kOk, kXrun, kEnd, kError };
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
  // [any] True when read() follows a real-time clock (sim, ALSA); false for the file backend.
  virtual bool clocked() const noexcept = 0;
  virtual const char* name() const noexcept = 0;
};

// [control] "sim" or "file"; nullptr for an unknown name.
std::unique_ptr<Backend> make_backend(const std::string& name);

}  // namespace hushbox
