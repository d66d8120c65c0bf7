// The MIDI thread's side of the ALSA sequencer. `Sequencer` is the narrow
// part of the sequencer it uses (open a client and a port, list and
// subscribe ports, wait, read events), so the host tests hand it a fake;
// `SeqReader` is everything else (which ports to subscribe, ports coming and
// going, events into fixed-size messages, the queue, the counters) and runs
// the same over the real sequencer and over the fake.
#pragma once

#include <alsa/asoundlib.h>
#include <poll.h>

#include <cstdint>

#include "link.h"
#include "midi.h"
#include "spsc_queue.h"

namespace hushbox {

// Named by its thread contract: the MIDI thread produces, the audio thread consumes.
using MidiToAudioQueue = SpscQueue<midi::Message, 1024>;

namespace midi {

struct PortAddr {
  int client;
  int port;
};

// Every call comes from the MIDI thread, none allocates once open. [midi]
class Sequencer {
 public:
  virtual ~Sequencer() = default;
  // A client named "hushbox" with one writable port, subscribed to the System Announce
  // port (ports that come and go). 0, or a negative errno with what failed in `what`.
  virtual int open(const char*& what) noexcept = 0;
  virtual void close() noexcept = 0;
  virtual int client_id() const noexcept = 0;
  // Every port of every client there is now, up to max; how many were written.
  virtual uint32_t ports(PortAddr* out, uint32_t max) noexcept = 0;
  // Whether a subscription can read the port (readable, subscribable, exported).
  virtual bool readable(PortAddr a) noexcept = 0;
  // Subscribe our port to a: 0 or a negative errno.
  virtual int connect_from(PortAddr a) noexcept = 0;
  // Wait up to timeout_ms for input: > 0 there is some, 0 none, < 0 an error.
  virtual int wait(int timeout_ms) noexcept = 0;
  // The next event (valid until the next call): >= 0 with ev set, -EAGAIN none left,
  // -ENOSPC the kernel's queue for us overran (events were lost), another negative: an error.
  virtual int read(const snd_seq_event_t*& ev) noexcept = 0;
  // Events the kernel could not queue for us since open.
  virtual uint64_t lost() noexcept = 0;
};

// The real one, on alsa-lib.
class AlsaSequencer final : public Sequencer {
 public:
  AlsaSequencer() = default;
  AlsaSequencer(const AlsaSequencer&) = delete;
  AlsaSequencer& operator=(const AlsaSequencer&) = delete;
  ~AlsaSequencer() override { close(); }
  int open(const char*& what) noexcept override;
  void close() noexcept override;
  int client_id() const noexcept override { return client_; }
  uint32_t ports(PortAddr* out, uint32_t max) noexcept override;
  bool readable(PortAddr a) noexcept override;
  int connect_from(PortAddr a) noexcept override;
  int wait(int timeout_ms) noexcept override;
  int read(const snd_seq_event_t*& ev) noexcept override;
  uint64_t lost() noexcept override;

 private:
  snd_seq_t* seq_ = nullptr;
  int client_ = -1;
  int port_ = -1;
  pollfd fds_[8];
  int nfds_ = 0;
};

// [midi] A sequencer event -> a message; false when it is none we use (port
// announcements, SysEx, clock, pitch bend...).
bool from_seq_event(const snd_seq_event_t& ev, int64_t time_ns, Message& out) noexcept;

// One open sequencer's session: subscriptions and the events' way to the queue. [midi]
class SeqReader {
 public:
  static constexpr uint32_t kMaxSubscriptions = 256;

  SeqReader(Sequencer& seq, MidiToAudioQueue& queue, link::MidiCounters& counters) noexcept
      : seq_(seq), queue_(queue), counters_(counters) {}
  // After open: subscribe to every readable port there is (also those a device
  // already had before we came), and start counting lost events from here.
  void start() noexcept;
  // Read the events waiting, at most max (so a flood that never ends still lets the
  // thread look at its stop flag). 0, or the sequencer's error (a negative errno).
  int pump(uint32_t max = 4096) noexcept;
  // Add what the kernel lost for us since the last look to the dropped counter.
  void count_lost() noexcept;
  uint32_t subscriptions() const noexcept { return count_; }
  bool subscribed(PortAddr a) const noexcept;

 private:
  void subscribe(PortAddr a) noexcept;
  void unsubscribed(int client, int port) noexcept;  // port < 0: every port of the client
  void handle(const snd_seq_event_t& ev) noexcept;

  Sequencer& seq_;
  MidiToAudioQueue& queue_;
  link::MidiCounters& counters_;
  PortAddr subscribed_[kMaxSubscriptions];
  uint32_t count_ = 0;
  uint64_t lost_before_ = 0;
  int me_ = -1;
};

}  // namespace midi
}  // namespace hushbox
