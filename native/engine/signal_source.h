// The input of the sim and file backends: a test signal or a WAV file.
#pragma once

#include <cstdint>
#include <string>

#include "status.h"
#include "wav.h"

namespace hushbox {

class SignalSource {
 public:
  // [control] spec: "demo" (a voice-like buzz in syllables on channel 1, a
  // plucked note each second on the others), "tone" (440 Hz on channel 1,
  // 1 kHz on the others, -12 dBFS), "tone:HZ[:DBFS]", "noise", "silence", or a WAV path.
  Status open(const std::string& spec, uint32_t rate, uint32_t channels, bool loop);
  // [audio] Fill `frames` interleaved frames; returns how many came from the
  // source (fewer only at the end of a file that does not loop; the rest is zero).
  uint32_t fill(float* out, uint32_t frames) noexcept;
  // [any] Frames a non-looping file holds (0 for generated signals).
  uint64_t length() const noexcept { return wav_.frames(); }

 private:
  enum class Kind { kDemo, kTone, kNoise, kSilence, kWav } kind_ = Kind::kTone;
  uint64_t t_ = 0;  // samples since start (demo)
  float noise() noexcept;
  uint32_t rate_ = 48000;
  uint32_t channels_ = 2;
  bool loop_ = true;
  double phase_[8] = {};
  double freq_[8] = {};
  float amplitude_ = 0.25f;
  uint32_t noise_state_ = 0x12345678u;
  WavData wav_;
  uint64_t pos_ = 0;
};

}  // namespace hushbox
