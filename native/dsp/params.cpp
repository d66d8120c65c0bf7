#include "params.h"

#include <array>
#include <cmath>

namespace hushbox::dsp {
namespace {

constexpr std::array<ParamDef, kParamCount> kTable = {{
    {"mic.trim.gain", "Mic input trim", "dB", Scale::kDecibel, -24.0f, 24.0f, 0.0f},
    {"inst.trim.gain", "Instrument input trim", "dB", Scale::kDecibel, -24.0f, 24.0f, 0.0f},
}};

}  // namespace

std::span<const ParamDef> param_table() noexcept { return {kTable.data(), kTable.size()}; }

int find_param(std::string_view id) noexcept {
  for (uint32_t i = 0; i < kTable.size(); ++i) {
    if (id == kTable[i].id) return static_cast<int>(i);
  }
  return -1;
}

float clamp_param(uint32_t index, float value) noexcept {
  if (index >= kTable.size()) return 0.0f;
  const ParamDef& d = kTable[index];
  if (!std::isfinite(value)) return d.def;
  if (d.scale == Scale::kBool || d.scale == Scale::kEnum) value = std::round(value);
  return value < d.min ? d.min : (value > d.max ? d.max : value);
}

}  // namespace hushbox::dsp
