#include "engine/take_repair.h"

#include <sndfile.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "check.h"

using namespace hushbox;

namespace {

std::string temp_path(const char* name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/hushbox-repair-" + std::to_string(getpid()) + "-" + name;
}

std::vector<int> samples(uint64_t frames, uint32_t channels) {
  std::vector<int> x(frames * channels);
  uint32_t s = 1;
  for (auto& v : x) {
    s = s * 1664525u + 1013904223u;
    v = static_cast<int>(s & 0xffffff00u);  // 24-bit values, as ints scaled to the whole range
  }
  return x;
}

void write_flac(const std::string& path, const std::vector<int>& x, uint32_t channels) {
  SF_INFO info{};
  info.samplerate = 48000;
  info.channels = static_cast<int>(channels);
  info.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_24;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  CHECK(f != nullptr);
  sf_writef_int(f, x.data(), static_cast<sf_count_t>(x.size() / channels));
  sf_close(f);
}

std::vector<int> read_all(const std::string& path, uint32_t channels, sf_count_t& frames_in_header) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  std::vector<int> out;
  if (!f) return out;
  frames_in_header = info.frames;
  std::vector<int> buf(4096 * channels);
  for (sf_count_t n; (n = sf_readf_int(f, buf.data(), 4096)) > 0;)
    out.insert(out.end(), buf.begin(), buf.begin() + n * channels);
  sf_close(f);
  return out;
}

// What a power cut leaves: STREAMINFO without length or MD5, and the file cut inside a frame.
void cut(const std::string& path, long keep) {
  std::FILE* f = std::fopen(path.c_str(), "r+b");
  CHECK(f != nullptr);
  unsigned char zero[16] = {};
  std::fseek(f, 8 + 13, SEEK_SET);
  int b = std::fgetc(f);
  std::fseek(f, 8 + 13, SEEK_SET);
  std::fputc(b & 0xf0, f);      // the top 4 bits of the length share a byte with bits per sample
  std::fwrite(zero, 1, 4, f);   // the rest of the 36-bit length
  std::fwrite(zero, 1, 16, f);  // the MD5
  std::fclose(f);
  CHECK(truncate(path.c_str(), keep) == 0);
}

}  // namespace

TEST("take repair: a cut FLAC keeps every whole frame, sample for sample, finished with its length") {
  const std::string path = temp_path("cut.flac");
  const auto x = samples(48000 * 2, 2);
  write_flac(path, x, 2);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  std::fseek(f, 0, SEEK_END);
  const long size = std::ftell(f);
  std::fclose(f);
  cut(path, size * 3 / 4);  // inside a frame, most likely; whichever, the frames before it are whole

  TakeRepair r;
  CHECK(repair_flac_take(path, r));
  CHECK(r.repaired);
  CHECK(r.rate == 48000u && r.channels == 2u);
  // FLAC frames of 4096 (libsndfile's libFLAC default): about 3/4 of the take, in whole frames.
  CHECK(r.frames % 4096 == 0);
  CHECK(r.frames > 48000 * 2 / 2 && r.frames < 48000 * 2);
  sf_count_t header = 0;
  const auto y = read_all(path, 2, header);
  CHECK(header == static_cast<sf_count_t>(r.frames));
  CHECK(y.size() == r.frames * 2);
  bool same = true;
  for (size_t i = 0; i < y.size() && same; ++i) same = y[i] == x[i];
  CHECK(same);
  CHECK(access((path + ".repair").c_str(), F_OK) != 0);

  // Finished now: a second repair does nothing.
  TakeRepair again;
  CHECK(repair_flac_take(path, again));
  CHECK(!again.repaired);
  std::remove(path.c_str());
}

TEST("take repair: a finished FLAC is left alone, and what is not FLAC is refused") {
  const std::string path = temp_path("whole.flac");
  write_flac(path, samples(10000, 1), 1);
  TakeRepair r;
  CHECK(repair_flac_take(path, r));
  CHECK(!r.repaired);
  std::remove(path.c_str());
  const std::string text = temp_path("not.flac");
  std::FILE* f = std::fopen(text.c_str(), "w");
  std::fputs("RIFF....WAVE", f);
  std::fclose(f);
  CHECK(!repair_flac_take(text, r));
  std::remove(text.c_str());
}
