#include "wav.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

namespace hushbox {
namespace {

constexpr uint16_t kFormatPcm = 1;
constexpr uint16_t kFormatFloat = 3;
constexpr uint16_t kFormatExtensible = 0xFFFE;

uint32_t bytes_per_sample(SampleFormat f) {
  switch (f) {
    case SampleFormat::kInt16: return 2;
    case SampleFormat::kInt24: return 3;
    case SampleFormat::kInt32: return 4;
    case SampleFormat::kFloat32: return 4;
  }
  return 2;
}

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

float decode(const uint8_t* p, SampleFormat f) {
  switch (f) {
    case SampleFormat::kInt16: return static_cast<float>(static_cast<int16_t>(le16(p))) / 32768.0f;
    case SampleFormat::kInt24: {
      int32_t v = static_cast<int32_t>(p[0] | (p[1] << 8) | (p[2] << 16));
      if (v & 0x800000) v |= ~0xFFFFFF;
      return static_cast<float>(v) / 8388608.0f;
    }
    case SampleFormat::kInt32:
      return static_cast<float>(static_cast<double>(static_cast<int32_t>(le32(p))) / 2147483648.0);
    case SampleFormat::kFloat32: {
      float v;
      uint32_t bits = le32(p);
      std::memcpy(&v, &bits, 4);
      return v;
    }
  }
  return 0.0f;
}

int64_t quantize(float x, double scale, int64_t lo, int64_t hi) {
  const double v = std::nearbyint(static_cast<double>(x) * scale);
  if (!(v >= static_cast<double>(lo))) return lo;  // also catches NaN
  if (v > static_cast<double>(hi)) return hi;
  return static_cast<int64_t>(v);
}

void encode(uint8_t* p, float x, SampleFormat f) {
  switch (f) {
    case SampleFormat::kInt16:
      put16(p, static_cast<uint16_t>(static_cast<int16_t>(quantize(x, 32768.0, -32768, 32767))));
      break;
    case SampleFormat::kInt24: {
      const auto v = static_cast<int32_t>(quantize(x, 8388608.0, -8388608, 8388607));
      p[0] = static_cast<uint8_t>(v);
      p[1] = static_cast<uint8_t>(v >> 8);
      p[2] = static_cast<uint8_t>(v >> 16);
      break;
    }
    case SampleFormat::kInt32:
      put32(p, static_cast<uint32_t>(static_cast<int32_t>(quantize(x, 2147483648.0, INT32_MIN, INT32_MAX))));
      break;
    case SampleFormat::kFloat32: {
      uint32_t bits;
      std::memcpy(&bits, &x, 4);
      put32(p, bits);
      break;
    }
  }
}

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};

// PCM: a 16-byte fmt chunk. Float: an 18-byte fmt chunk (cbSize 0) and a fact
// chunk, as readers such as sox expect for non-PCM data.
size_t header_size(SampleFormat format) { return format == SampleFormat::kFloat32 ? 58 : 44; }

void make_header(uint8_t* h, uint32_t rate, uint32_t channels, SampleFormat format, uint64_t data_bytes) {
  const uint32_t bps = bytes_per_sample(format);
  const bool is_float = format == SampleFormat::kFloat32;
  const uint32_t hs = static_cast<uint32_t>(header_size(format));
  const uint32_t data32 = data_bytes > 0xFFFFFFFFull - hs ? 0xFFFFFFFFu - hs : static_cast<uint32_t>(data_bytes);
  std::memcpy(h, "RIFF", 4);
  put32(h + 4, hs - 8 + data32);
  std::memcpy(h + 8, "WAVEfmt ", 8);
  put32(h + 16, is_float ? 18 : 16);
  put16(h + 20, is_float ? kFormatFloat : kFormatPcm);
  put16(h + 22, static_cast<uint16_t>(channels));
  put32(h + 24, rate);
  put32(h + 28, rate * channels * bps);
  put16(h + 32, static_cast<uint16_t>(channels * bps));
  put16(h + 34, static_cast<uint16_t>(bps * 8));
  uint8_t* p = h + 36;
  if (is_float) {
    put16(p, 0);  // cbSize
    std::memcpy(p + 2, "fact", 4);
    put32(p + 6, 4);
    put32(p + 10, channels ? data32 / (channels * bps) : 0);
    p += 14;
  }
  std::memcpy(p, "data", 4);
  put32(p + 4, data32);
}

}  // namespace

const char* sample_format_name(SampleFormat f) {
  switch (f) {
    case SampleFormat::kInt16: return "s16";
    case SampleFormat::kInt24: return "s24";
    case SampleFormat::kInt32: return "s32";
    case SampleFormat::kFloat32: return "f32";
  }
  return "?";
}

