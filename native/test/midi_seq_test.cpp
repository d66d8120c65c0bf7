// The sequencer path end to end against a fake sequencer: events in ->
// fixed-size messages -> the wait-free queue -> values applied by the
// mapping, as the audio thread applies them. The real sequencer is proven in
// QEMU (test/system/midi.test.ts); here every part of ours runs as it does
// there, the kernel's part played by midi_fakes.h.
#include "engine/midi_seq.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <vector>

#include "check.h"
#include "engine/midi_input.h"
#include "midi_fakes.h"

using namespace hushbox;
using link::MidiAction;
using midi::Kind;
using midi::Message;
using test::FakeSequencer;
using test::MockTarget;
using test::Table;

namespace {

// The MIDI thread's side, read synchronously: a session over a fake sequencer.
struct Rig {
  FakeSequencer seq;
  MidiToAudioQueue queue;
  link::MidiCounters counters{};
  midi::SeqReader reader{seq, queue, counters};
  Rig() { queue.init(); }
  void open() {
    const char* what = "";
    CHECK(seq.open(what) == 0);
    reader.start();
  }
};

// The audio thread's side: every message waiting, through the mappings (as Engine::drain_midi).
std::vector<Message> apply(MidiToAudioQueue& queue, const link::MidiMap& map, const Table& t, MockTarget& target,
                           midi::CcPairs& pairs) {
  std::vector<Message> seen;
  Message m;
  for (uint32_t left = queue.size(); left > 0 && queue.pop(m); --left) {
    midi::dispatch(map, t.info, t.count, m, target, pairs);
    seen.push_back(m);
  }
  return seen;
}

link::MidiMap mappings(std::initializer_list<const char*> texts) {
  link::MidiMap map{};
  for (const char* text : texts) CHECK(midi::parse_mapping(text, map));
  return map;
}

bool wait_for(const std::function<bool()>& cond, int ms = 3000) {
  for (int i = 0; i < ms / 5; ++i) {
    if (cond()) return true;
    usleep(5000);
  }
  return cond();
}

}  // namespace

TEST("midi sequencer: a device's CC, notes and program reach the queue and move the mapped parameters") {
  Rig r;
  r.seq.plug(20);
  r.seq.plug(21, false);  // a port nobody can read (an output-only synth): not subscribed
  r.open();
  // Neither the system client nor ourselves: only the readable device.
  CHECK(r.reader.subscriptions() == 1 && r.reader.subscribed({20, 0}) && !r.reader.subscribed({21, 0}));
  CHECK(r.counters.ports.load() == 1);
  r.seq.send(20, {0xB0, 7, 100, 0x91, 60, 127, 0x81, 60, 0, 0xC2, 3, 0x90, 61, 0});
  CHECK(r.reader.pump() == 0);
  CHECK(r.counters.received.load() == 5 && r.counters.dropped.load() == 0 && r.counters.ignored.load() == 0);
  Table t;
  MockTarget target(t);
  midi::CcPairs pairs;
  const link::MidiMap map = mappings({"cc:7=master.gain", "note:60@2=toggle:master.bypass", "pc=preset"});
  const auto seen = apply(r.queue, map, t, target, pairs);
  CHECK(seen.size() == 5);
  CHECK(seen[0].kind == Kind::kControl && seen[0].channel == 0 && seen[0].number == 7 && seen[0].value == 100);
  CHECK(seen[1].kind == Kind::kNoteOn && seen[1].channel == 1 && seen[1].number == 60 && seen[1].value == 127);
  CHECK(seen[2].kind == Kind::kNoteOff && seen[2].number == 60);
  CHECK(seen[3].kind == Kind::kProgram && seen[3].channel == 2 && seen[3].number == 3);
  CHECK(seen[4].kind == Kind::kNoteOff && seen[4].number == 61);  // note on at velocity 0
  for (const Message& m : seen) CHECK(m.time_ns > 0);             // stamped when read, for event -> applied
  const uint32_t gain = t.index("master.gain");
  CHECK_NEAR(target.values[gain], midi::position_to_value(t.info[gain], map.mappings[0], 100.0f / 127.0f), 1e-6);
  CHECK(target.values[t.index("master.bypass")] == 1.0f);
  CHECK(target.programs.size() == 1 && target.programs[0].second == 3);
  // A device we do not read sends into the void.
  r.seq.send(21, {0xB0, 7, 1});
  CHECK(r.seq.pending() == 0);
}

