#include "take_repair.h"

#include <fcntl.h>
#include <sndfile.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace hushbox {

namespace {

// The STREAMINFO's total samples (36 bits at byte 8 + 13): 0 means "unknown", what a cut take says.
bool stream_length(const std::string& path, uint64_t& total) {
  unsigned char h[42];
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  const size_t n = std::fread(h, 1, sizeof h, f);
  std::fclose(f);
  if (n < sizeof h || std::memcmp(h, "fLaC", 4) != 0 || (h[4] & 0x7f) != 0) return false;
  const unsigned char* si = h + 8;
  total = (static_cast<uint64_t>(si[13] & 0x0f) << 32) | (static_cast<uint64_t>(si[14]) << 24) |
          (static_cast<uint64_t>(si[15]) << 16) | (static_cast<uint64_t>(si[16]) << 8) | si[17];
  return true;
}

}  // namespace

Status repair_flac_take(const std::string& path, TakeRepair& result) {
  result = TakeRepair{};
  uint64_t total = 0;
  if (!stream_length(path, total)) return Status::error(path + ": not a FLAC file");
  if (total != 0) return Status::success();

  // libsndfile reads a stream whose length is unknown up to its last whole frame (libFLAC drops a torn one).
  SF_INFO in_info{};
  SNDFILE* in = sf_open(path.c_str(), SFM_READ, &in_info);
  if (!in) return Status::error(path + ": cannot read it: " + sf_strerror(nullptr));
  const std::string tmp = path + ".repair";
  SF_INFO out_info{};
  out_info.samplerate = in_info.samplerate;
  out_info.channels = in_info.channels;
  out_info.format =
      SF_FORMAT_FLAC | ((in_info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16 ? SF_FORMAT_PCM_16 : SF_FORMAT_PCM_24);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  SNDFILE* out = fd >= 0 ? sf_open_fd(fd, SFM_WRITE, &out_info, SF_FALSE) : nullptr;
  if (!out) {
    const int err = errno;
    sf_close(in);
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    return Status::error(tmp + ": cannot create it: " + std::strerror(err));
  }
  // Samples as ints scaled to the whole int range: 24-bit in, 24-bit out, exactly.
  std::vector<int> buf(static_cast<size_t>(4096) * static_cast<size_t>(in_info.channels));
  bool ok = true;
  for (sf_count_t n; (n = sf_readf_int(in, buf.data(), 4096)) > 0;) {
    if (sf_writef_int(out, buf.data(), n) != n) {
      ok = false;
      break;
    }
    result.frames += static_cast<uint64_t>(n);
  }
  sf_close(in);
  sf_write_sync(out);
  ok = sf_close(out) == 0 && ok;  // the STREAMINFO now has the length and the MD5
  ok = ok && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::error(path + ": cannot write the repaired take: " + std::strerror(ok ? errno : err));
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);  // the rename itself survives the next power cut
    ::close(dfd);
  }
  result.repaired = true;
  result.rate = static_cast<uint32_t>(in_info.samplerate);
  result.channels = static_cast<uint32_t>(in_info.channels);
  return Status::success();
}

int cmd_repair_take(int argc_rest, const std::string* args) {
  std::string path;
  bool json = false;
  for (int i = 0; i < argc_rest; ++i) {
    if (args[i] == "--json")
      json = true;
    else if (path.empty())
      path = args[i];
    else {
      std::fprintf(stderr, "hushbox-engine repair-take: unexpected argument '%s'\n", args[i].c_str());
      return 2;
    }
  }
  if (path.empty()) {
    std::fputs("usage: hushbox-engine repair-take FILE.flac [--json]\n", stderr);
    return 2;
  }
  TakeRepair r;
  const Status s = repair_flac_take(path, r);
  if (!s) {
    std::fprintf(stderr, "hushbox-engine repair-take: %s\n", s.message.c_str());
    return 1;
  }
  if (json)
    std::printf("{\"repaired\":%s,\"frames\":%llu,\"rate\":%u,\"channels\":%u}\n", r.repaired ? "true" : "false",
                static_cast<unsigned long long>(r.frames), r.rate, r.channels);
  else if (r.repaired)
    std::printf("%s: repaired, %llu frames kept\n", path.c_str(), static_cast<unsigned long long>(r.frames));
  else
    std::printf("%s: finished already, nothing to do\n", path.c_str());
  return 0;
}

}  // namespace hushbox
