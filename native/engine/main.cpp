// hushbox-engine: the real-time audio engine and its offline tools.
#include <signal.h>
#include <sys/prctl.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../dsp/params.h"
#include "cli_args.h"
#include "doctor.h"
#include "engine.h"
#include "json.h"
#include "latency.h"
#include "midi.h"
#include "midi_input.h"
#include "profiles.h"
#include "take_repair.h"
#include "tools.h"

namespace {

hushbox::Engine* g_engine = nullptr;

void on_signal(int) {
  if (g_engine) g_engine->request_stop();
}

const char* kUsage =
    "usage: hushbox-engine <command> [options]\n"
    "\n"
    "commands:\n"
    "  run      process audio in real time until SIGTERM/SIGINT or --duration\n"
    "           --backend alsa|sim|file|jack  --rate HZ  --frames N  --periods N  --channels N\n"
    "           --device hw:CARD[,DEV[,SUB]] (alsa; default hw:Gen)  --capture-device NAME\n"
    "           --input demo|tone|tone:HZ[:DBFS]|noise|silence|FILE.wav  --output FILE.wav\n"
    "           --link NAME  --duration S  --stats FILE  --priority N (0: no SCHED_FIFO)\n"
    "           --cpu N  --no-mlock  --no-dma-latency\n"
    "           --no-drift-correction (capture and playback on two cards: measure the drift, do not resample)\n"
    "           --midi none|seq|hw:CARD[,DEV[,SUB]]|file:PATH (MIDI in: the ALSA sequencer, every\n"
    "           port subscribed; a raw MIDI device; a pipe of raw MIDI bytes)\n"
    "           --midi-map cc:N[@CH]|note:N[@CH]|pc[@CH]=PARAM_ID|toggle:PARAM_ID|preset|ab|record\n"
    "           [,rel-twos|rel-offset|rel-signed][,min=X][,max=X][,invert]  (repeatable)\n"
    "           jack: --jack-name NAME (default hushbox)  --connect in:PORT[,PORT...] out:PORT[,PORT...]\n"
    "           (rate and period are the JACK server's; ports mic, inst.. and out_left, out_right..)\n"
    "           --tap-socket PATH  --tap-tcp [HOST:]PORT  --tap-token-file FILE (the Wyoming audio stream)\n"
    "           --tap-source mic_raw|mic|mix  --tap-rate 16000|48000  --tap-format s16le|f32\n"
    "           --tap-stuck-ms N (drop a client that takes nothing this long)  --tap-backlog-ms N\n"
    "           --record-ring-ms N (the write stall a take absorbs; default 10000)  --record-margin-mb N\n"
    "           --profile studio|balanced|streaming|lowlatency (rate, period, periods and\n"
    "           processing defaults; --rate/--frames/--periods win)  --preset FILE  --set ID=VALUE\n"
    "  process  IN.wav OUT.wav [--preset FILE] [--profile NAME] [--frames N] [--set ID=VALUE ...]\n"
    "           a file through the real-time path, block by block; same format out\n"
    "  bench    [--rate HZ] [--frames N] [--channels N] [--seconds S] [--json]\n"
    "           real-time factor of the chain and of each stage (44.1/48/96/192 kHz without --rate)\n"
    "  params   the parameter table (--json)\n"
    "  repair-take FILE.flac [--json]  finish a FLAC take cut by a power loss: the frames that decode,\n"
    "           re-encoded into a fresh file renamed over it (nothing done to a finished take)\n"
    "  profiles the profiles: rate, period, periods and processing defaults (--json)\n"
    "  latency  round trip through a loopback: --device NAME [--capture-device NAME] --rate HZ\n"
    "           --frames N --periods N [--json]; --backend sim --input loopback: a simulated cable\n"
    "  midi-send DEVICE|FILE [--count N] [--interval-us U] [--cc N | --program N] [--channel 0..15]\n"
    "           raw MIDI out, paced (tests and bench/midi.mjs)\n"
    "  doctor   sound cards and real-time prerequisites, with fixes: [--json] [--root DIR]\n";

struct Args {
  std::vector<std::string> items;
  size_t pos = 0;
};

bool parse_double(const std::string& flag, const std::string& text, double& out, std::string& error) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v >= 0.0)) {
    error = flag + " expects a non-negative number, got '" + text + "'";
    return false;
  }
  out = v;
  return true;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "hushbox-engine: %s\n", message.c_str());
  return 2;
}