TEST("midi sequencer: running status from a device arrives as whole messages") {
  Rig r;
  r.seq.plug(20);
  r.open();
  r.seq.send(20, {0xB3, 7, 0, 7, 64, 7, 127, 0x90, 64, 90, 64, 0});
  r.reader.pump();
  Table t;
  MockTarget target(t);
  midi::CcPairs pairs;
  const auto seen = apply(r.queue, mappings({"cc:7@4=master.gain"}), t, target, pairs);
  CHECK(seen.size() == 5);
  for (int i = 0; i < 3; ++i) CHECK(seen[i].kind == Kind::kControl && seen[i].channel == 3 && seen[i].number == 7);
  CHECK(seen[1].value == 64 && seen[2].value == 127);
  CHECK(seen[3].kind == Kind::kNoteOn && seen[4].kind == Kind::kNoteOff);
  CHECK_NEAR(target.values[t.index("master.gain")], 12.0, 1e-5);  // the last one applied: the top
}

TEST("midi sequencer: SysEx of any length is counted and skipped, and what follows it arrives") {
  Rig r;
  r.seq.plug(20);
  r.open();
  std::vector<uint8_t> bytes{0xF0};
  for (int i = 0; i < 100000; ++i) bytes.push_back(static_cast<uint8_t>(i & 0x7F));
  bytes.push_back(0xF7);
  bytes.insert(bytes.end(), {0xB0, 7, 1});
  // A SysEx whose F7 never comes, ended by the next status byte.
  bytes.insert(bytes.end(), {0xF0, 0x7E, 1, 2, 3, 0xB0, 7, 2});
  r.seq.send(20, bytes);
  CHECK(r.seq.sysex_bytes() >= 100002);  // in chunks, as the kernel hands them over
  const size_t events = r.seq.pending();
  CHECK(events > 390);
  while (r.seq.pending()) CHECK(r.reader.pump() == 0);
  CHECK(r.counters.received.load() == 2);
  CHECK(r.counters.ignored.load() == events - 2);  // every chunk of SysEx, nothing else
  CHECK(r.queue.size() == 2);
  Message m;
  CHECK(r.queue.pop(m) && m.kind == Kind::kControl && m.value == 1);
  CHECK(r.queue.pop(m) && m.kind == Kind::kControl && m.value == 2);
}

TEST("midi sequencer: unknown and unused messages are ignored and counted, nothing else happens") {
  Rig r;
  r.seq.plug(20);
  r.open();
  // Clock, start, active sensing, pitch bend, channel and poly pressure, song position, tune request,
  // the undefined F4/F5/F9/FD, a stray data byte, then a CC.
  r.seq.send(20, {0xF8, 0xFA, 0xFE, 0xE0, 0,    64,   0xD0, 5,    0xA0, 60, 1, 0xF2,
                  1,    2,    0xF6, 0xF4, 0xF5, 0xF9, 0xFD, 0x33, 0xB0, 1,  2});
  // Events of types no byte makes: a user event, a type from the future.
  snd_seq_event_t ev;
  snd_seq_ev_clear(&ev);
  ev.type = SND_SEQ_EVENT_USR0;
  r.seq.send_event(20, ev);
  ev.type = static_cast<snd_seq_event_type_t>(200);
  r.seq.send_event(20, ev);
  const size_t events = r.seq.pending();
  CHECK(events >= 10);
  CHECK(r.reader.pump() == 0);
  CHECK(r.counters.received.load() == 1 && r.counters.ignored.load() == events - 1);
  Message m;
  CHECK(r.queue.size() == 1 && r.queue.pop(m) && m.kind == Kind::kControl && m.number == 1 && m.value == 2);
}

TEST("midi sequencer: a flood stays bounded: the queue holds its capacity, the rest is dropped and counted") {
  Rig r;
  r.seq.plug(20);
  r.open();
  std::vector<uint8_t> bytes{0xB0};
  for (int i = 0; i < 10000; ++i) {
    bytes.push_back(7);
    bytes.push_back(static_cast<uint8_t>(i & 0x7F));
  }
  r.seq.send(20, bytes);
  CHECK(r.seq.pending() == 10000);
  // One pump reads a bounded batch, so the thread still sees its stop flag in a flood that never ends.
  CHECK(r.reader.pump() == 0);
  CHECK(r.seq.pending() == 10000 - 4096);
  while (r.seq.pending()) r.reader.pump();
  CHECK(r.counters.received.load() == 10000);
  CHECK(r.queue.size() == MidiToAudioQueue::capacity());
  CHECK(r.counters.dropped.load() == 10000 - MidiToAudioQueue::capacity());
  // The kernel's own queue for us overran: what it lost is counted too, at the read that says so...
  r.seq.overrun(500);
  CHECK(r.reader.pump() == 0);
  CHECK(r.counters.dropped.load() == 10000 - MidiToAudioQueue::capacity() + 500);
  // Linux counts no loss for the receiving client (it empties our queue): that it overran is what says so.
  CHECK(r.counters.overruns.load() == 1);
  // ...or at the next idle look.
  r.seq.overrun(7);
  r.reader.count_lost();
  CHECK(r.counters.dropped.load() == 10000 - MidiToAudioQueue::capacity() + 507);
  // The audio thread takes what the queue held, oldest first, and the queue has room again.
  Table t;
  MockTarget target(t);
  midi::CcPairs pairs;
  const auto seen = apply(r.queue, mappings({"cc:7=master.gain"}), t, target, pairs);
  CHECK(seen.size() == MidiToAudioQueue::capacity() && seen[0].value == 0 && seen[1].value == 1);
  CHECK(r.queue.size() == 0);
  r.seq.send(20, {7, 127});  // running status still
  r.reader.pump();
  CHECK(r.queue.size() == 1);
}

