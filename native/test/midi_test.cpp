#include "engine/midi.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "check.h"
#include "dsp/params.h"
#include "engine/link.h"
#include "engine/midi_input.h"
#include "midi_fakes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace hushbox;
using link::MidiAction;
using link::MidiMapping;
using link::MidiMode;
using link::MidiSource;
using midi::Kind;
using midi::Message;
using test::MockTarget;
using test::Table;

namespace {

std::vector<Message> parse(const std::vector<uint8_t>& bytes, midi::Parser& p) {
  std::vector<Message> out;
  for (uint8_t b : bytes) {
    Message m{};
    if (p.feed(b, m)) out.push_back(m);
  }
  return out;
}

std::vector<Message> parse(const std::vector<uint8_t>& bytes) {
  midi::Parser p;
  return parse(bytes, p);
}

MidiMapping cc_map(uint32_t index, uint8_t cc, MidiMode mode = MidiMode::kAbsolute) {
  MidiMapping m{};
  m.source = MidiSource::kControlChange;
  m.channel = link::kMidiOmni;
  m.number = cc;
  m.mode = mode;
  m.action = MidiAction::kParam;
  m.index = index;
  m.min = m.max = NAN;
  return m;
}

Message cc(uint8_t number, uint8_t value, uint8_t channel = 0) {
  return Message{0, Kind::kControl, channel, number, value};
}

}  // namespace

TEST("midi parser: control change, note on/off, program change") {
  auto m = parse({0xB0, 7, 100, 0x91, 60, 127, 0x81, 60, 0, 0xC2, 5});
  CHECK(m.size() == 4);
  CHECK(m[0].kind == Kind::kControl && m[0].channel == 0 && m[0].number == 7 && m[0].value == 100);
  CHECK(m[1].kind == Kind::kNoteOn && m[1].channel == 1 && m[1].number == 60 && m[1].value == 127);
  CHECK(m[2].kind == Kind::kNoteOff && m[2].number == 60);
  CHECK(m[3].kind == Kind::kProgram && m[3].channel == 2 && m[3].number == 5);
}

TEST("midi parser: running status continues the last channel message; note on at velocity 0 is a note off") {
  auto m = parse({0xB3, 1, 10, 1, 11, 2, 12, 0x90, 64, 90, 64, 0});
  CHECK(m.size() == 5);
  for (int i = 0; i < 3; ++i) CHECK(m[i].kind == Kind::kControl && m[i].channel == 3);
  CHECK(m[1].number == 1 && m[1].value == 11 && m[2].number == 2 && m[2].value == 12);
  CHECK(m[3].kind == Kind::kNoteOn && m[4].kind == Kind::kNoteOff);
}

TEST("midi parser: real-time bytes inside a message change nothing") {
  auto m = parse({0xB0, 0xF8, 7, 0xFE, 64, 0xFA, 8, 0xFC, 1});
  CHECK(m.size() == 2);
  CHECK(m[0].number == 7 && m[0].value == 64);
  CHECK(m[1].number == 8 && m[1].value == 1);  // running status survived the real-time bytes
}

TEST("midi parser: SysEx of any length is skipped without storing it, and cancels running status") {
  std::vector<uint8_t> bytes{0xB0, 7, 1, 0xF0};
  for (int i = 0; i < 100000; ++i) bytes.push_back(static_cast<uint8_t>(i & 0x7F));
  bytes.push_back(0xF7);
  bytes.push_back(7);  // a stray after the SysEx: no running status any more
  bytes.push_back(9);
  bytes.insert(bytes.end(), {0xB0, 7, 2});
  midi::Parser p;
  auto m = parse(bytes, p);
  CHECK(m.size() == 2);
  CHECK(m[0].value == 1 && m[1].value == 2);
  CHECK(p.ignored() >= 3);
  // A SysEx whose F7 never comes ends at the next status byte.
  auto n = parse({0xF0, 1, 2, 3, 0xB1, 7, 99});
  CHECK(n.size() == 1 && n[0].channel == 1 && n[0].value == 99);
}