int cmd_params(const std::vector<std::string>& args) {
  bool json = false;
  for (const auto& a : args) {
    if (a == "--json")
      json = true;
    else
      return fail("params: unknown option '" + a + "'");
  }
  static const char* kScales[] = {"linear", "db", "log", "bool", "enum"};
  std::string out;
  if (json) {
    out = "[";
    bool first = true;
    for (const auto& p : hushbox::dsp::param_table()) {
      if (!first) out += ',';
      first = false;
      char nums[160];
      std::snprintf(nums, sizeof nums, ",\"min\":%.9g,\"max\":%.9g,\"default\":%.9g}", p.min, p.max, p.def);
      out += "{\"id\":";
      hushbox::json::append_string(out, p.id);
      out += ",\"name\":";
      hushbox::json::append_string(out, p.name);
      out += ",\"unit\":";
      hushbox::json::append_string(out, p.unit);
      out += ",\"scale\":";
      hushbox::json::append_string(out, kScales[static_cast<uint32_t>(p.scale)]);
      out += nums;
    }
    out += "]\n";
  } else {
    for (const auto& p : hushbox::dsp::param_table()) {
      char line[256];
      std::snprintf(line, sizeof line, "%-28s %8.6g .. %-8.6g default %-8.6g %s\n", p.id, p.min, p.max, p.def, p.unit);
      out += line;
    }
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

int cmd_run(const std::vector<std::string>& args) {
  hushbox::EngineConfig cfg;
  cfg.io.input = "tone";
  std::string error, profile_name, preset;
  std::vector<std::string> sets;
  bool rate_set = false, frames_set = false, periods_set = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) { return hushbox::cli::take_value(args, i, out, error); };
    std::string v;
    bool ok = true;
    if (a == "--backend")
      ok = value(cfg.backend);
    else if (a == "--rate")
      ok = rate_set = value(v) && hushbox::cli::parse_uint(a, v, cfg.io.rate, error);
    else if (a == "--frames")
      ok = frames_set = value(v) && hushbox::cli::parse_uint(a, v, cfg.io.frames, error);
    else if (a == "--periods")
      ok = periods_set = value(v) && hushbox::cli::parse_uint(a, v, cfg.io.periods, error);
    else if (a == "--profile")
      ok = value(profile_name);
    else if (a == "--preset")
      ok = value(preset);
    else if (a == "--set") {
      ok = value(v);
      if (ok) sets.push_back(v);
    } else if (a == "--channels")
      ok = value(v) && hushbox::cli::parse_uint(a, v, cfg.io.channels, error);
    else if (a == "--device")
      ok = value(cfg.io.device);
    else if (a == "--capture-device")
      ok = value(cfg.io.capture_device);
    else if (a == "--no-drift-correction")
      cfg.io.drift_correction = false;
    else if (a == "--jack-name")
      ok = value(cfg.jack_name);
    else if (a == "--connect") {
      // One or more values: in:PORT,PORT... and out:PORT,PORT... (a JACK port name has a colon of its own).
      ok = value(v);
      while (ok) {
        std::vector<std::string>* list = v.rfind("in:", 0) == 0    ? &cfg.connect_in
                                         : v.rfind("out:", 0) == 0 ? &cfg.connect_out
                                                                   : nullptr;
        if (!list) {
          error = "--connect expects in:PORT,... or out:PORT,..., got '" + v + "'";
          ok = false;
          break;
        }
        std::string ports = v.substr(v.find(':') + 1);
        if (ports.empty()) {
          error = "--connect " + v + " names no port";
          ok = false;
          break;
        }
        for (size_t start = 0;;) {
          const size_t comma = ports.find(',', start);
          list->push_back(ports.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
        if (i + 1 < args.size() && (args[i + 1].rfind("in:", 0) == 0 || args[i + 1].rfind("out:", 0) == 0))
          v = args[++i];
        else
          break;
      }
    } else if (a == "--no-dma-latency")
      cfg.rt.hold_dma_latency = false;
    else if (a == "--input")
      ok = value(cfg.io.input);
    else if (a == "--output")
      ok = value(cfg.io.output);
    else if (a == "--link")
      ok = value(cfg.link_name);
    else if (a == "--midi") {
      ok = value(cfg.midi);
      if (ok && cfg.midi == "none") cfg.midi.clear();
    } else if (a == "--midi-map") {
      ok = value(v);
      if (ok) {
        hushbox::Status ms = hushbox::midi::parse_mapping(v, cfg.midi_map);
        if (!ms) {
          error = ms.message;
          ok = false;
        }
      }
    } else if (a == "--duration")
      ok = value(v) && parse_double(a, v, cfg.duration_s, error);
    else if (a == "--stats")
      ok = value(cfg.stats_path);
    else if (a == "--priority") {
      uint32_t p = 0;
      ok = value(v) && hushbox::cli::parse_uint(a, v, p, error);
      if (ok && p > 99) {
        error = "--priority must be 0..99";
        ok = false;
      }
      cfg.rt.priority = static_cast<int>(p);
    } else if (a == "--cpu") {
      uint32_t c = 0;
      ok = value(v) && hushbox::cli::parse_uint(a, v, c, error);
      cfg.rt.cpu = static_cast<int>(c);
    } else if (a == "--no-mlock")
      cfg.rt.lock_memory = false;
    else if (a == "--tap-socket")
      ok = value(cfg.tap.socket_path);
    else if (a == "--tap-tcp") {
      ok = value(v);
      if (ok) {
        const size_t colon = v.rfind(':');
        std::string port = v;
        if (colon != std::string::npos) {
          cfg.tap.tcp_host = v.substr(0, colon);
          port = v.substr(colon + 1);
          if (cfg.tap.tcp_host.size() > 2 && cfg.tap.tcp_host.front() == '[' && cfg.tap.tcp_host.back() == ']')
            cfg.tap.tcp_host = cfg.tap.tcp_host.substr(1, cfg.tap.tcp_host.size() - 2);
        }
        ok = hushbox::cli::parse_uint(a, port, cfg.tap.tcp_port, error);
        if (ok && (cfg.tap.tcp_port == 0 || cfg.tap.tcp_port > 65535)) {
          error = "--tap-tcp expects [HOST:]PORT with a port 1..65535, got '" + v + "'";
          ok = false;
        }
      }
    } else if (a == "--tap-token-file")
      ok = value(cfg.tap.token_file);
    else if (a == "--tap-source") {
      ok = value(v);
      if (v == "mic_raw")
        cfg.tap.source = hushbox::link::TapSource::kMicRaw;
      else if (v == "mic")
        cfg.tap.source = hushbox::link::TapSource::kMic;
      else if (v == "mix")
        cfg.tap.source = hushbox::link::TapSource::kMix;
      else if (ok) {
        error = "--tap-source expects mic_raw, mic or mix, got '" + v + "'";
        ok = false;
      }
    } else if (a == "--tap-rate")
      ok = value(v) && hushbox::cli::parse_uint(a, v, cfg.tap.rate, error);
    else if (a == "--tap-format") {
      ok = value(v);
      if (v == "s16le")
        cfg.tap.width = 2;
      else if (v == "f32")
        cfg.tap.width = 4;
      else if (ok) {
        error = "--tap-format expects s16le or f32, got '" + v + "'";
        ok = false;
      }
    } else if (a == "--tap-stuck-ms")
      ok = value(v) && hushbox::cli::parse_uint(a, v, cfg.tap.stuck_ms, error);
    else if (a == "--tap-backlog-ms")
      ok = value(v) && hushbox::cli::parse_uint(a, v, cfg.tap.backlog_ms, error);
    else if (a == "--record-ring-ms") {
      ok = value(v) && hushbox::cli::parse_uint(a, v, cfg.recorder.ring_ms, error);
      if (ok && (cfg.recorder.ring_ms < 100 || cfg.recorder.ring_ms > 60000)) {
        error = "--record-ring-ms must be 100..60000";
        ok = false;
      }
    } else if (a == "--record-margin-mb") {
      uint32_t mb = 0;
      ok = value(v) && hushbox::cli::parse_uint(a, v, mb, error);
      cfg.recorder.margin_bytes = static_cast<uint64_t>(mb) << 20;
    } else if (a == "--record-test-stall") {
      // A test hook: the writer stalls once, for MS, when the take reaches AT_MS.
      ok = value(v);
      const size_t colon = v.find(':');
      if (ok && colon == std::string::npos) {
        error = "--record-test-stall expects AT_MS:MS, got '" + v + "'";
        ok = false;
      }
      ok = ok && hushbox::cli::parse_uint(a, v.substr(0, colon), cfg.recorder.stall_at_ms, error) &&
           hushbox::cli::parse_uint(a, v.substr(colon + 1), cfg.recorder.stall_ms, error);
    } else {
      error = "run: unknown option '" + a + "'";
      ok = false;
    }
    if (!ok) return fail(error);
  }
  if (cfg.tap.tcp_port != 0 && cfg.tap.token_file.empty())
    return fail("--tap-tcp needs --tap-token-file (TCP clients must send a token)");
  if (cfg.tap.rate != 16000 && cfg.tap.rate != 48000)
    return fail("--tap-rate " + std::to_string(cfg.tap.rate) + " is not offered (16000 or 48000)");
  if (!profile_name.empty()) {
    const hushbox::Profile* p = hushbox::find_profile(profile_name);
    if (!p) return fail("unknown profile '" + profile_name + "' (expected " + hushbox::profile_names() + ")");
    if (!rate_set) cfg.io.rate = p->rate;
    if (!frames_set) cfg.io.frames = p->frames;
    if (!periods_set) cfg.io.periods = p->periods;
    hushbox::add_profile_params(*p, cfg.params);
  }
  if (!preset.empty()) {
    hushbox::Status ps = hushbox::load_preset(preset, cfg.params);
    if (!ps) return fail(ps.message);
  }
  for (const auto& item : sets) {
    hushbox::Status ps = hushbox::parse_setting(item, cfg.params);
    if (!ps) return fail(ps.message);
  }

  // The engine must not outlive the supervisor that started it.
  prctl(PR_SET_PDEATHSIG, SIGTERM);

  hushbox::Engine engine;
  hushbox::Status s = engine.init(cfg);
  if (!s) return fail(s.message);
  g_engine = &engine;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  s = engine.run();
  g_engine = nullptr;
  if (!s) return fail(s.message);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "run") return cmd_run(args);
  if (command == "params") return cmd_params(args);
  if (command == "process") return hushbox::cmd_process(args);
  if (command == "bench") return hushbox::cmd_bench(args);
  if (command == "profiles") return hushbox::cmd_profiles(args);
  if (command == "latency") return hushbox::run_latency_command(args);
  if (command == "midi-send") return hushbox::run_midi_send_command(args);
  if (command == "doctor") return hushbox::run_doctor_command(args);
  if (command == "repair-take") return hushbox::cmd_repair_take(static_cast<int>(args.size()), args.data());
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::fprintf(stderr, "hushbox-engine: unknown command '%s'\n%s", command.c_str(), kUsage);
  return 2;
}
