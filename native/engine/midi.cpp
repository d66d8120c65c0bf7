#include "midi.h"

#include <cstdlib>

#include "../dsp/params.h"

namespace hushbox::midi {

uint8_t status_byte(const Message& m) noexcept {
  switch (m.kind) {
    case Kind::kControl: return static_cast<uint8_t>(0xB0 | m.channel);
    case Kind::kNoteOn: return static_cast<uint8_t>(0x90 | m.channel);
    case Kind::kNoteOff: return static_cast<uint8_t>(0x80 | m.channel);
    case Kind::kProgram: return static_cast<uint8_t>(0xC0 | m.channel);
    case Kind::kNone: break;
  }
  return 0;
}

void Parser::reset() noexcept {
  status_ = 0;
  have_ = 0;
  need_ = 0;
  sysex_ = false;
}

bool Parser::feed(uint8_t b, Message& out) noexcept {
  if (b >= 0xF8) {  // real-time: may come anywhere, even inside a message; changes nothing
    ++ignored_;
    return false;
  }
  if (b == 0xF0) {
    sysex_ = true;
    status_ = 0;
    have_ = 0;
    ++ignored_;
    return false;
  }
  if (b == 0xF7) {
    sysex_ = false;
    return false;
  }
  if (b >= 0x80) {
    sysex_ = false;  // any status byte ends a SysEx, even one whose F7 was lost
    have_ = 0;
    status_ = b;
    switch (b & 0xF0) {
      case 0xC0:
      case 0xD0: need_ = 1; break;
      case 0xF0:  // system common: F1 and F3 take one byte, F2 two, the rest none; never running
        need_ = b == 0xF2 ? 2 : (b == 0xF1 || b == 0xF3) ? 1 : 0;
        if (need_ == 0) {
          status_ = 0;
          ++ignored_;
        }
        break;
      default: need_ = 2; break;
    }
    return false;
  }
  // A data byte.
  if (sysex_ || status_ == 0) {
    if (!sysex_) ++ignored_;  // a stray: no status to run on
    return false;
  }
  data_[have_++] = b;
  if (have_ < need_) return false;
  have_ = 0;
  const uint8_t type = status_ & 0xF0;
  const uint8_t channel = status_ & 0x0F;
  if (status_ >= 0xF0) {
    status_ = 0;  // system common does not run
    ++ignored_;
    return false;
  }
  out.channel = channel;
  out.number = data_[0];
  out.value = need_ == 2 ? data_[1] : 0;
  switch (type) {
    case 0xB0: out.kind = Kind::kControl; return true;
    case 0x90: out.kind = out.value ? Kind::kNoteOn : Kind::kNoteOff; return true;
    case 0x80: out.kind = Kind::kNoteOff; return true;
    case 0xC0: out.kind = Kind::kProgram; return true;
    default: ++ignored_; return false;  // pitch bend, pressure
  }
}

int relative_steps(link::MidiMode mode, uint8_t v) noexcept {
  v &= 0x7F;
  switch (mode) {
    case link::MidiMode::kRelativeTwos: return v < 64 ? v : static_cast<int>(v) - 128;
    case link::MidiMode::kRelativeOffset: return static_cast<int>(v) - 64;
    case link::MidiMode::kRelativeSigned: return (v & 0x40) ? -static_cast<int>(v & 0x3F) : static_cast<int>(v & 0x3F);
    case link::MidiMode::kAbsolute: break;
  }
  return 0;
}

void mapping_range(const link::ParamInfo& p, const link::MidiMapping& m, float& lo, float& hi) noexcept {
  lo = p.min;
  hi = p.max;
  if (!std::isnan(m.min) && m.min > lo && m.min <= hi) lo = m.min;
  if (!std::isnan(m.max) && m.max < hi && m.max >= lo) hi = m.max;
}

namespace {
float clampf(float v, float lo, float hi) noexcept { return v < lo ? lo : v > hi ? hi : v; }
// An enum's step (the high-pass slope goes 12, 24, 36, 48), from the table.
float enum_step(const link::MidiMapping& m) noexcept {
  const auto table = dsp::param_table();
  const float step = m.index < table.size() ? table[m.index].step : 0.0f;
  return step > 0.0f ? step : 1.0f;
}
}  // namespace

float position_to_value(const link::ParamInfo& p, const link::MidiMapping& m, float x) noexcept {
  float lo, hi;
  mapping_range(p, m, lo, hi);
  x = clampf(x, 0.0f, 1.0f);
  if (m.invert) x = 1.0f - x;
  switch (p.scale) {
    case link::ParamScale::kBool: return x >= 0.5f ? 1.0f : 0.0f;
    case link::ParamScale::kEnum: {
      const float step = enum_step(m);
      return clampf(lo + std::round(x * (hi - lo) / step) * step, lo, hi);
    }
    case link::ParamScale::kLog:
      if (lo > 0.0f && hi > lo) return clampf(lo * std::pow(hi / lo, x), lo, hi);
      break;
    case link::ParamScale::kLinear:
    case link::ParamScale::kDecibel: break;  // dB values are already a log taper of gain
  }
  return clampf(lo + x * (hi - lo), lo, hi);
}

float value_to_position(const link::ParamInfo& p, const link::MidiMapping& m, float v) noexcept {
  float lo, hi;
  mapping_range(p, m, lo, hi);
  if (hi <= lo) return 0.0f;
  v = clampf(v, lo, hi);
  float x;
  if (p.scale == link::ParamScale::kLog && lo > 0.0f)
    x = std::log(v / lo) / std::log(hi / lo);
  else
    x = (v - lo) / (hi - lo);
  x = clampf(x, 0.0f, 1.0f);
  return m.invert ? 1.0f - x : x;
}

float control_value(const link::ParamInfo& p, const link::MidiMapping& m, uint8_t cc, float current) noexcept {
  cc &= 0x7F;
  if (m.mode == link::MidiMode::kAbsolute) return position_to_value(p, m, static_cast<float>(cc) / 127.0f);
  int steps = relative_steps(m.mode, cc);
  if (m.invert) steps = -steps;
  float lo, hi;
  mapping_range(p, m, lo, hi);
  if (p.scale == link::ParamScale::kBool) return steps > 0 ? 1.0f : steps < 0 ? 0.0f : current;
  if (p.scale == link::ParamScale::kEnum) {
    const float step = enum_step(m);
    return clampf(lo + std::round((current - lo) / step + static_cast<float>(steps)) * step, lo, hi);
  }
  // One step is 1/127 of the knob's travel, as an absolute knob's smallest move.
  // value_to_position/position_to_value apply the inversion; undo it around the step.
  link::MidiMapping plain = m;
  plain.invert = 0;
  const float x = value_to_position(p, plain, current) + static_cast<float>(steps) / 127.0f;
  return position_to_value(p, plain, x);
}

uint8_t CcPairs::note(const Message& msg) noexcept {
  if (msg.kind != Kind::kControl || msg.number >= 64 || msg.channel > 15) return kNoMsb;
  uint8_t& slot = msb[msg.channel][msg.number & 31];
  if (msg.number < 32) slot = msg.value & 0x7F;
  return slot;
}

float control_value_14(const link::ParamInfo& p, const link::MidiMapping& m, uint16_t value) noexcept {
  return position_to_value(p, m, static_cast<float>(value & 0x3FFF) / 16383.0f);
}

bool matches(const link::MidiMapping& m, const Message& msg) noexcept {
  if (m.channel != link::kMidiOmni && m.channel != msg.channel) return false;
  switch (m.source) {
    case link::MidiSource::kControlChange:
      return msg.kind == Kind::kControl && (msg.number == m.number || (is_14bit(m) && msg.number == m.number + 32));
    case link::MidiSource::kNote:
      return (msg.kind == Kind::kNoteOn || msg.kind == Kind::kNoteOff) && msg.number == m.number;
    case link::MidiSource::kProgramChange: return msg.kind == Kind::kProgram;
  }
  return false;
}

namespace {
bool parse_number(const std::string& text, long lo, long hi, long& out) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < lo || v > hi) return false;
  out = v;
  return true;
}
}  // namespace