TEST("midi parser: unknown and system common messages, pitch bend and pressure are ignored whole") {
  midi::Parser p;
  auto m = parse({0xF2, 1, 2, 0xF3, 4, 0xF6, 0xE0, 0, 64, 0xD0, 5, 0xA0, 60, 1, 0xF1, 3, 0xF4, 0xF5, 0xB0, 1, 2}, p);
  CHECK(m.size() == 1);
  CHECK(m[0].kind == Kind::kControl && m[0].number == 1 && m[0].value == 2);
  CHECK(p.ignored() >= 7);
}

TEST("midi parser: a message cut off by an unplug does not run into the next device's bytes") {
  midi::Parser p;
  CHECK(parse({0xB0, 7}, p).empty());
  p.reset();
  auto m = parse({64, 0xB0, 10, 20}, p);  // 64 would have completed the old CC
  CHECK(m.size() == 1 && m[0].number == 10 && m[0].value == 20);
}

TEST("midi scaling: every scale of the table, ends and middle") {
  Table t;
  MockTarget target(t);
  for (uint32_t i = 0; i < t.count; ++i) {
    const link::ParamInfo& p = t.info[i];
    const MidiMapping m = cc_map(i, 1);
    const float lo = midi::control_value(p, m, 0, 0.0f);
    const float hi = midi::control_value(p, m, 127, 0.0f);
    CHECK_NEAR(lo, p.min, 1e-4 * (1.0 + std::fabs(p.min)));
    CHECK_NEAR(hi, p.max, 1e-3 * (1.0 + std::fabs(p.max)));
    const float mid = midi::position_to_value(p, m, 0.5f);
    switch (p.scale) {
      case link::ParamScale::kLog: CHECK_NEAR(mid, std::sqrt(p.min * p.max), 1e-3 * p.max); break;
      case link::ParamScale::kLinear:
      case link::ParamScale::kDecibel: CHECK_NEAR(mid, 0.5 * (p.min + p.max), 1e-4 * (1 + std::fabs(p.max))); break;
      case link::ParamScale::kBool: CHECK(mid == 1.0f && midi::position_to_value(p, m, 0.49f) == 0.0f); break;
      case link::ParamScale::kEnum: {
        // A value the parameter takes (the slope steps by 12 dB/oct).
        CHECK(dsp::clamp_param(i, mid) == mid);
        break;
      }
    }
    // Every value lies in range and round-trips to its knob position.
    for (int v = 0; v < 128; v += 9) {
      const float x = midi::control_value(p, m, static_cast<uint8_t>(v), 0.0f);
      CHECK(x >= p.min && x <= p.max);
      if (p.scale != link::ParamScale::kBool && p.scale != link::ParamScale::kEnum)
        CHECK_NEAR(midi::value_to_position(p, m, x), v / 127.0, 1e-3);
    }
  }
}

TEST("midi scaling: a log parameter (EQ frequency) moves by ratio, not by hertz") {
  Table t;
  const uint32_t i = t.index("mic.eq.peak1.freq");  // 20 Hz .. 20 kHz, log
  const MidiMapping m = cc_map(i, 1);
  const float a = midi::position_to_value(t.info[i], m, 0.25f), b = midi::position_to_value(t.info[i], m, 0.5f),
              c = midi::position_to_value(t.info[i], m, 0.75f);
  CHECK_NEAR(b / a, c / b, 1e-3);
  CHECK_NEAR(b, 632.46, 1.0);
}

TEST("midi scaling: min/max narrow the knob's travel, inversion turns it round") {
  Table t;
  const uint32_t i = t.index("master.gain");  // -60..12 dB
  MidiMapping m = cc_map(i, 7);
  m.min = -20.0f;
  m.max = 6.0f;
  CHECK_NEAR(midi::control_value(t.info[i], m, 0, 0), -20.0, 1e-5);
  CHECK_NEAR(midi::control_value(t.info[i], m, 127, 0), 6.0, 1e-5);
  m.invert = 1;
  CHECK_NEAR(midi::control_value(t.info[i], m, 0, 0), 6.0, 1e-5);
  CHECK_NEAR(midi::control_value(t.info[i], m, 127, 0), -20.0, 1e-5);
  // A min/max outside the parameter's range is held to the range.
  m.invert = 0;
  m.min = -100.0f;
  m.max = 50.0f;
  CHECK_NEAR(midi::control_value(t.info[i], m, 0, 0), -60.0, 1e-5);
  CHECK_NEAR(midi::control_value(t.info[i], m, 127, 0), 12.0, 1e-5);
}

