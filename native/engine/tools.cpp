#include "tools.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "../dsp/chain.h"
#include "../dsp/params.h"
#include "cli_args.h"
#include "engine.h"
#include "profiles.h"
#include "rt.h"
#include "wav.h"

namespace hushbox {
namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "hushbox-engine: %s\n", message.c_str());
  return 2;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int cmd_process(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  std::string preset, profile_name, error;
  std::vector<std::string> sets;
  uint32_t frames = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) { return cli::take_value(args, i, out, error); };
    std::string v;
    bool ok = true;
    if (a == "--preset")
      ok = value(preset);
    else if (a == "--profile")
      ok = value(profile_name);
    else if (a == "--frames")
      ok = value(v) && cli::parse_uint(a, v, frames, error);
    else if (a == "--set") {
      ok = value(v);
      if (ok) sets.push_back(v);
    } else if (a.size() > 1 && a[0] == '-') {
      error = "process: unknown option '" + a + "'";
      ok = false;
    } else {
      files.push_back(a);
    }
    if (!ok) return fail(error);
  }
  if (files.size() != 2)
    return fail("process: expected IN.wav OUT.wav, got " + std::to_string(files.size()) + " file(s)");

  EngineConfig cfg;
  cfg.backend = "file";
  cfg.rt.priority = 0;
  cfg.rt.lock_memory = false;
  cfg.io.periods = 2;
  cfg.io.frames = 64;
  if (!profile_name.empty()) {
    const Profile* p = find_profile(profile_name);
    if (!p) return fail("unknown profile '" + profile_name + "' (expected " + profile_names() + ")");
    cfg.io.frames = p->frames;
    add_profile_params(*p, cfg.params);
  }
  if (frames) cfg.io.frames = frames;
  if (!preset.empty()) {
    Status s = load_preset(preset, cfg.params);
    if (!s) return fail(s.message);
  }
  for (const auto& s : sets) {
    Status st = parse_setting(s, cfg.params);
    if (!st) return fail(st.message);
  }

  WavData in;
  Status s = read_wav(files[0], in);
  if (!s) return fail(s.message);
  if (in.frames() == 0) return fail("input " + files[0] + " holds no audio");
  cfg.io.rate = in.rate;
  cfg.io.channels = in.channels;
  cfg.io.input = files[0];
  cfg.io.output = files[1];
  cfg.io.output_format = in.format;
  in.samples.clear();
  in.samples.shrink_to_fit();

  Engine engine;
  s = engine.init(cfg);
  if (!s) return fail(s.message);
  s = engine.run();
  if (!s) {
    std::fprintf(stderr, "hushbox-engine: %s\n", s.message.c_str());
    return 1;
  }
  return 0;
}

