#include "midi_input.h"

#include <alsa/asoundlib.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli_args.h"
#include "rt.h"

namespace hushbox {

namespace {

constexpr int64_t kRetryNs = 500'000'000;  // how often a missing source is looked for
constexpr int kPollMs = 100;               // how often the thread looks at the stop flag

bool is_raw(const std::string& s) { return s.rfind("hw:", 0) == 0; }
bool is_file(const std::string& s) { return s.rfind("file:", 0) == 0; }

}  // namespace

Status MidiInput::check_source(const std::string& source) {
  if (source == "seq" || (is_raw(source) && source.size() > 3) || (is_file(source) && source.size() > 5))
    return Status::success();
  return Status::error("--midi '" + source +
                       "' is not a MIDI source (expected none, seq, hw:CARD[,DEV[,SUB]] or file:PATH)");
}

Status MidiInput::start(const std::string& source, int priority, MidiToAudioQueue* queue, link::MidiCounters* counters,
                        midi::Sequencer* sequencer) {
  Status s = check_source(source);
  if (!s) return s;
  source_ = source;
  priority_ = priority;
  queue_ = queue;
  counters_ = counters;
  sequencer_ = sequencer;
  ErrorText none{};
  error_.init(none);
  stop_.store(false, std::memory_order_relaxed);
  if (!start_thread(
          thread_,
          [](void* self) -> void* {
            static_cast<MidiInput*>(self)->thread_main();
            return nullptr;
          },
          this))
    return Status::error("cannot start the MIDI thread");
  started_ = true;
  pthread_setname_np(thread_, "hb-midi");
  return Status::success();
}

void MidiInput::stop() {
  if (!started_) return;
  stop_.store(true, std::memory_order_relaxed);
  pthread_join(thread_, nullptr);
  started_ = false;
}

std::string MidiInput::last_error() const {
  ErrorText e{};
  if (!error_.load(e)) return {};
  e.text[sizeof e.text - 1] = '\0';
  return e.text;
}

void MidiInput::set_error(const char* what, int err) noexcept {
  ErrorText e{};
  std::snprintf(e.text, sizeof e.text, "%s: %s", what, err < 0 ? snd_strerror(err) : std::strerror(err));
  error_.store(e);
}

bool MidiInput::sleep_unless_stopped(int64_t ns) noexcept {
  const int64_t until = now_ns() + ns;
  while (!stop_.load(std::memory_order_relaxed)) {
    const int64_t now = now_ns();
    if (now >= until) return true;
    sleep_until_ns(now + (until - now < 50'000'000 ? until - now : 50'000'000));
  }
  return false;
}

void MidiInput::deliver(const midi::Message& m) noexcept {
  counters_->received.fetch_add(1, std::memory_order_relaxed);
  if (!queue_->push(m)) counters_->dropped.fetch_add(1, std::memory_order_relaxed);
}

void MidiInput::thread_main() noexcept {
  // Below the audio thread: a MIDI flood may never take its CPU.
  pthread_setname_np(pthread_self(), "hb-midi");
  RtConfig rt;
  rt.priority = priority_;
  setup_realtime_thread(rt, false);
  if (source_ == "seq")
    run_seq();
  else
    run_raw();
  open_.store(false, std::memory_order_relaxed);
}

// The sequencer: one client, one writable port, subscribed to every readable port.
void MidiInput::run_seq() noexcept {
  midi::AlsaSequencer alsa;
  midi::Sequencer& seq = sequencer_ ? *sequencer_ : alsa;
  while (!stop_.load(std::memory_order_relaxed)) {
    // Looked for quietly: alsa-lib would print its own error at every try.
    if (!sequencer_ && ::access("/dev/snd/seq", R_OK | W_OK) != 0) {
      set_error("no ALSA sequencer (/dev/snd/seq; the snd-seq module)", errno);
      if (!sleep_unless_stopped(kRetryNs)) return;
      continue;
    }
    const char* what = "";
    if (const int err = seq.open(what); err < 0) {
      set_error(what, err);
      if (!sleep_unless_stopped(kRetryNs)) return;
      continue;
    }
    midi::SeqReader reader(seq, *queue_, *counters_);
    reader.start();
    client_id_.store(seq.client_id(), std::memory_order_relaxed);
    open_.store(true, std::memory_order_relaxed);
    bool lost = false;
    while (!lost && !stop_.load(std::memory_order_relaxed)) {
      if (seq.wait(kPollMs) <= 0) {
        reader.count_lost();
        continue;
      }
      if (const int err = reader.pump(); err < 0) {
        set_error("reading the sequencer", err);
        lost = true;
      }
    }
    reader.count_lost();
    open_.store(false, std::memory_order_relaxed);
    seq.close();
    if (lost && !sleep_unless_stopped(kRetryNs)) return;
  }
}

// A raw MIDI device (hw:) or a pipe: bytes through the parser.
void MidiInput::run_raw() noexcept {
  midi::Parser parser;
  uint64_t ignored_before = 0;
  const bool file = is_file(source_);
  while (!stop_.load(std::memory_order_relaxed)) {
    snd_rawmidi_t* raw = nullptr;
    int fd = -1;
    pollfd fds[4];
    int nfds = 0;
    if (file) {
      // Read-write, so a pipe with no writer left is not at its end.
      fd = ::open(source_.c_str() + 5, O_RDWR | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) {
        set_error(source_.c_str(), errno);
        if (!sleep_unless_stopped(kRetryNs)) return;
        continue;
      }
      fds[0] = {fd, POLLIN, 0};
      nfds = 1;
    } else {
      const int err = snd_rawmidi_open(&raw, nullptr, source_.c_str(), SND_RAWMIDI_NONBLOCK);
      if (err < 0) {
        set_error(source_.c_str(), err);
        if (!sleep_unless_stopped(kRetryNs)) return;
        continue;
      }
      nfds = snd_rawmidi_poll_descriptors(raw, fds, 4);
    }
    parser.reset();  // a message cut off by an unplug does not run into the next device's bytes
    counters_->ports.store(1, std::memory_order_relaxed);
    open_.store(true, std::memory_order_relaxed);
    bool lost = false;
    uint8_t buf[256];
    while (!lost && !stop_.load(std::memory_order_relaxed)) {
      const int r = poll(fds, static_cast<nfds_t>(nfds), kPollMs);
      if (r <= 0) continue;
      for (int i = 0; i < nfds; ++i)
        if (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) lost = !file || (fds[i].revents & POLLNVAL);
      for (;;) {
        ssize_t n = file ? ::read(fd, buf, sizeof buf) : snd_rawmidi_read(raw, buf, sizeof buf);
        if (n == -EAGAIN || (n < 0 && errno == EAGAIN && file)) break;
        if (n <= 0) {
          if (n < 0) set_error(source_.c_str(), file ? errno : static_cast<int>(n));
          lost = lost || n < 0;
          break;
        }
        const int64_t t = now_ns();
        for (ssize_t k = 0; k < n; ++k) {
          midi::Message m{t, midi::Kind::kNone, 0, 0, 0};
          if (parser.feed(buf[k], m)) deliver(m);
        }
        counters_->ignored.fetch_add(parser.ignored() - ignored_before, std::memory_order_relaxed);
        ignored_before = parser.ignored();
      }
    }
    open_.store(false, std::memory_order_relaxed);
    counters_->ports.store(0, std::memory_order_relaxed);
    if (file)
      ::close(fd);
    else
      snd_rawmidi_close(raw);
    if (lost && !sleep_unless_stopped(kRetryNs)) return;
  }
}

int run_midi_send_command(const std::vector<std::string>& args) {
  std::string device, error, v;
  uint32_t count = 1, interval_us = 1000, cc = 7, channel = 0, program = 128;
  bool ok = true;
  for (size_t i = 0; i < args.size() && ok; ++i) {
    const std::string& a = args[i];
    if (a == "--count")
      ok = cli::take_value(args, i, v, error) && cli::parse_uint(a, v, count, error);
    else if (a == "--interval-us")
      ok = cli::take_value(args, i, v, error) && cli::parse_uint(a, v, interval_us, error);
    else if (a == "--cc")
      ok = cli::take_value(args, i, v, error) && cli::parse_uint(a, v, cc, error);
    else if (a == "--channel")
      ok = cli::take_value(args, i, v, error) && cli::parse_uint(a, v, channel, error);
    else if (a == "--program")
      ok = cli::take_value(args, i, v, error) && cli::parse_uint(a, v, program, error);
    else if (device.empty() && a[0] != '-')
      device = a;
    else {
      error = "midi-send: unknown option '" + a + "'";
      ok = false;
    }
  }
  if (ok && device.empty()) error = "midi-send: name a device (hw:CARD,DEV) or a file", ok = false;
  if (ok && (cc > 127 || channel > 15 || (program != 128 && program > 127)))
    error = "midi-send: --cc and --program are 0..127, --channel 0..15", ok = false;
  if (!ok) {
    std::fprintf(stderr, "hushbox-engine: %s\n", error.c_str());
    return 2;
  }
  snd_rawmidi_t* out = nullptr;
  int fd = -1;
  if (is_raw(device)) {
    const int err = snd_rawmidi_open(nullptr, &out, device.c_str(), 0);
    if (err < 0) {
      std::fprintf(stderr, "hushbox-engine: midi-send: %s: %s\n", device.c_str(), snd_strerror(err));
      return 1;
    }
  } else {
    fd = ::open(device.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      std::fprintf(stderr, "hushbox-engine: midi-send: %s: %s\n", device.c_str(), std::strerror(errno));
      return 1;
    }
  }
  auto send = [&](const uint8_t* b, size_t n) {
    return out ? snd_rawmidi_write(out, b, n) == static_cast<ssize_t>(n) : ::write(fd, b, n) == static_cast<ssize_t>(n);
  };
  const int64_t t0 = now_ns();
  uint32_t sent = 0;
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t msg[3];
    size_t n;
    if (program != 128) {
      msg[0] = static_cast<uint8_t>(0xC0 | channel);
      msg[1] = static_cast<uint8_t>(program);
      n = 2;
    } else {
      msg[0] = static_cast<uint8_t>(0xB0 | channel);
      msg[1] = static_cast<uint8_t>(cc);
      msg[2] = static_cast<uint8_t>(i % 128);
      n = 3;
    }
    if (!send(msg, n)) break;
    if (out) snd_rawmidi_drain(out);
    ++sent;
    if (interval_us) sleep_until_ns(t0 + static_cast<int64_t>(i + 1) * interval_us * 1000);
  }
  const double seconds = static_cast<double>(now_ns() - t0) / 1e9;
  if (out) snd_rawmidi_close(out);
  if (fd >= 0) ::close(fd);
  std::printf("{\"sent\":%u,\"seconds\":%.3f}\n", sent, seconds);
  return sent == count ? 0 : 1;
}

}  // namespace hushbox