TEST("midi scaling: relative encoders in their three encodings") {
  CHECK(midi::relative_steps(MidiMode::kRelativeTwos, 1) == 1);
  CHECK(midi::relative_steps(MidiMode::kRelativeTwos, 5) == 5);
  CHECK(midi::relative_steps(MidiMode::kRelativeTwos, 127) == -1);
  CHECK(midi::relative_steps(MidiMode::kRelativeTwos, 123) == -5);
  CHECK(midi::relative_steps(MidiMode::kRelativeOffset, 64) == 0);
  CHECK(midi::relative_steps(MidiMode::kRelativeOffset, 65) == 1);
  CHECK(midi::relative_steps(MidiMode::kRelativeOffset, 60) == -4);
  CHECK(midi::relative_steps(MidiMode::kRelativeSigned, 3) == 3);
  CHECK(midi::relative_steps(MidiMode::kRelativeSigned, 67) == -3);
  Table t;
  const uint32_t i = t.index("master.gain");  // -60..12 dB: one step is 72/127 dB
  const float step = 72.0f / 127.0f;
  for (MidiMode mode : {MidiMode::kRelativeTwos, MidiMode::kRelativeOffset, MidiMode::kRelativeSigned}) {
    const MidiMapping m = cc_map(i, 16, mode);
    const uint8_t up = mode == MidiMode::kRelativeOffset ? 66 : 2;
    const uint8_t down = mode == MidiMode::kRelativeTwos ? 126 : mode == MidiMode::kRelativeOffset ? 62 : 66;
    CHECK_NEAR(midi::control_value(t.info[i], m, up, 0.0f), 2 * step, 1e-4);
    CHECK_NEAR(midi::control_value(t.info[i], m, down, 0.0f), -2 * step, 1e-4);
    CHECK_NEAR(midi::control_value(t.info[i], m, up, 12.0f), 12.0, 1e-6);  // held at the top
    MidiMapping inv = m;
    inv.invert = 1;
    CHECK_NEAR(midi::control_value(t.info[i], inv, up, 0.0f), -2 * step, 1e-4);
  }
  // A log parameter steps by ratio; an enum by its step; an on/off by direction.
  const uint32_t f = t.index("mic.hpf.freq");  // 20..300 Hz log
  const MidiMapping mf = cc_map(f, 16, MidiMode::kRelativeTwos);
  const float r1 = midi::control_value(t.info[f], mf, 1, 40.0f) / 40.0f;
  const float r2 = midi::control_value(t.info[f], mf, 1, 160.0f) / 160.0f;
  CHECK(r1 > 1.0f);
  CHECK_NEAR(r1, r2, 1e-3);
  const uint32_t slope = t.index("mic.hpf.slope");  // 12..48 by 12
  const MidiMapping ms = cc_map(slope, 16, MidiMode::kRelativeTwos);
  CHECK(midi::control_value(t.info[slope], ms, 1, 24.0f) == 36.0f);
  CHECK(midi::control_value(t.info[slope], ms, 127, 24.0f) == 12.0f);
  CHECK(midi::control_value(t.info[slope], ms, 127, 12.0f) == 12.0f);
  const uint32_t byp = t.index("master.bypass");
  const MidiMapping mb = cc_map(byp, 16, MidiMode::kRelativeTwos);
  CHECK(midi::control_value(t.info[byp], mb, 1, 0.0f) == 1.0f);
  CHECK(midi::control_value(t.info[byp], mb, 127, 1.0f) == 0.0f);
}