namespace {

// Every stage with its own bypass, in chain order: the strips' stages (both
// strips at once), then the master limiter on the outputs.
struct BenchStage {
  const char* name;
  dsp::StripParam strip;   // kStripParamCount: not a strip stage
  dsp::ParamIndex master;  // the chain-wide bypass when not a strip stage
};
constexpr BenchStage kStages[] = {
    {"hpf", dsp::kHpfBypass, dsp::kParamCount},     {"hum", dsp::kHumBypass, dsp::kParamCount},
    {"ns", dsp::kNsBypass, dsp::kParamCount},       {"gate", dsp::kGateBypass, dsp::kParamCount},
    {"comp", dsp::kCompBypass, dsp::kParamCount},   {"eq", dsp::kEqBypass, dsp::kParamCount},
    {"limit", dsp::kLimitBypass, dsp::kParamCount}, {"master limit", dsp::kStripParamCount, dsp::kMasterLimitBypass},
};
constexpr size_t kStageCount = sizeof(kStages) / sizeof(kStages[0]);

// Width of a stage's column in the text table.
int column_width(const BenchStage& stage) { return std::max(9, static_cast<int>(std::strlen(stage.name))); }

void set_stage_bypass(dsp::Chain& chain, const BenchStage& stage, float value) {
  if (stage.strip == dsp::kStripParamCount) {
    chain.set_param(stage.master, value);
    return;
  }
  for (uint32_t s = 0; s < dsp::kStrips; ++s) chain.set_param(dsp::strip_param(s, stage.strip), value);
}

// A second of something voice-like: a 120 Hz buzz with formant-ish overtones,
// breath noise, syllables at 4 Hz with pauses, and a little mains hum.
std::vector<float> voice_like(uint32_t rate) {
  std::vector<float> out(rate);
  uint32_t seed = 12345;
  double lp = 0.0;
  for (uint32_t i = 0; i < rate; ++i) {
    const double t = static_cast<double>(i) / rate;
    seed = seed * 1664525u + 1013904223u;
    const double white = static_cast<double>(seed >> 8) / 8388608.0 - 1.0;
    lp += 0.05 * (white - lp);
    double buzz = 0.0;
    for (int h = 1; h <= 12; ++h) buzz += std::sin(2.0 * M_PI * 120.0 * h * t) / h;
    const double syllable = std::max(0.0, std::sin(2.0 * M_PI * 4.0 * t));
    const double env = t < 0.75 ? syllable * syllable : 0.0;  // a quarter second of pause
    out[i] = static_cast<float>(0.15 * env * buzz + 0.02 * env * lp + 0.003 * std::sin(2.0 * M_PI * 60.0 * t) +
                                0.0005 * white);
  }
  return out;
}

// CPU seconds to process `seconds` of audio with the given stage bypasses.
double time_chain(uint32_t rate, uint32_t frames, uint32_t channels, double seconds, const std::vector<float>& signal,
                  int only_stage) {
  dsp::Chain chain;
  chain.prepare({static_cast<double>(rate), frames, channels});
  if (only_stage != -1) {
    for (size_t k = 0; k < kStageCount; ++k)
      set_stage_bypass(chain, kStages[k], static_cast<int>(k) == only_stage ? 0.0f : 1.0f);
  }
  chain.reset();
  std::vector<std::vector<float>> buf(channels, std::vector<float>(frames));
  std::vector<float*> ptrs;
  for (auto& b : buf) ptrs.push_back(b.data());
  dsp::AudioBlock block{ptrs.data(), channels, frames};
  size_t pos = 0;
  auto run_blocks = [&](uint64_t blocks) {
    for (uint64_t b = 0; b < blocks; ++b) {
      for (uint32_t c = 0; c < channels; ++c) {
        float* dst = buf[c].data();
        size_t p = pos;
        for (uint32_t i = 0; i < frames; ++i) {
          dst[i] = signal[p] * (c == 0 ? 1.0f : 0.5f);
          if (++p == signal.size()) p = 0;
        }
      }
      pos = (pos + frames) % signal.size();
      chain.process(block);
    }
  };
  run_blocks(static_cast<uint64_t>(0.25 * rate / frames) + 1);  // warm up
  const auto blocks = static_cast<uint64_t>(std::ceil(seconds * rate / frames));
  const double t0 = thread_cpu_seconds();
  run_blocks(blocks);
  return thread_cpu_seconds() - t0;
}

}  // namespace

