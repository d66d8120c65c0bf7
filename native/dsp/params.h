// The parameter table: every parameter of the chain declared once. The preset
// schema, the HTTP API, the page and Home Assistant are derived from it.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace hushbox::dsp {

enum class Scale : uint32_t { kLinear = 0, kDecibel = 1, kLog = 2, kBool = 3, kEnum = 4 };

struct ParamDef {
  const char* id;
  const char* name;
  const char* unit;
  Scale scale;
  float min;
  float max;
  float def;
  float step = 0.0f;  // > 0: values are min + k * step (bools and enums: 1 when 0)
};

// The parameters of one strip, in table order. Strips: 0 = mic, 1 = inst.
enum StripParam : uint32_t {
  kTrimGain = 0,
  kTrimPolarity,
  kHpfBypass,
  kHpfFreq,
  kHpfSlope,
  kHumBypass,
  kHumMains,
  kHumHarmonics,
  kNsBypass,
  kNsStrength,
  kNsFloor,
  kGateBypass,
  kGateThreshold,
  kGateRange,
  kGateAttack,
  kGateHold,
  kGateRelease,
  kGateHysteresis,
  kCompBypass,
  kCompThreshold,
  kCompRatio,
  kCompKnee,
  kCompAttack,
  kCompRelease,
  kCompMakeup,
  kEqBypass,
  kEqLowFreq,
  kEqLowGain,
  kEqPeak1Freq,
  kEqPeak1Gain,
  kEqPeak1Q,
  kEqPeak2Freq,
  kEqPeak2Gain,
  kEqPeak2Q,
  kEqHighFreq,
  kEqHighGain,
  kLimitBypass,
  kLimitCeiling,
  kLimitRelease,
  kOutGain,
  kStripParamCount,
};

inline constexpr uint32_t kStrips = 2;

// [any] Index of a strip parameter in the whole table.
constexpr uint32_t strip_param(uint32_t strip, StripParam p) noexcept { return strip * kStripParamCount + p; }

// Indices into the table; the table in params.cpp lists them in this order.
enum ParamIndex : uint32_t {
  kMicTrimGain = 0,
  kInstTrimGain = kStripParamCount,
  kMixMicGain = kStrips * kStripParamCount,
  kMixMicPan,
  kMixInstGain,
  kMixInstPan,
  kMasterGain,
  kMasterBypass,
  // The master limiter on the outputs, after the mix and master gain.
  kMasterLimitBypass,
  kMasterLimitCeiling,
  kMasterLimitRelease,
  kParamCount,
};

// [any] The whole table, kParamCount entries.
std::span<const ParamDef> param_table() noexcept;

// [any] Index of `id`, or -1.
int find_param(std::string_view id) noexcept;

// [any] `value` clamped to the parameter's range (bools, enums and stepped values rounded).
float clamp_param(uint32_t index, float value) noexcept;

}  // namespace hushbox::dsp
