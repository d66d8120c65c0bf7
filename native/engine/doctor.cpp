#include "doctor.h"

#include "json.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace hushbox {
namespace {

namespace fs = std::filesystem;

bool read_file(const fs::path& p, std::string& out) {
  std::ifstream f(p);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return true;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string l;
  while (std::getline(ss, l)) out.push_back(l);
  return out;
}

void parse_stream0(const std::string& text, AlsaCardInfo& card) {
  AlsaStreamInfo* cur = nullptr;
  for (const auto& raw : lines(text)) {
    const std::string l = trim(raw);
    if (l == "Playback:" || l == "Capture:") {
      card.streams.push_back({l == "Playback:" ? "playback" : "capture", "", "", ""});
      cur = &card.streams.back();
      continue;
    }
    if (!cur) continue;
    auto add = [&](std::string& field, const std::string& v) {
      if (field.find(v) != std::string::npos) return;  // one altset per format; keep each value once
      if (!field.empty()) field += " | ";
      field += v;
    };
    if (l.rfind("Format:", 0) == 0) add(cur->formats, trim(l.substr(7)));
    if (l.rfind("Channels:", 0) == 0) add(cur->channels, trim(l.substr(9)));
    if (l.rfind("Rates:", 0) == 0) add(cur->rates, trim(l.substr(6)));
  }
}

std::string summarize_hw_params(const std::string& text) {
  const std::string t = trim(text);
  if (t.empty() || t == "closed") return "closed";
  std::string format, channels, rate, period, buffer;
  for (const auto& l : lines(t)) {
    const auto colon = l.find(':');
    if (colon == std::string::npos) continue;
    const std::string k = trim(l.substr(0, colon)), v = trim(l.substr(colon + 1));
    if (k == "format") format = v;
    if (k == "channels") channels = v;
    if (k == "rate") rate = v.substr(0, v.find(' '));
    if (k == "period_size") period = v;
    if (k == "buffer_size") buffer = v;
  }
  return format + " " + channels + "ch " + rate + " Hz period " + period + " buffer " + buffer;
}

void add(DoctorReport& r, std::string name, std::string status, std::string detail, std::string fix) {
  if (status == "pass") fix.clear();
  r.checks.push_back({std::move(name), std::move(status), std::move(detail), std::move(fix)});
}

// "Max realtime priority  0  0" from /proc/self/limits; -1 for unlimited, -2 when not found.
long long soft_limit(const std::string& limits, const std::string& label) {
  for (const auto& l : lines(limits)) {
    if (l.rfind(label, 0) != 0) continue;
    std::stringstream ss(l.substr(label.size()));
    std::string soft;
    ss >> soft;
    if (soft == "unlimited") return -1;
    return std::atoll(soft.c_str());
  }
  return -2;
}

// Effective capability bit from /proc/self/status (CapEff: hex mask).
bool has_capability(const std::string& status, int bit) {
  for (const auto& l : lines(status)) {
    if (l.rfind("CapEff:", 0) != 0) continue;
    const unsigned long long mask = std::strtoull(trim(l.substr(7)).c_str(), nullptr, 16);
    return (mask >> bit) & 1ull;
  }
  return false;
}

}  // namespace