Status parse_mapping(const std::string& text, link::MidiMap& map) {
  const auto bad = [&](const std::string& why) { return Status::error("--midi-map '" + text + "': " + why); };
  if (map.count >= link::kMaxMidiMappings)
    return bad("more than " + std::to_string(link::kMaxMidiMappings) + " mappings");
  const size_t eq = text.find('=');
  if (eq == std::string::npos) return bad("expected SOURCE=TARGET");
  std::string src = text.substr(0, eq);
  std::string rest = text.substr(eq + 1);
  std::string target = rest.substr(0, rest.find(','));
  link::MidiMapping m{};
  m.channel = link::kMidiOmni;
  m.min = m.max = NAN;
  const size_t at = src.find('@');
  if (at != std::string::npos) {
    long ch;
    if (!parse_number(src.substr(at + 1), 1, 16, ch)) return bad("the channel is 1..16");
    m.channel = static_cast<uint8_t>(ch - 1);
    src = src.substr(0, at);
  }
  long number = 0;
  if (src == "pc") {
    m.source = link::MidiSource::kProgramChange;
  } else if (src.rfind("cc:", 0) == 0 && parse_number(src.substr(3), 0, 127, number)) {
    m.source = link::MidiSource::kControlChange;
  } else if (src.rfind("note:", 0) == 0 && parse_number(src.substr(5), 0, 127, number)) {
    m.source = link::MidiSource::kNote;
  } else {
    return bad("the source is cc:0..127, note:0..127 or pc");
  }
  m.number = static_cast<uint8_t>(number);
  if (target == "preset") {
    if (m.source != link::MidiSource::kProgramChange) return bad("only a Program Change (pc) recalls a preset");
    m.action = link::MidiAction::kPreset;
  } else if (target == "ab" || target == "record") {
    m.action = target == "ab" ? link::MidiAction::kAbToggle : link::MidiAction::kRecord;
  } else {
    const bool toggle = target.rfind("toggle:", 0) == 0;
    const std::string id = toggle ? target.substr(7) : target;
    const int index = dsp::find_param(id);
    if (index < 0) return bad("unknown parameter '" + id + "'");
    m.index = static_cast<uint32_t>(index);
    m.action = toggle ? link::MidiAction::kToggle : link::MidiAction::kParam;
    if (!toggle && m.source != link::MidiSource::kControlChange)
      return bad("a parameter follows a CC; a note can toggle:ID");
    if (toggle && dsp::param_table()[static_cast<size_t>(index)].scale != dsp::Scale::kBool)
      return bad("toggle: needs an on/off parameter; '" + id + "' is not one");
  }
  size_t pos = rest.find(',');
  while (pos != std::string::npos) {
    const size_t next = rest.find(',', pos + 1);
    const std::string opt = rest.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
    pos = next;
    if (opt == "rel-twos")
      m.mode = link::MidiMode::kRelativeTwos;
    else if (opt == "rel-offset")
      m.mode = link::MidiMode::kRelativeOffset;
    else if (opt == "rel-signed")
      m.mode = link::MidiMode::kRelativeSigned;
    else if (opt == "invert")
      m.invert = 1;
    else if (opt == "14bit")
      m.resolution = 14;
    else if (opt.rfind("min=", 0) == 0 || opt.rfind("max=", 0) == 0) {
      char* end = nullptr;
      const float v = std::strtof(opt.c_str() + 4, &end);
      if (opt.size() == 4 || *end != '\0') return bad("'" + opt + "' needs a number");
      (opt[1] == 'i' ? m.min : m.max) = v;
    } else {
      return bad("unknown option '" + opt + "' (rel-twos, rel-offset, rel-signed, min=X, max=X, invert, 14bit)");
    }
  }
  if (m.resolution == 14 && !is_14bit(m))
    return bad("14bit is for an absolute knob on cc:0..31 setting a parameter (its LSB comes on CC number + 32)");
  map.mappings[map.count++] = m;
  return Status::success();
}

}  // namespace hushbox::midi