TEST("midi sequencer: a device unplugged mid-message leaves nothing behind; the next device is subscribed") {
  Rig r;
  r.seq.plug(20);
  r.open();
  CHECK(r.reader.subscriptions() == 1);
  r.seq.send(20, {0xB0, 7});  // half a CC
  r.seq.unplug(20);
  CHECK(r.reader.pump() == 0);
  CHECK(r.reader.subscriptions() == 0 && r.counters.ports.load() == 0);
  CHECK(r.queue.size() == 0 && r.counters.received.load() == 0);
  // Plugged in later: announced, subscribed; its first byte (a stray) completes nothing of the old one.
  r.seq.plug(24);
  r.seq.plug(25, false);
  CHECK(r.reader.pump() == 0);
  CHECK(r.reader.subscriptions() == 1 && r.reader.subscribed({24, 0}) && r.counters.ports.load() == 1);
  r.seq.send(24, {64, 0xB0, 10, 20});
  CHECK(r.reader.pump() == 0);
  Message m;
  CHECK(r.queue.size() == 1 && r.queue.pop(m) && m.number == 10 && m.value == 20);
  // A port announced twice is subscribed once; an exit of a client we never read changes nothing.
  snd_seq_event_t ev;
  snd_seq_ev_clear(&ev);
  ev.type = SND_SEQ_EVENT_PORT_START;
  ev.data.addr = {24, 0};
  r.seq.send_event(24, ev);
  ev.type = SND_SEQ_EVENT_CLIENT_EXIT;
  ev.data.addr = {99, 0};
  r.seq.send_event(24, ev);
  r.reader.pump();
  CHECK(r.reader.subscriptions() == 1);
}

TEST("midi input thread on the sequencer: reads a device plugged in after start; after a read error it opens again") {
  static FakeSequencer seq;
  static MidiToAudioQueue queue;
  static link::MidiCounters counters;
  queue.init();
  MidiInput in;
  CHECK(in.start("seq", 0, &queue, &counters, &seq));
  CHECK(wait_for([&] { return in.open(); }));
  CHECK(in.client_id() == FakeSequencer::kMe && counters.ports.load() == 0);
  seq.plug(20);
  CHECK(wait_for([&] { return counters.ports.load() == 1; }));
  seq.send(20, {0xB0, 7, 99});
  CHECK(wait_for([&] { return queue.size() == 1; }));
  // The sequencer fails under the thread: it says why, waits, opens again, subscribes again.
  seq.fail_next_read(-ENODEV);
  CHECK(wait_for([&] { return seq.opens() == 2 && in.open() && counters.ports.load() == 1; }));
  CHECK(in.last_error().find("reading the sequencer") != std::string::npos);
  seq.send(20, {0xB0, 7, 98});
  CHECK(wait_for([&] { return queue.size() == 2; }));
  in.stop();
  CHECK(!in.open());
  Message m;
  CHECK(queue.pop(m) && m.value == 99 && queue.pop(m) && m.value == 98);
  CHECK(counters.received.load() == 2 && counters.dropped.load() == 0);
}

TEST("midi sequencer: a 14-bit knob's MSB and LSB, in running status, set the parameter to the pair's value") {
  Rig r;
  r.seq.plug(20);
  r.open();
  r.seq.send(20, {0xB0, 7, 64, 39, 127, 39, 1});
  r.reader.pump();
  Table t;
  MockTarget target(t);
  midi::CcPairs pairs;
  const link::MidiMap map = mappings({"cc:7=master.gain,14bit"});
  CHECK(apply(r.queue, map, t, target, pairs).size() == 3);
  const uint32_t g = t.index("master.gain");
  CHECK_NEAR(target.values[g], midi::control_value_14(t.info[g], map.mappings[0], 64 << 7 | 1), 1e-6);
}