DoctorReport run_doctor(const std::string& root_dir, int priority) {
  DoctorReport r;
  const fs::path root(root_dir.empty() ? "/" : root_dir);
  std::string text;

  // Sound cards.
  if (read_file(root / "proc/asound/cards", text)) {
    static const std::regex head(R"(^\s*(\d+)\s+\[([^\]\s]+)\s*\]:\s+(\S+)\s+-\s+(.*)$)");
    for (const auto& l : lines(text)) {
      std::smatch m;
      if (!std::regex_match(l, m, head)) continue;
      AlsaCardInfo card;
      card.index = std::atoi(m[1].str().c_str());
      card.id = m[2];
      card.driver = m[3];
      card.name = trim(m[4]);
      const fs::path dir = root / "proc/asound" / ("card" + std::to_string(card.index));
      if (read_file(dir / "usbid", text)) card.usb_id = trim(text);
      if (read_file(dir / "stream0", text)) parse_stream0(text, card);
      std::error_code ec;
      std::vector<fs::path> pcms;
      for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string n = e.path().filename().string();
        if (n.rfind("pcm", 0) == 0 && e.is_directory()) pcms.push_back(e.path());
      }
      std::sort(pcms.begin(), pcms.end());
      for (const auto& p : pcms) {
        AlsaPcmInfo pi;
        pi.path = p.filename().string();
        if (read_file(p / "info", text)) {
          for (const auto& il : lines(text))
            if (il.rfind("name:", 0) == 0) pi.name = trim(il.substr(5));
        }
        pi.hw_params = read_file(p / "sub0/hw_params", text) ? summarize_hw_params(text) : "closed";
        card.pcms.push_back(pi);
      }
      const bool focusrite = card.usb_id.rfind("1235:", 0) == 0;
      if (!r.scarlett_found && (card.id == "Gen" || focusrite)) {
        r.scarlett_found = true;
        r.scarlett_card = "hw:" + card.id;
      }
      r.cards.push_back(std::move(card));
    }
  }
  if (r.cards.empty()) {
    add(r, "sound cards", "fail", "no ALSA sound card (/proc/asound/cards is empty or missing)",
        "plug in the USB audio interface; check `dmesg` for snd-usb-audio messages");
  } else {
    add(r, "sound cards", "pass", std::to_string(r.cards.size()) + " ALSA card(s)", "");
  }
  if (r.scarlett_found) {
    add(r, "Scarlett Solo", "pass", "found as " + r.scarlett_card, "");
  } else {
    add(r, "Scarlett Solo", "warn", "no Focusrite interface (USB id 1235:xxxx, card id Gen); the engine waits for it",
        "plug the Scarlett in, or start the engine with --device hw:CARD for another interface");
  }

  // PREEMPT_RT.
  std::string realtime, version;
  const bool rt_flag = read_file(root / "sys/kernel/realtime", realtime) && trim(realtime) == "1";
  read_file(root / "proc/sys/kernel/version", version);
  if (rt_flag || version.find("PREEMPT_RT") != std::string::npos) {
    add(r, "PREEMPT_RT kernel", "pass", trim(version).empty() ? "realtime=1" : trim(version), "");
  } else {
    add(r, "PREEMPT_RT kernel", "fail",
        "the running kernel is not PREEMPT_RT (" + (trim(version).empty() ? "version unknown" : trim(version)) + ")",
        "boot a PREEMPT_RT kernel (Debian: apt install linux-image-rt-amd64; the box image ships one)");
  }

  // Limits and capabilities of this process (the engine inherits them).
  std::string limits, status;
  read_file(root / "proc/self/limits", limits);
  read_file(root / "proc/self/status", status);
  const long long rtprio = soft_limit(limits, "Max realtime priority");
  const bool cap_nice = has_capability(status, 23);  // CAP_SYS_NICE
  if (cap_nice || rtprio == -1 || rtprio >= priority) {
    add(r, "rtprio limit", "pass",
        cap_nice ? "CAP_SYS_NICE" : "rtprio " + (rtprio == -1 ? std::string("unlimited") : std::to_string(rtprio)), "");
  } else {
    add(r, "rtprio limit", "fail",
        "rtprio limit " + std::to_string(rtprio < 0 ? 0 : rtprio) + " is below the engine's SCHED_FIFO priority " +
            std::to_string(priority),
        "set LimitRTPRIO=95 in the service unit, or add '@audio - rtprio 95' to /etc/security/limits.d/hushbox.conf");
  }
  const long long memlock = soft_limit(limits, "Max locked memory");
  const bool cap_lock = has_capability(status, 14);  // CAP_IPC_LOCK
  if (cap_lock || memlock == -1) {
    add(r, "memlock limit", "pass", cap_lock ? "CAP_IPC_LOCK" : "unlimited", "");
  } else {
    add(r, "memlock limit", memlock >= (256ll << 20) ? "warn" : "fail",
        "locked memory limited to " + std::to_string(memlock < 0 ? 0 : memlock / 1024) + " KiB",
        "set LimitMEMLOCK=infinity in the service unit, or add '@audio - memlock unlimited' to "
        "/etc/security/limits.d/hushbox.conf");
  }

  // CPU frequency governor.
  std::vector<std::string> slow;
  int cpus = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root / "sys/devices/system/cpu", ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() < 4 || n.rfind("cpu", 0) != 0 || n.find_first_not_of("0123456789", 3) != std::string::npos) continue;
    std::string gov;
    if (!read_file(e.path() / "cpufreq/scaling_governor", gov)) continue;
    ++cpus;
    if (trim(gov) != "performance") slow.push_back(n + "=" + trim(gov));
  }
  std::sort(slow.begin(), slow.end());
  if (cpus == 0) {
    add(r, "cpufreq governor", "pass", "no cpufreq driver: the clock does not scale", "");
  } else if (slow.empty()) {
    add(r, "cpufreq governor", "pass", "performance on all " + std::to_string(cpus) + " CPUs", "");
  } else {
    std::string list;
    for (const auto& s : slow) list += (list.empty() ? "" : ", ") + s;
    add(r, "cpufreq governor", "warn", "not performance: " + list,
        "echo performance | tee /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor (the supervisor's system "
        "service does this at start)");
  }

  // /dev/cpu_dma_latency.
  const fs::path dma = root / "dev/cpu_dma_latency";
  if (!fs::exists(dma, ec)) {
    add(r, "cpu_dma_latency", "warn", dma.string() + " does not exist: deep C-states cannot be held off",
        "enable CONFIG_CPU_IDLE / PM QoS in the kernel, or boot with processor.max_cstate=1");
  } else if (access(dma.c_str(), W_OK) != 0) {
    add(r, "cpu_dma_latency", "fail", dma.string() + " is not writable by this user",
        "run the engine as root, or add a udev rule: KERNEL==\"cpu_dma_latency\", GROUP=\"audio\", MODE=\"0660\"");
  } else {
    add(r, "cpu_dma_latency", "pass", "writable; the engine holds it at 0 while running", "");
  }

  r.overall = "pass";
  for (const auto& c : r.checks) {
    if (c.status == "fail") r.overall = "fail";
    if (c.status == "warn" && r.overall == "pass") r.overall = "warn";
  }
  return r;
}

