// WAV files: PCM 16/24/32-bit and 32-bit float, any channel count.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "status.h"

namespace hushbox {

enum class SampleFormat { kInt16, kInt24, kInt32, kFloat32 };

struct WavData {
  uint32_t rate = 48000;
  uint32_t channels = 1;
  SampleFormat format = SampleFormat::kInt16;
  std::vector<float> samples;  // interleaved, full scale = 1.0

  uint64_t frames() const { return channels ? samples.size() / channels : 0; }
};

// [control] Read a whole file.
Status read_wav(const std::string& path, WavData& out);

// [control] Write a whole file atomically (temporary file, then rename).
Status write_wav(const std::string& path, const WavData& data);

// Streaming writer for long runs: header patched on close.
class WavWriter {
 public:
  WavWriter() = default;
  WavWriter(const WavWriter&) = delete;
  WavWriter& operator=(const WavWriter&) = delete;
  ~WavWriter();

  // [control]
  Status open(const std::string& path, uint32_t rate, uint32_t channels, SampleFormat format);
  // [control] Interleaved samples.
  Status write(const float* samples, uint64_t frames);
  // [control] Patch sizes and close; idempotent.
  Status close();
  bool is_open() const { return file_ != nullptr; }

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
  std::string temp_path_;
  uint32_t channels_ = 0;
  SampleFormat format_ = SampleFormat::kInt16;
  uint64_t data_bytes_ = 0;
  uint32_t rate_for_close_ = 0;
  std::vector<uint8_t> scratch_;
};

const char* sample_format_name(SampleFormat f);

}  // namespace hushbox
