// Profiles (I/O settings and processing starting points) and the parameter
// settings a run starts with: profile defaults, then a preset file, then
// --set overrides, each checked against the parameter table.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "status.h"

namespace hushbox {

struct ParamSetting {
  const char* id;
  float value;
};

struct Profile {
  const char* name;
  const char* description;
  uint32_t rate;
  uint32_t frames;
  uint32_t periods;
  std::span<const ParamSetting> params;  // overrides of the table defaults
};

// [any] studio, balanced, streaming, lowlatency.
std::span<const Profile> profiles() noexcept;
// [any] nullptr when unknown.
const Profile* find_profile(std::string_view name) noexcept;
// [any] "studio, balanced, streaming, lowlatency"
std::string profile_names();

// Parameter values by table index, applied in order (later ones win).
using ParamValues = std::vector<std::pair<uint32_t, float>>;

// [control] Append a profile's processing defaults.
void add_profile_params(const Profile& profile, ParamValues& out);

// [control] Read the `params` object of a preset file and append its values.
// Unknown ids, values that are not numbers/booleans, out of range or off the
// parameter's steps are all reported in one message; nothing is appended then.
Status load_preset(const std::string& path, ParamValues& out);

// [control] "ID=VALUE" (VALUE a number, true or false), checked like a preset value.
Status parse_setting(const std::string& text, ParamValues& out);

}  // namespace hushbox
