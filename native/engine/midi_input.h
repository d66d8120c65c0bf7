// The MIDI thread: reads the ALSA sequencer (a "hushbox" client subscribed to
// every output port, also to ports that appear later), a raw MIDI device, or
// a pipe (tests), and hands fixed-size messages to the audio thread through a
// wait-free queue. It never waits on the audio thread: a full queue drops the
// message and counts it.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "link.h"
#include "midi.h"
#include "midi_seq.h"
#include "spsc_queue.h"
#include "status.h"

namespace hushbox {

class MidiInput {
 public:
  MidiInput() = default;
  MidiInput(const MidiInput&) = delete;
  MidiInput& operator=(const MidiInput&) = delete;
  ~MidiInput() { stop(); }

  // [control] Check the source: "seq" (the ALSA sequencer), "hw:..." (raw MIDI) or
  // "file:PATH" (a pipe of raw MIDI bytes; tests). Opening waits for the thread, so a
  // device or a sequencer that is not there yet is looked for again.
  static Status check_source(const std::string& source);

  // [control] Start the thread; priority 0 keeps SCHED_OTHER. sequencer: what "seq" reads
  // (null: the ALSA sequencer; the host tests pass a fake), kept by the caller until stop().
  Status start(const std::string& source, int priority, MidiToAudioQueue* queue, link::MidiCounters* counters,
               midi::Sequencer* sequencer = nullptr);
  // [control] Idempotent.
  void stop();

  // [any] Whether the source is open now, and the last error (for the stats).
  bool open() const noexcept { return open_.load(std::memory_order_relaxed); }
  std::string last_error() const;
  int client_id() const noexcept { return client_id_.load(std::memory_order_relaxed); }

 private:
  void thread_main() noexcept;
  void run_seq() noexcept;
  void run_raw() noexcept;
  void deliver(const midi::Message& m) noexcept;
  void set_error(const char* what, int err) noexcept;
  bool sleep_unless_stopped(int64_t ns) noexcept;

  std::string source_;
  int priority_ = 0;
  MidiToAudioQueue* queue_ = nullptr;
  link::MidiCounters* counters_ = nullptr;
  midi::Sequencer* sequencer_ = nullptr;
  pthread_t thread_{};
  bool started_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<bool> open_{false};
  std::atomic<int> client_id_{-1};
  // The last error, written by the MIDI thread; a seqlock so a reader never sees half of it.
  struct ErrorText {
    char text[160];
  };
  Seqlock<ErrorText> error_;
};

// `hushbox-engine midi-send`: raw MIDI out to a device or file, paced (tests and bench).
int run_midi_send_command(const std::vector<std::string>& args);

}  // namespace hushbox
