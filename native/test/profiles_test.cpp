#include "engine/profiles.h"

#include <cstdio>
#include <string>

#include "check.h"
#include "dsp/params.h"
#include "engine/json.h"

using namespace hushbox;

namespace {
std::string write_temp(const std::string& text) {
  char path[] = "/tmp/hushbox-preset-XXXXXX";
  const int fd = mkstemp(path);
  std::FILE* f = fdopen(fd, "w");
  std::fputs(text.c_str(), f);
  std::fclose(f);
  return path;
}
}  // namespace

TEST("profiles: the four profiles exist with sane I/O and known parameter ids") {
  for (const char* name : {"studio", "balanced", "streaming", "lowlatency"}) {
    const Profile* p = find_profile(name);
    CHECK(p != nullptr);
    if (!p) continue;
    CHECK(p->rate >= 44100 && p->frames >= 16 && p->frames <= 4096 && p->periods >= 2);
    for (const auto& s : p->params) {
      const int i = dsp::find_param(s.id);
      CHECK(i >= 0);
      if (i >= 0) CHECK(dsp::clamp_param(static_cast<uint32_t>(i), s.value) == s.value);
    }
  }
  CHECK(find_profile("loud") == nullptr);
  CHECK(find_profile("lowlatency")->frames < find_profile("streaming")->frames);
}

TEST("preset: the params object is read; booleans count as 0/1; other members are ignored") {
  const std::string path = write_temp(
      R"({"schema": 1, "name": "Podcast \u00e9", "tags": [1, {"a": null}],
          "params": {"mic.comp.threshold": -18, "master.bypass": true, "mic.hpf.slope": 48}})");
  ParamValues v;
  const Status s = load_preset(path, v);
  CHECK(s.ok);
  CHECK(v.size() == 3);
  if (v.size() == 3) {
    CHECK(v[0].first == dsp::strip_param(0, dsp::kCompThreshold) && v[0].second == -18.0f);
    CHECK(v[1].first == dsp::kMasterBypass && v[1].second == 1.0f);
    CHECK(v[2].second == 48.0f);
  }
  std::remove(path.c_str());
}

TEST("preset: unknown ids and out-of-range values are named, and nothing is applied") {
  const std::string path =
      write_temp(R"({"params": {"mic.comp.threshold": -80, "mic.bogus": 1, "mic.gain": 2, "mic.hpf.freq": 100}})");
  ParamValues v;
  const Status s = load_preset(path, v);
  CHECK(!s.ok);
  CHECK(v.empty());
  CHECK(s.message.find("unknown parameters: mic.bogus, mic.gain") != std::string::npos);
  CHECK(s.message.find("mic.comp.threshold: -80 is outside -60..0 dBFS") != std::string::npos);
  std::remove(path.c_str());
  ParamValues w;
  CHECK(!load_preset("/nonexistent/preset.json", w).ok);
  const std::string no_params = write_temp(R"({"schema": 1})");
  CHECK(load_preset(no_params, w).message.find("no \"params\" object") != std::string::npos);
  std::remove(no_params.c_str());
}

TEST("json: malformed documents are refused with line and column") {
  json::Value v;
  CHECK(json::parse(R"({"a": [1, 2.5e3, -0.1, true, false, null, "x\"y"]})", v).ok);
  CHECK(v.get("a") && v.get("a")->array.size() == 7 && v.get("a")->array[1].number == 2500.0);
  const Status s = json::parse("{\n  \"a\": 1,\n  \"a\": 2\n}", v);
  CHECK(!s.ok && s.message.find("duplicate") != std::string::npos && s.message.find("line 3") != std::string::npos);
  CHECK(!json::parse("{\"a\": 01x}", v).ok);
  CHECK(!json::parse("[1, 2", v).ok);
  CHECK(!json::parse("{} extra", v).ok);
  CHECK(!json::parse("\"unterminated", v).ok);
}

TEST("--set: ID=VALUE is checked like a preset value") {
  ParamValues v;
  CHECK(parse_setting("mic.hpf.bypass=1", v).ok);
  CHECK(parse_setting("master.bypass=true", v).ok);
  CHECK(v.size() == 2 && v[0].first == dsp::strip_param(0, dsp::kHpfBypass) && v[1].second == 1.0f);
  CHECK(parse_setting("mic.nope=1", v).message.find("unknown parameter: mic.nope") != std::string::npos);
  CHECK(!parse_setting("mic.hpf.freq=10", v).ok);
  CHECK(!parse_setting("mic.hpf.freq=abc", v).ok);
  CHECK(!parse_setting("mic.hpf.freq", v).ok);
  CHECK(!parse_setting("mic.hum.mains=1.5", v).ok);
  CHECK(v.size() == 2);
}