TEST("midi dispatch: channel filter or omni, switches toggle on press, programs and actions go to the supervisor") {
  Table t;
  MockTarget target(t);
  midi::CcPairs pairs;
  link::MidiMap map{};
  CHECK(midi::parse_mapping("cc:7@2=master.gain", map));
  CHECK(midi::parse_mapping("note:60=toggle:master.bypass", map));
  CHECK(midi::parse_mapping("cc:64=toggle:mic.ns.bypass", map));
  CHECK(midi::parse_mapping("pc=preset", map));
  CHECK(midi::parse_mapping("cc:80@16=ab", map));
  CHECK(midi::parse_mapping("note:61@1=record", map));
  CHECK(map.count == 6);
  const uint32_t gain = t.index("master.gain"), bypass = t.index("master.bypass"), ns = t.index("mic.ns.bypass");
  // Channel 2 is 1 on the wire; channel 1 (0) does not match.
  CHECK(midi::dispatch(map, t.info, t.count, cc(7, 127, 0), target, pairs) == 0);
  CHECK(target.values[gain] == t.info[gain].def);
  CHECK(midi::dispatch(map, t.info, t.count, cc(7, 127, 1), target, pairs) == 1);
  CHECK_NEAR(target.values[gain], 12.0, 1e-5);
  // Note on toggles; its note off does not.
  CHECK(midi::dispatch(map, t.info, t.count, Message{0, Kind::kNoteOn, 9, 60, 100}, target, pairs) == 1);
  CHECK(target.values[bypass] == 1.0f);
  CHECK(midi::dispatch(map, t.info, t.count, Message{0, Kind::kNoteOff, 9, 60, 0}, target, pairs) == 0);
  CHECK(target.values[bypass] == 1.0f);
  CHECK(midi::dispatch(map, t.info, t.count, Message{0, Kind::kNoteOn, 9, 60, 100}, target, pairs) == 1);
  CHECK(target.values[bypass] == 0.0f);
  // A CC switch: pressed at >= 64, released below.
  const float ns0 = target.values[ns];
  midi::dispatch(map, t.info, t.count, cc(64, 127), target, pairs);
  midi::dispatch(map, t.info, t.count, cc(64, 0), target, pairs);
  CHECK(target.values[ns] == (ns0 >= 0.5f ? 0.0f : 1.0f));
  midi::dispatch(map, t.info, t.count, Message{0, Kind::kProgram, 4, 3, 0}, target, pairs);
  CHECK(target.programs.size() == 1 && target.programs[0].first == 4 && target.programs[0].second == 3);
  midi::dispatch(map, t.info, t.count, cc(80, 127, 15), target, pairs);
  midi::dispatch(map, t.info, t.count, cc(80, 127, 14), target, pairs);
  midi::dispatch(map, t.info, t.count, Message{0, Kind::kNoteOn, 0, 61, 1}, target, pairs);
  CHECK(target.actions.size() == 2 && target.actions[0] == MidiAction::kAbToggle &&
        target.actions[1] == MidiAction::kRecord);
}

TEST("midi mappings from the command line: errors name what is wrong") {
  link::MidiMap map{};
  CHECK(!midi::parse_mapping("cc:7", map));
  CHECK(!midi::parse_mapping("cc:128=master.gain", map));
  CHECK(!midi::parse_mapping("cc:7@17=master.gain", map));
  CHECK(!midi::parse_mapping("cc:7=no.such", map));
  CHECK(!midi::parse_mapping("note:1=master.gain", map));
  CHECK(!midi::parse_mapping("cc:1=toggle:master.gain", map));
  CHECK(!midi::parse_mapping("cc:1=preset", map));
  CHECK(!midi::parse_mapping("cc:1=master.gain,wobble", map));
  const Status s = midi::parse_mapping("cc:1=master.gain,min=x", map);
  CHECK(!s && s.message.find("min=x") != std::string::npos);
  CHECK(map.count == 0);
  CHECK(midi::parse_mapping("cc:1@3=master.gain,rel-offset,min=-20,max=0,invert", map));
  CHECK(map.count == 1 && map.mappings[0].channel == 2 && map.mappings[0].mode == MidiMode::kRelativeOffset);
  CHECK(map.mappings[0].min == -20.0f && map.mappings[0].max == 0.0f && map.mappings[0].invert == 1);
}

