#include "profiles.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../dsp/params.h"
#include "json.h"

namespace hushbox {
namespace {

// The table defaults are the "balanced" sound; the other profiles move from there.
constexpr ParamSetting kStudio[] = {
    {"mic.comp.threshold", -20.0f}, {"mic.comp.ratio", 2.0f},    {"mic.comp.makeup", 2.0f},
    {"mic.gate.range", 6.0f},       {"mic.hum.harmonics", 6.0f}, {"inst.hum.harmonics", 6.0f},
};
constexpr ParamSetting kStreaming[] = {
    {"mic.comp.threshold", -26.0f},  {"mic.comp.ratio", 3.5f},     {"mic.comp.makeup", 6.0f},
    {"mic.comp.attack", 5.0f},       {"mic.gate.range", 18.0f},    {"mic.gate.threshold", -50.0f},
    {"mic.eq.peak2.gain", 3.0f},     {"mic.limit.ceiling", -1.5f}, {"inst.limit.ceiling", -1.5f},
    {"master.limit.ceiling", -1.5f},
};
constexpr ParamSetting kLowLatency[] = {
    // Less low-frequency group delay: a gentler low cut.
    {"mic.hpf.slope", 12.0f},
    {"inst.hpf.slope", 12.0f},
};

constexpr Profile kProfiles[] = {
    {"studio", "96 kHz, 128-frame periods (1.3 ms), light touch", 96000, 128, 2, kStudio},
    {"balanced", "48 kHz, 64-frame periods (1.3 ms), the default sound", 48000, 64, 2, {}},
    {"streaming", "48 kHz, 256-frame periods x3 (16 ms), louder and more even", 48000, 256, 3, kStreaming},
    {"lowlatency", "48 kHz, 32-frame periods (0.7 ms), gentler low cut", 48000, 32, 2, kLowLatency},
};

std::string format_value(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
  return buf;
}

// Empty when fine, else why `value` does not suit parameter `index`.
std::string check_value(uint32_t index, double value) {
  const dsp::ParamDef& d = dsp::param_table()[index];
  std::string unit = d.unit[0] ? std::string(" ") + d.unit : "";
  if (!std::isfinite(value) || value < d.min || value > d.max) {
    return std::string(d.id) + ": " + format_value(static_cast<float>(value)) + " is outside " + format_value(d.min) +
           ".." + format_value(d.max) + unit;
  }
  float step = d.step;
  if (step <= 0.0f && (d.scale == dsp::Scale::kBool || d.scale == dsp::Scale::kEnum)) step = 1.0f;
  if (step > 0.0f) {
    const double k = (value - d.min) / step;
    if (std::fabs(k - std::round(k)) > 1e-6) {
      return std::string(d.id) + ": " + format_value(static_cast<float>(value)) + " is not one of its steps (" +
             format_value(d.min) + ", " + format_value(d.min + step) + ", ... " + format_value(d.max) + ")";
    }
  }
  return {};
}

}  // namespace

std::span<const Profile> profiles() noexcept { return kProfiles; }

const Profile* find_profile(std::string_view name) noexcept {
  for (const auto& p : kProfiles) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

std::string profile_names() {
  std::string out;
  for (const auto& p : kProfiles) {
    if (!out.empty()) out += ", ";
    out += p.name;
  }
  return out;
}

void add_profile_params(const Profile& profile, ParamValues& out) {
  for (const auto& s : profile.params) {
    const int index = dsp::find_param(s.id);
    if (index >= 0) out.emplace_back(static_cast<uint32_t>(index), s.value);
  }
}

Status load_preset(const std::string& path, ParamValues& out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::error("preset " + path + ": " + std::strerror(errno));
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    text.append(buf, n);
    if (text.size() > (16u << 20)) {
      std::fclose(f);
      return Status::error("preset " + path + ": larger than 16 MB");
    }
  }
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (read_error) return Status::error("preset " + path + ": read error");
  json::Value doc;
  Status s = json::parse(text, doc);
  if (!s) return Status::error("preset " + path + ": " + s.message);
  if (doc.type != json::Value::Type::kObject) return Status::error("preset " + path + ": expected a JSON object");
  const json::Value* params = doc.get("params");
  if (!params) return Status::error("preset " + path + ": no \"params\" object");
  if (params->type != json::Value::Type::kObject) {
    return Status::error("preset " + path + ": \"params\" is " + json::Value::type_name(params->type) +
                         ", expected an object");
  }
  std::vector<std::string> unknown, problems;
  ParamValues values;
  for (const auto& [id, v] : params->object) {
    const int index = dsp::find_param(id);
    if (index < 0) {
      unknown.push_back(id);
      continue;
    }
    double x;
    if (v.type == json::Value::Type::kNumber) {
      x = v.number;
    } else if (v.type == json::Value::Type::kBool) {
      x = v.boolean ? 1.0 : 0.0;
    } else {
      problems.push_back(id + ": expected a number, got " + json::Value::type_name(v.type));
      continue;
    }
    const std::string why = check_value(static_cast<uint32_t>(index), x);
    if (!why.empty()) {
      problems.push_back(why);
      continue;
    }
    values.emplace_back(static_cast<uint32_t>(index), static_cast<float>(x));
  }
  std::string message;
  if (!unknown.empty()) {
    message = std::string("unknown parameter") + (unknown.size() > 1 ? "s" : "") + ": ";
    for (size_t i = 0; i < unknown.size(); ++i) message += (i ? ", " : "") + unknown[i];
  }
  for (const auto& p : problems) message += (message.empty() ? "" : "; ") + p;
  if (!message.empty()) return Status::error("preset " + path + ": " + message);
  out.insert(out.end(), values.begin(), values.end());
  return Status::success();
}

Status parse_setting(const std::string& text, ParamValues& out) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return Status::error("--set expects ID=VALUE, got '" + text + "'");
  const std::string id = text.substr(0, eq), raw = text.substr(eq + 1);
  const int index = dsp::find_param(id);
  if (index < 0) return Status::error("--set: unknown parameter: " + id);
  double x;
  if (raw == "true") {
    x = 1.0;
  } else if (raw == "false") {
    x = 0.0;
  } else {
    char* end = nullptr;
    x = std::strtod(raw.c_str(), &end);
    if (raw.empty() || *end != '\0') return Status::error("--set " + id + ": expected a number, got '" + raw + "'");
  }
  const std::string why = check_value(static_cast<uint32_t>(index), x);
  if (!why.empty()) return Status::error("--set " + why);
  out.emplace_back(static_cast<uint32_t>(index), static_cast<float>(x));
  return Status::success();
}

}  // namespace hushbox
