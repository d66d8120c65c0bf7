#include "engine/latency.h"

#include "engine/backend.h"

#include <set>

#include "check.h"

using hushbox::find_signal;
using hushbox::mls_signal;

TEST("latency: the MLS has the full period and one more +1 than -1") {
  for (uint32_t order : {8u, 11u, 16u}) {
    const auto s = mls_signal(order, 1.0f);
    CHECK(s.size() == (1u << order) - 1);
    double sum = 0;
    for (float x : s) sum += x;
    CHECK(sum == 1.0);
  }
  CHECK(mls_signal(7, 1.0f).empty());
}

TEST("latency: cross-correlation finds a delayed, attenuated, noisy copy at the right lag") {
  const auto mls = mls_signal(11, 0.5f);
  std::vector<float> captured(20000, 0.0f);
  uint32_t seed = 1;
  for (auto& x : captured) {
    seed = seed * 1664525u + 1013904223u;
    x = (static_cast<float>(seed >> 8) / 16777216.0f - 0.5f) * 0.05f;
  }
  for (size_t i = 0; i < mls.size(); ++i) captured[1234 + i] += 0.8f * mls[i];
  const auto m = find_signal(mls, captured, 10000);
  CHECK(m.found);
  CHECK(m.lag == 1234);
  CHECK_NEAR(m.correlation, 0.8, 0.05);
  const auto none = find_signal(mls, std::vector<float>(20000, 0.0f), 10000);
  CHECK(!none.found);
}

TEST("latency: the sim device's simulated cable brings the output back periods x period later, every channel") {
  auto backend = hushbox::make_backend("sim");
  hushbox::IoConfig io;
  io.frames = 16;
  io.periods = 3;
  io.channels = 2;
  io.input = "loopback";
  CHECK(static_cast<bool>(backend->open(io)));
  backend->start();
  std::vector<float> in(32), out(32);
  std::vector<float> heard;  // channel 0, then channel 1 negated, as read
  for (uint32_t b = 0; b < 8; ++b) {
    backend->read(in.data(), io.frames);
    for (uint32_t f = 0; f < io.frames; ++f) {
      heard.push_back(in[f * 2]);
      CHECK(in[f * 2 + 1] == -in[f * 2]);
      const float x = static_cast<float>(b * io.frames + f + 1);  // every frame its own value
      out[f * 2] = x;
      out[f * 2 + 1] = -x;
    }
    backend->write(out.data(), io.frames);
  }
  backend->stop();
  backend->close();
  for (size_t i = 0; i < heard.size(); ++i) CHECK(heard[i] == (i < 48 ? 0.0f : static_cast<float>(i - 48 + 1)));
  CHECK(backend->latency_frames() == 48);
}
