// `hushbox-engine latency`: the real round trip through a loopback (a cable
// from output to input, or the device's own loopback). Plays a maximum-length
// sequence, finds it in the capture by cross-correlation, reports frames and ms.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hushbox {

// [any] A maximum-length sequence of 2^order - 1 samples at +-amplitude (order 8..16).
std::vector<float> mls_signal(uint32_t order, float amplitude);

struct LoopbackMatch {
  bool found = false;
  uint32_t lag = 0;          // frames from `played` to its copy in `captured`
  double correlation = 0.0;  // peak / energy of `played`: 1.0 for an exact copy
};

// [control] Where `played` occurs in `captured`, searching lags 0..max_lag.
LoopbackMatch find_signal(const std::vector<float>& played, const std::vector<float>& captured, uint32_t max_lag);

// [control] The command; returns the process exit code.
int run_latency_command(const std::vector<std::string>& args);

}  // namespace hushbox