Status read_wav(const std::string& path, WavData& out) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) return Status::error(path + ": cannot open: " + std::strerror(errno));
  uint8_t riff[12];
  if (std::fread(riff, 1, 12, f.get()) != 12 || std::memcmp(riff, "RIFF", 4) != 0 ||
      std::memcmp(riff + 8, "WAVE", 4) != 0) {
    return Status::error(path + ": not a RIFF/WAVE file");
  }
  bool have_fmt = false;
  uint16_t tag = 0, channels = 0, bits = 0;
  uint32_t rate = 0;
  for (;;) {
    uint8_t ch[8];
    if (std::fread(ch, 1, 8, f.get()) != 8) {
      return Status::error(path + (have_fmt ? ": no data chunk" : ": no fmt chunk"));
    }
    const uint32_t size = le32(ch + 4);
    if (std::memcmp(ch, "fmt ", 4) == 0) {
      if (size < 16 || size > 64) return Status::error(path + ": malformed fmt chunk");
      uint8_t fmt[64];
      if (std::fread(fmt, 1, size, f.get()) != size) return Status::error(path + ": truncated fmt chunk");
      tag = le16(fmt);
      channels = le16(fmt + 2);
      rate = le32(fmt + 4);
      bits = le16(fmt + 14);
      if (tag == kFormatExtensible && size >= 26) tag = le16(fmt + 24);
      if (size & 1) std::fseek(f.get(), 1, SEEK_CUR);
      have_fmt = true;
    } else if (std::memcmp(ch, "data", 4) == 0) {
      if (!have_fmt) return Status::error(path + ": data chunk before fmt chunk");
      SampleFormat format;
      if (tag == kFormatPcm && bits == 16)
        format = SampleFormat::kInt16;
      else if (tag == kFormatPcm && bits == 24)
        format = SampleFormat::kInt24;
      else if (tag == kFormatPcm && bits == 32)
        format = SampleFormat::kInt32;
      else if (tag == kFormatFloat && bits == 32)
        format = SampleFormat::kFloat32;
      else
        return Status::error(path + ": unsupported sample format (tag " + std::to_string(tag) + ", " +
                             std::to_string(bits) + " bits); use 16/24/32-bit PCM or 32-bit float");
      if (channels == 0 || channels > 32)
        return Status::error(path + ": unsupported channel count " + std::to_string(channels));
      if (rate < 8000 || rate > 384000)
        return Status::error(path + ": unsupported sample rate " + std::to_string(rate));
      const uint32_t bps = bytes_per_sample(format);
      // Streams written without a final size say 0 or 0xFFFFFFFF: read to the end.
      long pos = std::ftell(f.get());
      std::fseek(f.get(), 0, SEEK_END);
      const long end = std::ftell(f.get());
      std::fseek(f.get(), pos, SEEK_SET);
      uint64_t avail = end > pos ? static_cast<uint64_t>(end - pos) : 0;
      uint64_t bytes = (size == 0 || size == 0xFFFFFFFFu || size > avail) ? avail : size;
      const uint64_t frame_bytes = static_cast<uint64_t>(bps) * channels;
      bytes -= bytes % frame_bytes;
      std::vector<uint8_t> raw(bytes);
      if (bytes && std::fread(raw.data(), 1, bytes, f.get()) != bytes) return Status::error(path + ": truncated data");
      out.rate = rate;
      out.channels = channels;
      out.format = format;
      out.samples.resize(bytes / bps);
      for (size_t i = 0; i < out.samples.size(); ++i) out.samples[i] = decode(raw.data() + i * bps, format);
      return Status::success();
    } else {
      std::fseek(f.get(), static_cast<long>(size + (size & 1)), SEEK_CUR);
    }
  }
}

Status write_wav(const std::string& path, const WavData& data) {
  WavWriter w;
  Status s = w.open(path, data.rate, data.channels, data.format);
  if (!s) return s;
  s = w.write(data.samples.data(), data.frames());
  if (!s) return s;
  return w.close();
}

WavWriter::~WavWriter() {
  if (file_) {
    std::fclose(file_);
    std::remove(temp_path_.c_str());
  }
}

Status WavWriter::open(const std::string& path, uint32_t rate, uint32_t channels, SampleFormat format) {
  if (file_) return Status::error("wav writer already open");
  path_ = path;
  temp_path_ = path + ".part";
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (!file_) return Status::error(temp_path_ + ": cannot create: " + std::strerror(errno));
  channels_ = channels;
  format_ = format;
  data_bytes_ = 0;
  uint8_t header[64];
  make_header(header, rate, channels, format, 0);
  const size_t hs = header_size(format);
  if (std::fwrite(header, 1, hs, file_) != hs) return Status::error(temp_path_ + ": write failed");
  rate_for_close_ = rate;
  return Status::success();
}

Status WavWriter::write(const float* samples, uint64_t frames) {
  if (!file_) return Status::error("wav writer not open");
  const uint32_t bps = bytes_per_sample(format_);
  const uint64_t n = frames * channels_;
  scratch_.resize(n * bps);
  for (uint64_t i = 0; i < n; ++i) encode(scratch_.data() + i * bps, samples[i], format_);
  if (n && std::fwrite(scratch_.data(), 1, scratch_.size(), file_) != scratch_.size()) {
    return Status::error(temp_path_ + ": write failed: " + std::strerror(errno));
  }
  data_bytes_ += scratch_.size();
  return Status::success();
}

Status WavWriter::close() {
  if (!file_) return Status::success();
  uint8_t header[64];
  make_header(header, rate_for_close_, channels_, format_, data_bytes_);
  const size_t hs = header_size(format_);
  bool ok = std::fseek(file_, 0, SEEK_SET) == 0 && std::fwrite(header, 1, hs, file_) == hs && std::fflush(file_) == 0;
  ok = (std::fclose(file_) == 0) && ok;
  file_ = nullptr;
  if (!ok) {
    std::remove(temp_path_.c_str());
    return Status::error(temp_path_ + ": write failed");
  }
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    std::remove(temp_path_.c_str());
    return Status::error(path_ + ": cannot rename into place: " + std::strerror(errno));
  }
  return Status::success();
}

}  // namespace hushbox