int cmd_bench(const std::vector<std::string>& args) {
  uint32_t rate = 0, frames = 64, channels = 2;
  double seconds = 10.0;
  bool json = false;
  std::string error;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    bool ok = true;
    if (a == "--json") {
      json = true;
    } else if (a == "--rate" || a == "--frames" || a == "--channels" || a == "--seconds") {
      if (!has_value) return fail(a + " needs a value");
      const std::string v = args[++i];
      if (a == "--rate")
        ok = cli::parse_uint(a, v, rate, error) &&
             (rate >= 8000 && rate <= 384000 ? true : (error = "--rate must be 8000..384000", false));
      else if (a == "--frames")
        ok = cli::parse_uint(a, v, frames, error) &&
             (frames >= 1 && frames <= 4096 ? true : (error = "--frames must be 1..4096", false));
      else if (a == "--channels")
        ok = cli::parse_uint(a, v, channels, error) &&
             (channels >= 1 && channels <= dsp::kMaxChainChannels ? true : (error = "--channels must be 1..8", false));
      else {
        char* end = nullptr;
        seconds = std::strtod(v.c_str(), &end);
        if (v.empty() || *end != '\0' || !(seconds > 0.0) || seconds > 3600.0) {
          error = "--seconds expects a number of seconds (0..3600], got '" + v + "'";
          ok = false;
        }
      }
    } else {
      error = "bench: unknown option '" + a + "'";
      ok = false;
    }
    if (!ok) return fail(error);
  }
  flush_denormals();  // as the audio thread does
  std::vector<uint32_t> rates = rate ? std::vector<uint32_t>{rate} : std::vector<uint32_t>{44100, 48000, 96000, 192000};

  std::string out;
  char line[512];
  if (json) {
    std::snprintf(line, sizeof line,
                  "{\"channels\":%u,\"frames\":%u,\"seconds\":%g,\"clock\":\"thread_cpu\",\"rates\":[", channels,
                  frames, seconds);
    out += line;
  } else {
    std::snprintf(line, sizeof line,
                  "hushbox-engine bench: %u channel(s), %u-frame blocks, %g s of audio per figure, thread CPU time\n"
                  "real-time factor (x faster than real time); per stage: the stage alone, over the bypassed chain\n",
                  channels, frames, seconds);
    out += line;
    out += "    rate      chain   bypassed";
    for (const BenchStage& st : kStages) {
      std::snprintf(line, sizeof line, " %*s", column_width(st), st.name);
      out += line;
    }
    out += "\n";
  }
  for (size_t r = 0; r < rates.size(); ++r) {
    const uint32_t fs = rates[r];
    const std::vector<float> signal = voice_like(fs);
    const double samples = seconds * fs * channels;
    const double t_chain = time_chain(fs, frames, channels, seconds, signal, -1);
    const double t_base = time_chain(fs, frames, channels, seconds, signal, static_cast<int>(kStageCount));
    double t_stage[kStageCount];
    for (size_t k = 0; k < kStageCount; ++k)
      t_stage[k] = time_chain(fs, frames, channels, seconds, signal, static_cast<int>(k));
    auto rtf = [&](double t) { return t > 1e-9 ? seconds / t : 1e9; };
    if (json) {
      std::snprintf(line, sizeof line,
                    "%s{\"rate\":%u,\"chain\":{\"rtf\":%.1f,\"ns_per_sample\":%.2f},\"bypassed\":{\"rtf\":%.1f,"
                    "\"ns_per_sample\":%.2f},\"stages\":{",
                    r ? "," : "", fs, rtf(t_chain), t_chain * 1e9 / samples, rtf(t_base), t_base * 1e9 / samples);
      out += line;
      for (size_t k = 0; k < kStageCount; ++k) {
        const double own = t_stage[k] - t_base;
        std::snprintf(line, sizeof line, "%s\"%s\":{\"rtf\":%.1f,\"ns_per_sample\":%.2f}", k ? "," : "",
                      kStages[k].name, rtf(own), own * 1e9 / samples);
        out += line;
      }
      out += "}}";
    } else {
      std::snprintf(line, sizeof line, "%8u %9.0fx %9.0fx", fs, rtf(t_chain), rtf(t_base));
      out += line;
      for (size_t k = 0; k < kStageCount; ++k) {
        std::snprintf(line, sizeof line, " %*.0fx", column_width(kStages[k]) - 1, rtf(t_stage[k] - t_base));
        out += line;
      }
      std::snprintf(line, sizeof line, "\n         %7.1f ns/sample (chain, per channel)\n", t_chain * 1e9 / samples);
      out += line;
    }
  }
  if (json) out += "]}\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}

int cmd_profiles(const std::vector<std::string>& args) {
  bool json = false;
  for (const auto& a : args) {
    if (a == "--json")
      json = true;
    else
      return fail("profiles: unknown option '" + a + "'");
  }
  std::string out = json ? "[" : "";
  char line[512];
  bool first = true;
  for (const auto& p : profiles()) {
    if (json) {
      std::snprintf(line, sizeof line,
                    "%s{\"name\":\"%s\",\"description\":\"%s\",\"rate\":%u,\"frames\":%u,\"periods\":%u,\"params\":{",
                    first ? "" : ",", p.name, p.description, p.rate, p.frames, p.periods);
      out += line;
      bool first_param = true;
      for (const auto& s : p.params) {
        std::snprintf(line, sizeof line, "%s\"%s\":%.9g", first_param ? "" : ",", s.id, static_cast<double>(s.value));
        out += line;
        first_param = false;
      }
      out += "}}";
    } else {
      std::snprintf(line, sizeof line, "%-11s %6u Hz %5u frames x%u  %s\n", p.name, p.rate, p.frames, p.periods,
                    p.description);
      out += line;
    }
    first = false;
  }
  if (json) out += "]\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace hushbox
