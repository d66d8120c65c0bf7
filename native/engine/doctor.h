// `hushbox-engine doctor`: the sound cards (from /proc/asound) and each
// real-time prerequisite, with pass/warn/fail and the fix. Everything is read
// under a root directory, so fixture trees can stand in for /proc and /sys.
#pragma once

#include <string>
#include <vector>

namespace hushbox {

struct DoctorCheck {
  std::string name;
  std::string status;  // "pass", "warn" or "fail"
  std::string detail;
  std::string fix;  // empty when it passes
};

struct AlsaStreamInfo {
  std::string direction;  // "playback" or "capture"
  std::string formats;    // "S32_LE"
  std::string rates;      // "44100, 48000, ..."
  std::string channels;   // "2"
};

struct AlsaPcmInfo {
  std::string path;  // "pcm0p"
  std::string name;
  std::string hw_params;  // "closed" or "S32_LE 2ch 48000 Hz period 256 buffer 512"
};

struct AlsaCardInfo {
  int index = -1;
  std::string id;  // "Gen"
  std::string driver;
  std::string name;
  std::string usb_id;  // "1235:8218" for USB devices
  std::vector<AlsaStreamInfo> streams;
  std::vector<AlsaPcmInfo> pcms;
};

struct DoctorReport {
  std::vector<AlsaCardInfo> cards;
  bool scarlett_found = false;
  std::string scarlett_card;  // "hw:Gen"
  std::vector<DoctorCheck> checks;
  std::string overall;  // the worst status
};

// [control] Inspect the system under `root` ("/" for the real one); `priority` is the one the engine will ask for.
DoctorReport run_doctor(const std::string& root, int priority);
std::string doctor_json(const DoctorReport& r);
std::string doctor_text(const DoctorReport& r);

// [control] The command; returns the process exit code (1 when a check fails).
int run_doctor_command(const std::vector<std::string>& args);

}  // namespace hushbox
