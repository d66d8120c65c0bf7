#include "dsp/chain.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "dsp/params.h"
#include "dsp_util.h"

using namespace hushbox::dsp;
using namespace hushbox::test;

TEST("params: every id is unique, named, and its default lies in its range") {
  const auto table = param_table();
  CHECK(table.size() == kParamCount);
  for (uint32_t i = 0; i < table.size(); ++i) {
    CHECK(find_param(table[i].id) == static_cast<int>(i));
    CHECK(table[i].min <= table[i].def && table[i].def <= table[i].max);
    CHECK(std::string(table[i].name).size() > 0);
    CHECK(std::string(table[i].id).size() < 48 && std::string(table[i].name).size() < 48);
    CHECK(clamp_param(i, table[i].def) == table[i].def);
  }
  CHECK(find_param("no.such.param") == -1);
  CHECK(clamp_param(kMicTrimGain, 100.0f) == 24.0f);
  CHECK(clamp_param(kMicTrimGain, NAN) == 0.0f);
  CHECK(clamp_param(strip_param(0, kHpfSlope), 30.0f) == 36.0f);  // stepped: 12, 24, 36, 48
  CHECK(clamp_param(strip_param(1, kHumMains), 1.4f) == 1.0f);
  CHECK(std::string(table[strip_param(1, kCompThreshold)].id) == "inst.comp.threshold");
  CHECK(std::string(table[kMasterBypass].id) == "master.bypass");
}

TEST("chain: input trim reaches its gain after the ramp and never steps") {
  ChainRunner r(48000.0, 2, 64);
  r.bypass_all_stages();
  r.chain.set_param(kMixMicPan, -100.0f);  // mic only on the left, instrument only on the right
  r.chain.set_param(kMixInstPan, 100.0f);
  r.chain.reset();
  r.chain.set_param(kMicTrimGain, 6.0f);
  std::vector<std::vector<float>> x(2, std::vector<float>(40 * 64, 0.25f));
  r.run(x, 0, x[0].size(), 64);
  // Noise suppression and the limiter (bypassed) still delay by their latency; past that the ramp starts.
  const size_t delay = r.chain.latency_samples();
  CHECK_NEAR(x[0].back(), 0.25 * std::pow(10.0, 6.0 / 20.0), 1e-4);
  CHECK(x[1].back() == 0.25f);                                                // the instrument strip is untouched
  CHECK(max_step(x[0], delay + 2, x[0].size()) < 0.25 * 0.995 / 960 * 1.01);  // +6 dB over a 20 ms ramp
}