std::string doctor_json(const DoctorReport& r) {
  std::string o = "{\"cards\":[";
  for (size_t i = 0; i < r.cards.size(); ++i) {
    const auto& c = r.cards[i];
    if (i) o += ',';
    o += "{\"index\":" + std::to_string(c.index) + ",\"id\":";
    json::append_string(o, c.id);
    o += ",\"driver\":";
    json::append_string(o, c.driver);
    o += ",\"name\":";
    json::append_string(o, c.name);
    o += ",\"usb_id\":";
    if (c.usb_id.empty())
      o += "null";
    else
      json::append_string(o, c.usb_id);
    o += ",\"streams\":[";
    for (size_t j = 0; j < c.streams.size(); ++j) {
      const auto& s = c.streams[j];
      if (j) o += ',';
      o += "{\"direction\":";
      json::append_string(o, s.direction);
      o += ",\"formats\":";
      json::append_string(o, s.formats);
      o += ",\"rates\":";
      json::append_string(o, s.rates);
      o += ",\"channels\":";
      json::append_string(o, s.channels);
      o += '}';
    }
    o += "],\"pcms\":[";
    for (size_t j = 0; j < c.pcms.size(); ++j) {
      const auto& p = c.pcms[j];
      if (j) o += ',';
      o += "{\"pcm\":";
      json::append_string(o, p.path);
      o += ",\"name\":";
      json::append_string(o, p.name);
      o += ",\"hw_params\":";
      json::append_string(o, p.hw_params);
      o += '}';
    }
    o += "]}";
  }
  o += "],\"scarlett\":{\"found\":";
  o += r.scarlett_found ? "true" : "false";
  o += ",\"device\":";
  if (r.scarlett_found)
    json::append_string(o, r.scarlett_card);
  else
    o += "null";
  o += "},\"checks\":[";
  for (size_t i = 0; i < r.checks.size(); ++i) {
    const auto& c = r.checks[i];
    if (i) o += ',';
    o += "{\"name\":";
    json::append_string(o, c.name);
    o += ",\"status\":";
    json::append_string(o, c.status);
    o += ",\"detail\":";
    json::append_string(o, c.detail);
    o += ",\"fix\":";
    if (c.fix.empty())
      o += "null";
    else
      json::append_string(o, c.fix);
    o += '}';
  }
  o += "],\"overall\":";
  json::append_string(o, r.overall);
  o += "}\n";
  return o;
}

std::string doctor_text(const DoctorReport& r) {
  std::string o = "Sound cards:\n";
  if (r.cards.empty()) o += "  (none)\n";
  for (const auto& c : r.cards) {
    o += "  " + std::to_string(c.index) + " hw:" + c.id + "  " + c.name + "  [" + c.driver +
         (c.usb_id.empty() ? "" : " " + c.usb_id) + "]\n";
    for (const auto& s : c.streams)
      o += "      " + s.direction + ": " + s.formats + ", " + s.channels + " ch, " + s.rates + " Hz\n";
    for (const auto& p : c.pcms) o += "      " + p.path + " " + p.name + ": " + p.hw_params + "\n";
  }
  o += "\nChecks:\n";
  for (const auto& c : r.checks) {
    o += "  [" + c.status + "] " + c.name + ": " + c.detail + "\n";
    if (!c.fix.empty()) o += "         fix: " + c.fix + "\n";
  }
  o += "\nOverall: " + r.overall + "\n";
  return o;
}

int run_doctor_command(const std::vector<std::string>& args) {
  bool json = false;
  std::string root = "/";
  int priority = 70;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      json = true;
    } else if ((a == "--root" || a == "--priority") && i + 1 < args.size()) {
      if (a == "--root") {
        root = args[++i];
      } else {
        const std::string& v = args[++i];
        char* end = nullptr;
        const long p = std::strtol(v.c_str(), &end, 10);
        if (v.empty() || *end || p < 1 || p > 99) {
          std::fprintf(stderr, "hushbox-engine: doctor: --priority expects 1..99, got '%s'\n", v.c_str());
          return 2;
        }
        priority = static_cast<int>(p);
      }
    } else {
      std::fprintf(stderr, "hushbox-engine: doctor: unknown option or missing value '%s'\n", a.c_str());
      return 2;
    }
  }
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    std::fprintf(stderr, "hushbox-engine: doctor: --root %s is not a directory\n", root.c_str());
    return 2;
  }
  const DoctorReport r = run_doctor(root, priority);
  const std::string out = json ? doctor_json(r) : doctor_text(r);
  std::fputs(out.c_str(), stdout);
  return r.overall == "fail" ? 1 : 0;
}

}  // namespace hushbox
