#include "engine/wav.h"

#include <unistd.h>
#include <cstdio>

#include "check.h"

using namespace hushbox;

TEST("wav: every sample format round-trips within its resolution") {
  const SampleFormat formats[] = {SampleFormat::kInt16, SampleFormat::kInt24, SampleFormat::kInt32,
                                  SampleFormat::kFloat32};
  const double tolerance[] = {1.0 / 32768, 1.0 / 8388608, 1.0 / 2147483648.0 * 256, 0.0};
  for (int f = 0; f < 4; ++f) {
    WavData in;
    in.rate = 44100;
    in.channels = 2;
    in.format = formats[f];
    for (int i = 0; i < 1000; ++i) in.samples.push_back(static_cast<float>(std::sin(i * 0.01) * 0.9));
    const std::string path = "/tmp/hushbox-wav-test-" + std::to_string(getpid()) + ".wav";
    CHECK(write_wav(path, in).ok);
    WavData out;
    CHECK(read_wav(path, out).ok);
    CHECK(out.rate == 44100 && out.channels == 2 && out.format == formats[f]);
    CHECK(out.samples.size() == in.samples.size());
    double worst = 0;
    for (size_t i = 0; i < out.samples.size() && i < in.samples.size(); ++i)
      worst = std::max(worst, std::fabs(static_cast<double>(out.samples[i]) - in.samples[i]));
    CHECK(worst <= tolerance[f]);
    std::remove(path.c_str());
  }
}

TEST("wav: a file that is not WAVE is refused with its name in the message") {
  const std::string path = "/tmp/hushbox-wav-bad-" + std::to_string(getpid()) + ".wav";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  std::fputs("this is not audio", f);
  std::fclose(f);
  WavData out;
  Status s = read_wav(path, out);
  CHECK(!s.ok);
  CHECK(s.message.find(path) != std::string::npos);
  std::remove(path.c_str());
}
