// What the MIDI tests share: the parameter table as the link carries it, a
// mock of what the audio thread owns, and a fake of the ALSA sequencer
// (midi::Sequencer) with devices that turn raw MIDI bytes into sequencer
// events through alsa-lib's own encoder (the one the kernel's rawmidi ->
// sequencer bridge mirrors: running status, SysEx in chunks).
#pragma once

#include <alsa/asoundlib.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "dsp/params.h"
#include "engine/link.h"
#include "engine/midi.h"
#include "engine/midi_seq.h"

namespace hushbox::test {

// The engine's parameter table as the link carries it.
struct Table {
  link::ParamInfo info[link::kMaxParams];
  uint32_t count = 0;
  Table() {
    for (const auto& d : dsp::param_table()) {
      link::ParamInfo& p = info[count++];
      std::memset(&p, 0, sizeof p);
      std::snprintf(p.id, sizeof p.id, "%s", d.id);
      p.scale = static_cast<link::ParamScale>(d.scale);
      p.min = d.min;
      p.max = d.max;
      p.def = d.def;
    }
  }
  uint32_t index(const char* id) const { return static_cast<uint32_t>(dsp::find_param(id)); }
};

// A mock of what the audio thread owns: parameters and the supervisor's side.
struct MockTarget {
  std::vector<float> values;
  std::vector<std::pair<uint8_t, uint8_t>> programs;
  std::vector<link::MidiAction> actions;
  explicit MockTarget(const Table& t) {
    for (uint32_t i = 0; i < t.count; ++i) values.push_back(t.info[i].def);
  }
  float param(uint32_t i) const { return values[i]; }
  void set_param(uint32_t i, float v) { values[i] = v; }
  void program(uint8_t ch, uint8_t p) { programs.emplace_back(ch, p); }
  void action(link::MidiAction a) { actions.push_back(a); }
};

// The ALSA sequencer as the MIDI thread sees it. Devices are clients with one
// readable port; what a device sends reaches us only once we subscribed to its
// port, as the kernel does. Thread-safe: a test thread plays the devices while
// the MIDI thread reads.
class FakeSequencer final : public midi::Sequencer {
 public:
  static constexpr int kMe = 128;

  ~FakeSequencer() override {
    for (auto& [client, d] : devices_) snd_midi_event_free(d.encoder);
  }

