#include "dsp/chain.h"

#include <cmath>
#include <vector>

#include "check.h"
#include "dsp/params.h"

using namespace hushbox::dsp;

namespace {
struct Buffers {
  std::vector<std::vector<float>> data;
  std::vector<float*> ptrs;
  Buffers(uint32_t channels, uint32_t frames) : data(channels, std::vector<float>(frames)) {
    for (auto& d : data) ptrs.push_back(d.data());
  }
  AudioBlock block() {
    return {ptrs.data(), static_cast<uint32_t>(ptrs.size()), static_cast<uint32_t>(data[0].size())};
  }
};
}  // namespace

TEST("params: every id is unique, named, and its default lies in its range") {
  const auto table = param_table();
  CHECK(table.size() == kParamCount);
  for (uint32_t i = 0; i < table.size(); ++i) {
    CHECK(find_param(table[i].id) == static_cast<int>(i));
    CHECK(table[i].min <= table[i].def && table[i].def <= table[i].max);
    CHECK(std::string(table[i].name).size() > 0);
  }
  CHECK(find_param("no.such.param") == -1);
  CHECK(clamp_param(kMicTrimGain, 100.0f) == 24.0f);
  CHECK(clamp_param(kMicTrimGain, NAN) == 0.0f);
}

TEST("chain: defaults pass audio through unchanged") {
  Chain chain;
  CHECK(chain.prepare({48000.0, 64, 2}));
  Buffers b(2, 64);
  for (uint32_t i = 0; i < 64; ++i) b.data[0][i] = b.data[1][i] = std::sin(0.1f * i) * 0.5f;
  const auto ref = b.data;
  auto blk = b.block();
  chain.process(blk);
  CHECK(b.data == ref);
}

TEST("chain: input trim reaches its gain after the ramp and never steps") {
  Chain chain;
  CHECK(chain.prepare({48000.0, 64, 2}));
  chain.set_param(kMicTrimGain, 6.0f);
  Buffers b(2, 64);
  float prev = 1.0f, max_step = 0.0f, last = 0.0f;
  for (int block = 0; block < 40; ++block) {  // 53 ms, past the 20 ms ramp
    for (auto& ch : b.data) std::fill(ch.begin(), ch.end(), 1.0f);
    auto blk = b.block();
    chain.process(blk);
    for (float v : b.data[0]) {
      max_step = std::max(max_step, std::fabs(v - prev));
      prev = v;
      last = v;
    }
    CHECK(b.data[1][63] == 1.0f);  // the instrument strip is untouched
  }
  CHECK_NEAR(last, std::pow(10.0, 6.0 / 20.0), 1e-4);
  CHECK(max_step < 0.0011f);  // +6 dB over a 20 ms ramp: 0.995 / 960 per sample
}
