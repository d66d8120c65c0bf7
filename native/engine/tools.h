// The offline commands: `process` (a WAV file through the real-time path)
// and `bench` (real-time factor of the chain and of each stage).
#pragma once

#include <string>
#include <vector>

namespace hushbox {

// [control] Exit codes: 0 ok, 2 bad arguments or input, 1 failure while running.
int cmd_process(const std::vector<std::string>& args);
int cmd_bench(const std::vector<std::string>& args);
int cmd_profiles(const std::vector<std::string>& args);

}  // namespace hushbox