TEST("midi input: a pipe of raw bytes reaches the audio queue; a full queue drops and counts") {
  char path[] = "/tmp/hushbox-midi-test-XXXXXX";
  CHECK(mkdtemp(path) != nullptr);
  const std::string fifo = std::string(path) + "/in";
  CHECK(mkfifo(fifo.c_str(), 0600) == 0);
  static MidiToAudioQueue queue;
  queue.init();
  static link::MidiCounters counters;
  MidiInput in;
  CHECK(in.start("file:" + fifo, 0, &queue, &counters));
  const int fd = ::open(fifo.c_str(), O_WRONLY);
  CHECK(fd >= 0);
  // 2000 CCs in running status: more than the queue holds, nobody reading it.
  std::vector<uint8_t> bytes{0xB0};
  for (int i = 0; i < 2000; ++i) {
    bytes.push_back(7);
    bytes.push_back(static_cast<uint8_t>(i & 0x7F));
  }
  CHECK(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  for (int i = 0; i < 200 && counters.received.load() < 2000; ++i) usleep(10000);
  in.stop();
  ::close(fd);
  CHECK(counters.received.load() == 2000);
  CHECK(queue.size() == MidiToAudioQueue::capacity());
  CHECK(counters.dropped.load() == 2000 - MidiToAudioQueue::capacity());
  Message m{};
  CHECK(queue.pop(m) && m.kind == Kind::kControl && m.number == 7 && m.value == 0);
  unlink(fifo.c_str());
  rmdir(path);
}

TEST("midi 14-bit pairs: every scale of the table from 0 to 16383, finer than 7 bits") {
  Table t;
  for (uint32_t i = 0; i < t.count; ++i) {
    const link::ParamInfo& p = t.info[i];
    MidiMapping m = cc_map(i, 1);
    m.resolution = 14;
    CHECK(midi::is_14bit(m));
    CHECK_NEAR(midi::control_value_14(p, m, 0), p.min, 1e-4 * (1.0 + std::fabs(p.min)));
    CHECK_NEAR(midi::control_value_14(p, m, 16383), p.max, 1e-3 * (1.0 + std::fabs(p.max)));
    for (int v = 0; v < 16384; v += 701) {
      const float x = midi::control_value_14(p, m, static_cast<uint16_t>(v));
      CHECK(x >= p.min && x <= p.max);
      // The same knob position as 7 bits gives, where 7 bits reach it.
      if (v % 129 == 0)
        CHECK_NEAR(x, midi::control_value(p, cc_map(i, 1), static_cast<uint8_t>(v / 129), 0.0f),
                   1e-4 * (1.0 + std::fabs(p.max)));
      if (p.scale == link::ParamScale::kLinear || p.scale == link::ParamScale::kDecibel ||
          p.scale == link::ParamScale::kLog)
        CHECK_NEAR(midi::value_to_position(p, m, x), v / 16383.0, 2e-4);
    }
  }
  // master.gain, -60..12 dB: 7 bits step by 0.57 dB, 14 bits by 0.0044 dB.
  const uint32_t g = t.index("master.gain");
  MidiMapping m = cc_map(g, 7);
  m.resolution = 14;
  const float a = midi::control_value_14(t.info[g], m, 8192), b = midi::control_value_14(t.info[g], m, 8193);
  CHECK(b > a);
  CHECK_NEAR(b - a, 72.0 / 16383.0, 1e-4);
  // A log parameter (20 Hz .. 20 kHz) by ratio; min/max and inversion as for 7 bits.
  const uint32_t f = t.index("mic.eq.peak1.freq");
  MidiMapping mf = cc_map(f, 7);
  mf.resolution = 14;
  CHECK_NEAR(midi::control_value_14(t.info[f], mf, 8192), 20.0 * std::pow(1000.0, 8192.0 / 16383.0), 0.05);
  m.min = -20.0f;
  m.max = 6.0f;
  m.invert = 1;
  CHECK_NEAR(midi::control_value_14(t.info[g], m, 0), 6.0, 1e-5);
  CHECK_NEAR(midi::control_value_14(t.info[g], m, 16383), -20.0, 1e-5);
}

TEST("midi 14-bit pairs: the MSB sets the high half (LSB 0), the LSB the low half; per channel; alone an LSB waits") {
  Table t;
  MockTarget target(t);
  midi::CcPairs pairs;
  link::MidiMap map{};
  CHECK(midi::parse_mapping("cc:7=master.gain,14bit", map));
  CHECK(midi::parse_mapping("cc:8@2=mic.eq.peak1.freq,14bit", map));
  CHECK(map.mappings[0].resolution == 14 && midi::is_14bit(map.mappings[0]));
  const uint32_t g = t.index("master.gain"), f = t.index("mic.eq.peak1.freq");
  const float g0 = target.values[g];
  const auto at = [&](uint32_t i, uint16_t v) {
    return midi::control_value_14(t.info[i], map.mappings[i == g ? 0 : 1], v);
  };
  // An LSB (CC 39) before any MSB means nothing.
  CHECK(midi::dispatch(map, t.info, t.count, cc(39, 100), target, pairs) == 0);
  CHECK(target.values[g] == g0);
  CHECK(midi::dispatch(map, t.info, t.count, cc(7, 64), target, pairs) == 1);
  CHECK_NEAR(target.values[g], at(g, 64 << 7), 1e-6);
  CHECK(midi::dispatch(map, t.info, t.count, cc(39, 127), target, pairs) == 1);
  CHECK_NEAR(target.values[g], at(g, 64 << 7 | 127), 1e-6);
  // A fine move: only the LSB comes again.
  midi::dispatch(map, t.info, t.count, cc(39, 3), target, pairs);
  CHECK_NEAR(target.values[g], at(g, 64 << 7 | 3), 1e-6);
  // A new MSB sets the LSB to 0 until the LSB comes.
  midi::dispatch(map, t.info, t.count, cc(7, 127), target, pairs);
  CHECK_NEAR(target.values[g], at(g, 127 << 7), 1e-6);
  midi::dispatch(map, t.info, t.count, cc(39, 127), target, pairs);
  CHECK_NEAR(target.values[g], 12.0, 1e-5);
  // Channel 2's pair: an MSB on channel 1 is not its high half.
  midi::dispatch(map, t.info, t.count, cc(8, 100, 0), target, pairs);
  CHECK(midi::dispatch(map, t.info, t.count, cc(40, 5, 1), target, pairs) == 0);
  midi::dispatch(map, t.info, t.count, cc(8, 10, 1), target, pairs);
  midi::dispatch(map, t.info, t.count, cc(40, 5, 1), target, pairs);
  CHECK_NEAR(target.values[f], at(f, 10 << 7 | 5), 1e-3);
  // A 7-bit mapping on the same CC does not listen to CC + 32.
  link::MidiMap seven{};
  CHECK(midi::parse_mapping("cc:7=master.gain", seven));
  CHECK(midi::dispatch(seven, t.info, t.count, cc(39, 1), target, pairs) == 0);
}

TEST("midi 14-bit pairs from the command line: only an absolute knob on cc:0..31 setting a parameter") {
  link::MidiMap map{};
  CHECK(!midi::parse_mapping("cc:32=master.gain,14bit", map));
  CHECK(!midi::parse_mapping("cc:7=master.gain,rel-twos,14bit", map));
  CHECK(!midi::parse_mapping("cc:7=toggle:master.bypass,14bit", map));
  CHECK(!midi::parse_mapping("note:7=toggle:master.bypass,14bit", map));
  CHECK(map.count == 0);
  CHECK(midi::parse_mapping("cc:31@16=master.gain,14bit,invert", map));
  CHECK(map.count == 1 && map.mappings[0].resolution == 14 && map.mappings[0].number == 31);
  // Left at 7 bits (resolution 0 or 7), a mapping is not a pair whatever its number.
  MidiMapping m = map.mappings[0];
  m.resolution = 7;
  CHECK(!midi::is_14bit(m));
}