  // --- the test's side ---
  // A device appears (announced on the System Announce port when we are open).
  void plug(int client, bool readable = true) {
    std::lock_guard<std::mutex> lock(mutex_);
    Device d;
    d.readable = readable;
    snd_midi_event_new(256, &d.encoder);  // the kernel's bridge buffers 256 bytes too
    devices_[client] = d;
    if (open_) announce(SND_SEQ_EVENT_PORT_START, client);
  }
  // The device goes: its port and client exit; whatever it had half sent is gone with it.
  void unplug(int client) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = devices_.find(client);
    if (it == devices_.end()) return;
    snd_midi_event_free(it->second.encoder);
    devices_.erase(it);
    if (open_) {
      announce(SND_SEQ_EVENT_PORT_EXIT, client);
      announce(SND_SEQ_EVENT_CLIENT_EXIT, client);
    }
  }
  // Raw MIDI bytes from a device, through alsa-lib's encoder into events.
  void send(int client, const std::vector<uint8_t>& bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    Device& d = devices_.at(client);
    for (uint8_t b : bytes) {
      snd_seq_event_t ev;
      snd_seq_ev_clear(&ev);
      if (snd_midi_event_encode_byte(d.encoder, b, &ev) == 1 && ev.type != SND_SEQ_EVENT_NONE) deliver(client, ev);
    }
  }
  // An event as it is (a type the encoder never makes, say).
  void send_event(int client, snd_seq_event_t ev) {
    std::lock_guard<std::mutex> lock(mutex_);
    deliver(client, ev);
  }
  // The kernel's queue for us overran: n events lost, and the next read says so.
  void overrun(uint64_t n) {
    std::lock_guard<std::mutex> lock(mutex_);
    lost_ += n;
    overrun_ = true;
  }
  // The next read fails with err (the sequencer went away under us).
  void fail_next_read(int err) {
    std::lock_guard<std::mutex> lock(mutex_);
    fail_ = err;
  }
  size_t pending() {
    std::lock_guard<std::mutex> lock(mutex_);
    return queue_.size();
  }
  int opens() {
    std::lock_guard<std::mutex> lock(mutex_);
    return opens_;
  }
  size_t sysex_bytes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return sysex_bytes_;
  }

  // --- the MIDI thread's side ---
  int open(const char*&) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    ++opens_;
    subscribed_.clear();
    queue_.clear();
    return 0;
  }
  void close() noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = false;
    subscribed_.clear();
  }
  int client_id() const noexcept override { return kMe; }
  uint32_t ports(midi::PortAddr* out, uint32_t max) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    uint32_t n = 0;
    // The system client (announce, timer) and ourselves are there too, as on a real box.
    if (n < max) out[n++] = {SND_SEQ_CLIENT_SYSTEM, SND_SEQ_PORT_SYSTEM_ANNOUNCE};
    if (n < max) out[n++] = {kMe, 0};
    for (auto& [client, d] : devices_)
      if (n < max) out[n++] = {client, 0};
    return n;
  }
  bool readable(midi::PortAddr a) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = devices_.find(a.client);
    return a.port == 0 && it != devices_.end() && it->second.readable;
  }
  int connect_from(midi::PortAddr a) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!devices_.count(a.client)) return -ENOENT;
    if (subscribed_.count(a.client)) return -EBUSY;
    subscribed_[a.client] = true;
    return 0;
  }
  int wait(int timeout_ms) noexcept override {
    for (int waited = 0;; ++waited) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!queue_.empty() || overrun_ || fail_) return 1;
      }
      if (waited >= timeout_ms) return 0;
      usleep(1000);
    }
  }
  int read(const snd_seq_event_t*& ev) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (fail_) {
      const int err = fail_;
      fail_ = 0;
      return err;
    }
    if (overrun_) {
      overrun_ = false;
      return -ENOSPC;
    }
    if (queue_.empty()) return -EAGAIN;
    current_ = queue_.front();
    queue_.pop_front();
    if (current_.type == SND_SEQ_EVENT_SYSEX) {
      sysex_store_ = std::move(sysex_.front());
      sysex_.pop_front();
      current_.data.ext.ptr = sysex_store_.data();
    }
    ev = &current_;
    return static_cast<int>(queue_.size());
  }
  uint64_t lost() noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    return lost_;
  }

 private:
  struct Device {
    bool readable = true;
    snd_midi_event_t* encoder = nullptr;
  };
  void announce(int type, int client) {
    snd_seq_event_t ev;
    snd_seq_ev_clear(&ev);
    ev.type = static_cast<snd_seq_event_type_t>(type);
    ev.source = {SND_SEQ_CLIENT_SYSTEM, SND_SEQ_PORT_SYSTEM_ANNOUNCE};
    ev.data.addr = {static_cast<unsigned char>(client), 0};
    queue_.push_back(ev);
  }
  void deliver(int client, snd_seq_event_t ev) {
    if (!open_ || !subscribed_.count(client)) return;  // nobody listens: the kernel drops it
    ev.source = {static_cast<unsigned char>(client), 0};
    ev.dest = {kMe, 0};
    if (ev.type == SND_SEQ_EVENT_SYSEX) {
      // The encoder's buffer is reused for the next chunk: the event keeps its own copy.
      const auto* p = static_cast<const uint8_t*>(ev.data.ext.ptr);
      sysex_.emplace_back(p, p + ev.data.ext.len);
      sysex_bytes_ += ev.data.ext.len;
    }
    queue_.push_back(ev);
  }

  std::mutex mutex_;
  std::map<int, Device> devices_;
  std::map<int, bool> subscribed_;
  std::deque<snd_seq_event_t> queue_;
  std::deque<std::vector<uint8_t>> sysex_;
  std::vector<uint8_t> sysex_store_;
  size_t sysex_bytes_ = 0;
  snd_seq_event_t current_{};
  uint64_t lost_ = 0;
  bool overrun_ = false;
  int fail_ = 0;
  bool open_ = false;
  int opens_ = 0;
};

}  // namespace hushbox::test
