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
};

// Indices into the table; the table in params.cpp lists them in this order.
enum ParamIndex : uint32_t {
  kMicTrimGain = 0,
  kInstTrimGain,
  kParamCount,
};

// [any] The whole table, kParamCount entries.
std::span<const ParamDef> param_table() noexcept;

// [any] Index of `id`, or -1.
int find_param(std::string_view id) noexcept;

// [any] `value` clamped to the parameter's range (bools and enums rounded).
float clamp_param(uint32_t index, float value) noexcept;

}  // namespace hushbox::dsp
