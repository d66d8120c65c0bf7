// MIDI in the engine: bytes or sequencer events become fixed-size messages
// (no allocation), and the mapping table turns them into parameter values on
// the audio thread. Plain code with no ALSA in it, so the host tests drive it.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "link.h"
#include "status.h"

namespace hushbox::midi {

enum class Kind : uint8_t { kNone = 0, kControl = 1, kNoteOn = 2, kNoteOff = 3, kProgram = 4 };

// One channel message, as the MIDI thread hands it to the audio thread.
struct Message {
  int64_t time_ns;  // CLOCK_MONOTONIC when the MIDI thread read it
  Kind kind;
  uint8_t channel;  // 0..15
  uint8_t number;   // CC number, note, or program
  uint8_t value;    // CC value or velocity (program: 0)
};
static_assert(std::is_trivially_copyable_v<Message>);

// [any] The status byte (with channel) a message came as, for the activity view.
uint8_t status_byte(const Message& m) noexcept;

// Raw MIDI bytes (a rawmidi device, a pipe) -> messages. Running status,
// real-time bytes between data bytes, SysEx of any length (skipped without
// storing it), system common messages and stray data bytes are all handled;
// nothing is buffered beyond one message's two data bytes.
class Parser {
 public:
  // [midi] One byte in; true when it completed a channel message we use (out filled).
  bool feed(uint8_t byte, Message& out) noexcept;
  // [midi] Forget a half-received message (the device went away mid-message).
  void reset() noexcept;
  // [any] Bytes or messages skipped: SysEx, real-time, system common, pitch bend, pressure, strays.
  uint64_t ignored() const noexcept { return ignored_; }

 private:
  uint8_t status_ = 0;  // running status; 0: none
  uint8_t data_[2] = {0, 0};
  uint8_t have_ = 0;
  uint8_t need_ = 0;
  bool sysex_ = false;
  uint64_t ignored_ = 0;
};

// [any] An encoder's relative value as a signed step count (0: not a step).
int relative_steps(link::MidiMode mode, uint8_t value) noexcept;

// [any] The range a mapping spans: its own min/max inside the parameter's, or the parameter's.
void mapping_range(const link::ParamInfo& p, const link::MidiMapping& m, float& lo, float& hi) noexcept;

// [any] A knob position 0..1 -> the parameter's value (log scale where the table says log;
// on/off at the middle; enums rounded), inside the mapping's range.
float position_to_value(const link::ParamInfo& p, const link::MidiMapping& m, float position) noexcept;

// [any] The inverse: where a value sits on the knob, 0..1.
float value_to_position(const link::ParamInfo& p, const link::MidiMapping& m, float value) noexcept;

// [any] The value a CC sets through mapping m, given the parameter's current value.
float control_value(const link::ParamInfo& p, const link::MidiMapping& m, uint8_t cc_value, float current) noexcept;

// 14-bit CC pairs: CC 0..31 carries the high 7 bits (MSB), CC 32..63 the low
// 7 bits (LSB) of the same control. As the MIDI spec says, an MSB alone sets
// the LSB to 0, and an LSB alone adds to the last MSB (a fine move sends only
// the LSB); an LSB before any MSB means nothing.
inline constexpr uint8_t kNoMsb = 0xFF;
struct CcPairs {
  uint8_t msb[16][32];  // the last MSB per channel and controller, kNoMsb: none yet
  CcPairs() noexcept { reset(); }
  // [audio]
  void reset() noexcept { std::memset(msb, kNoMsb, sizeof msb); }
  // [audio] Note a CC 0..31 as an MSB; the MSB a CC 0..63 belongs with (kNoMsb: none, or not a pair's CC).
  uint8_t note(const Message& msg) noexcept;
};

// [any] Whether a mapping reads a 14-bit pair: asked for (resolution 14) on an absolute CC 0..31 -> parameter.
inline bool is_14bit(const link::MidiMapping& m) noexcept {
  return m.resolution == 14 && m.source == link::MidiSource::kControlChange && m.action == link::MidiAction::kParam &&
         m.mode == link::MidiMode::kAbsolute && m.number < 32;
}

// [any] The value a 14-bit pair's 0..16383 sets through mapping m (scaled as control_value scales 7 bits).
float control_value_14(const link::ParamInfo& p, const link::MidiMapping& m, uint16_t value) noexcept;

// [any] Whether a message matches a mapping's source, channel and number (a 14-bit pair: either CC).
bool matches(const link::MidiMapping& m, const Message& msg) noexcept;

// [any] Whether a message is a switch press (Note on, or CC >= 64).
inline bool is_press(const Message& msg) noexcept {
  return (msg.kind == Kind::kNoteOn && msg.value > 0) || (msg.kind == Kind::kControl && msg.value >= 64);
}

// Applies messages to whatever the audio thread owns. Target provides:
//   float param(uint32_t index);             the value now
//   void set_param(uint32_t index, float v); set it (smoothed by the chain)
//   void program(uint8_t channel, uint8_t program);
//   void action(link::MidiAction a);
// pairs: the 14-bit pairs' MSBs, kept from message to message by the caller.
// Returns how many mappings the message matched.
template <typename Target>
uint32_t dispatch(const link::MidiMap& map, const link::ParamInfo* params, uint32_t param_count, const Message& msg,
                  Target& target, CcPairs& pairs) noexcept {
  uint32_t matched = 0;
  const uint8_t msb = pairs.note(msg);
  const uint32_t n = map.count < link::kMaxMidiMappings ? map.count : link::kMaxMidiMappings;
  for (uint32_t i = 0; i < n; ++i) {
    const link::MidiMapping& m = map.mappings[i];
    if (!matches(m, msg)) continue;
    switch (m.action) {
      case link::MidiAction::kParam:
        if (m.index < param_count && msg.kind == Kind::kControl) {
          if (!is_14bit(m)) {
            target.set_param(m.index, control_value(params[m.index], m, msg.value, target.param(m.index)));
          } else if (msb != kNoMsb) {
            const uint16_t v = msg.number == m.number ? msb << 7 : (msb << 7 | msg.value);
            target.set_param(m.index, control_value_14(params[m.index], m, v));
          } else {
            break;  // the low half of a pair whose high half has not come yet
          }
          ++matched;
        }
        break;
      case link::MidiAction::kToggle:
        if (m.index < param_count && is_press(msg)) {
          target.set_param(m.index, target.param(m.index) >= 0.5f ? 0.0f : 1.0f);
          ++matched;
        }
        break;
      case link::MidiAction::kPreset:
        if (msg.kind == Kind::kProgram) {
          target.program(msg.channel, msg.number);
          ++matched;
        }
        break;
      case link::MidiAction::kAbToggle:
      case link::MidiAction::kRecord:
        if (is_press(msg)) {
          target.action(m.action);
          ++matched;
        }
        break;
    }
  }
  return matched;
}

// [control] One mapping from the command line (--midi-map), appended to map:
//   SOURCE=TARGET[,OPTION...]
//   SOURCE: cc:N[@CH] | note:N[@CH] | pc[@CH]           (CH 1..16; none: omni)
//   TARGET: PARAM_ID | toggle:PARAM_ID | preset | ab | record
//   OPTION: rel-twos | rel-offset | rel-signed | min=X | max=X | invert | 14bit (cc:0..31, absolute)
Status parse_mapping(const std::string& text, link::MidiMap& map);

}  // namespace hushbox::midi
