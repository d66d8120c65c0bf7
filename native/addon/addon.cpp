// The hushbox addon: the only N-API code. It maps the engine link and gives
// the supervisor the few system calls Node cannot make.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "../engine/link.h"
#include "../engine/rt.h"
#include "../engine/shm.h"
#include "system.h"

namespace {

using hushbox::SharedSegment;
namespace link = hushbox::link;

Napi::Error coded_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

const char* state_name(uint32_t s) { return link::state_name(static_cast<link::EngineState>(s)); }

const char* scale_name(link::ParamScale s) {
  switch (s) {
    case link::ParamScale::kLinear: return "linear";
    case link::ParamScale::kDecibel: return "db";
    case link::ParamScale::kLog: return "log";
    case link::ParamScale::kBool: return "bool";
    case link::ParamScale::kEnum: return "enum";
  }
  return "linear";
}

class EngineLink : public Napi::ObjectWrap<EngineLink> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "EngineLink",
                       {
                           InstanceMethod("close", &EngineLink::Close),
                           InstanceMethod("setParams", &EngineLink::SetParams),
                           InstanceMethod("resetMeters", &EngineLink::ResetMeters),
                           InstanceMethod("telemetry", &EngineLink::Telemetry),
                           InstanceMethod("heartbeats", &EngineLink::Heartbeats),
                           InstanceMethod("params", &EngineLink::Params),
                           InstanceMethod("events", &EngineLink::Events),
                           InstanceMethod("state", &EngineLink::State),
                           InstanceMethod("setMidiMap", &EngineLink::SetMidiMap),
                           InstanceMethod("midiCounters", &EngineLink::MidiCounters),
                           InstanceMethod("tap", &EngineLink::Tap),
                           InstanceMethod("setTapSource", &EngineLink::SetTapSource),
                           InstanceMethod("recording", &EngineLink::Recording),
                           InstanceMethod("recordStart", &EngineLink::RecordStart),
                           InstanceMethod("recordStop", &EngineLink::RecordStop),
                           InstanceMethod("spectrum", &EngineLink::Spectrum),
                           InstanceAccessor("enginePid", &EngineLink::EnginePid, nullptr),
                       });
  }

  // new EngineLink(name): maps /dev/shm/<name> and checks magic, version and size.
  explicit EngineLink(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineLink>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString())
      throw coded_error(env, "ERR_INVALID_ARG", "link name must be a string");
    const std::string name = info[0].As<Napi::String>();
    hushbox::Status s = shm_.open(name, sizeof(uint32_t) * 3);
    if (!s) throw coded_error(env, "ELINK_OPEN", s.message);
    const auto* header = static_cast<const uint32_t*>(shm_.data());
    if (header[0] != link::kMagic) {
      shm_.close();
      throw coded_error(env, "ELINK_MAGIC", "link " + name + " is not a hushbox engine link (bad magic)");
    }
    if (header[1] != link::kVersion || header[2] != sizeof(link::Segment) || shm_.size() < sizeof(link::Segment)) {
      const std::string got = std::to_string(header[1]);
      shm_.close();
      throw coded_error(env, "ELINK_VERSION",
                        "link " + name + " has layout version " + got + ", this addon speaks version " +
                            std::to_string(link::kVersion) + " (rebuild the engine and the addon together)");
    }
    seg_ = static_cast<link::Segment*>(shm_.data());
  }

 private:
  link::Segment* live(Napi::Env env) {
    if (!seg_) throw coded_error(env, "ELINK_CLOSED", "the engine link is closed");
    return seg_;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    seg_ = nullptr;
    shm_.close();
    return info.Env().Undefined();
  }

  // setParams([[index, value], ...], seq): one batch, applied at one block boundary.
  Napi::Value SetParams(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    link::Segment* seg = live(env);
    if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsNumber())
      throw coded_error(env, "ERR_INVALID_ARG", "setParams(entries, seq)");
    Napi::Array entries = info[0].As<Napi::Array>();
    const uint32_t seq = info[1].As<Napi::Number>().Uint32Value();
    const uint32_t n = entries.Length();
    if (n == 0 || n > link::SupervisorToAudioQueue::capacity())
      throw coded_error(env, "ERR_INVALID_ARG",
                        "a batch holds 1.." + std::to_string(link::SupervisorToAudioQueue::capacity()) + " parameters");
    std::unique_ptr<link::Command[]> cmds(new link::Command[n]);
    for (uint32_t i = 0; i < n; ++i) {
      Napi::Value e = entries.Get(i);
      if (!e.IsArray()) throw coded_error(env, "ERR_INVALID_ARG", "each entry is [index, value]");
      Napi::Array pair = e.As<Napi::Array>();
      const uint32_t index = pair.Get(0u).As<Napi::Number>().Uint32Value();
      if (index >= seg->param_count)
        throw coded_error(env, "ERR_INVALID_ARG", "parameter index " + std::to_string(index) + " out of range");
      cmds[i] = link::Command{link::CommandType::kSetParam, seq, index, pair.Get(1u).As<Napi::Number>().FloatValue()};
    }
    return Napi::Boolean::New(env, seg->commands.push_batch(cmds.get(), n));
  }

  Napi::Value ResetMeters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t seq = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 0;
    link::Command c{link::CommandType::kResetMeters, seq, 0, 0.0f};
    return Napi::Boolean::New(env, live(env)->commands.push(c));
  }

  Napi::Value Telemetry(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    link::Telemetry t;
    if (!live(env)->telemetry.load(t)) return env.Null();
    Napi::Object o = Napi::Object::New(env);
    o.Set("state", state_name(static_cast<uint32_t>(t.state)));
    o.Set("rate", t.rate);
    o.Set("frames", t.frames);
    o.Set("periods", t.periods);
    o.Set("channels", t.channels);
    o.Set("latencyFrames", t.latency_frames);
    o.Set("appliedSeq", t.applied_seq);
    o.Set("realtime", t.realtime != 0);
    o.Set("periodsProcessed", static_cast<double>(t.periods_processed));
    o.Set("xruns", static_cast<double>(t.xruns));
    o.Set("missedDeadlines", static_cast<double>(t.missed_deadlines));
    o.Set("timeNs", static_cast<double>(t.time_ns));
    o.Set("dspLoad", t.dsp_load);
    o.Set("dspLoadMean", t.dsp_load_mean);
    o.Set("dspLoadMax", t.dsp_load_max);
    o.Set("jitterUs", t.jitter_us);
    o.Set("jitterMaxUs", t.jitter_max_us);
    o.Set("lastXrunNs", static_cast<double>(t.last_xrun_ns));
    o.Set("deviceWaits", t.device_waits);
    Napi::Array hist = Napi::Array::New(env, link::kJitterBins);
    for (uint32_t i = 0; i < link::kJitterBins; ++i) hist.Set(i, t.jitter_hist[i]);
    o.Set("jitterHistogram", hist);
    const uint32_t ch = t.channels < link::kMaxChannels ? t.channels : link::kMaxChannels;
    auto arr = [&](const float* v) {
      Napi::Array a = Napi::Array::New(env, ch);
      for (uint32_t i = 0; i < ch; ++i) a.Set(i, v[i]);
      return a;
    };
    o.Set("peakIn", arr(t.peak_in));
    o.Set("rmsIn", arr(t.rms_in));
    o.Set("peakOut", arr(t.peak_out));
    o.Set("rmsOut", arr(t.rms_out));
    Napi::Array strips = Napi::Array::New(env, ch);
    for (uint32_t i = 0; i < ch; ++i) {
      Napi::Object m = Napi::Object::New(env);
      m.Set("nsDb", t.reduction_ns_db[i]);
      m.Set("gateDb", t.reduction_gate_db[i]);
      m.Set("compDb", t.reduction_comp_db[i]);
      m.Set("limitDb", t.reduction_limit_db[i]);
      m.Set("humHz", t.hum_hz[i]);
      const uint32_t tones = std::min(t.tone_count[i], hushbox::link::Telemetry::kMaxTones);
      Napi::Array hz = Napi::Array::New(env, tones);
      for (uint32_t k = 0; k < tones; ++k) hz.Set(k, t.tones_hz[i][k]);
      m.Set("tonesHz", hz);
      strips.Set(i, m);
    }
    o.Set("strips", strips);
    Napi::Object master = Napi::Object::New(env);
    master.Set("limitDb", t.reduction_master_limit_db);
    o.Set("master", master);
    Napi::Object clock = Napi::Object::New(env);
    clock.Set("driftPpm", t.drift_ppm);
    clock.Set("capturePpm", t.capture_ppm);
    clock.Set("playbackPpm", t.playback_ppm);
    clock.Set("fillFrames", t.buffer_fill_frames);
    clock.Set("targetFrames", t.buffer_target_frames);
    clock.Set("resamplePpm", t.resample_ppm);
    clock.Set("twoClocks", t.two_clocks != 0);
    clock.Set("corrected", t.drift_corrected != 0);
    o.Set("clock", clock);
    return o;
  }

  Napi::Value Heartbeats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    link::Segment* seg = live(env);
    auto beat = [&](const link::Heartbeat& h) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("count", static_cast<double>(h.count.load(std::memory_order_relaxed)));
      o.Set("timeNs", static_cast<double>(h.time_ns.load(std::memory_order_acquire)));
      return o;
    };
    Napi::Object o = Napi::Object::New(env);
    o.Set("audio", beat(seg->audio_heartbeat));
    o.Set("housekeeping", beat(seg->housekeeping_heartbeat));
    o.Set("nowNs", static_cast<double>(hushbox::now_ns()));
    return o;
  }

  Napi::Value Params(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    link::Segment* seg = live(env);
    const uint32_t n = seg->param_count < link::kMaxParams ? seg->param_count : link::kMaxParams;
    Napi::Array a = Napi::Array::New(env, n);
    for (uint32_t i = 0; i < n; ++i) {
      const link::ParamInfo& p = seg->params[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("index", i);
      o.Set("id", std::string(p.id, strnlen(p.id, sizeof p.id)));
      o.Set("name", std::string(p.name, strnlen(p.name, sizeof p.name)));
      o.Set("unit", std::string(p.unit, strnlen(p.unit, sizeof p.unit)));
      o.Set("scale", scale_name(p.scale));
      o.Set("min", p.min);
      o.Set("max", p.max);
      o.Set("default", p.def);
      o.Set("value", seg->param_values[i].load(std::memory_order_relaxed));
      a.Set(i, o);
    }
    return a;
  }

  Napi::Value Events(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    link::Segment* seg = live(env);
    Napi::Array a = Napi::Array::New(env);
    link::Event e;
    uint32_t i = 0;
    static const char* kTypes[] = {"",     "applied",    "xrun",         "device_error", "state",
                                   "midi", "midi_param", "midi_program", "midi_action"};
    while (i < 4096 && seg->events.pop(e)) {
      Napi::Object o = Napi::Object::New(env);
      const auto t = static_cast<uint32_t>(e.type);
      o.Set("type", t < 9 ? kTypes[t] : "unknown");
      o.Set("seq", e.seq);
      o.Set("code", e.code);
      o.Set("value", e.value);
      o.Set("timeNs", static_cast<double>(e.time_ns));
      if (e.type == link::EventType::kState) o.Set("state", state_name(static_cast<uint32_t>(e.code)));
      a.Set(i++, o);
    }
    return a;
  }

  // setMidiMap([{source, channel, number, mode, action, index, min, max, invert, resolution}, ...]):
  // the whole table at once; the audio thread takes it at its next period.
  Napi::Value SetMidiMap(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    link::Segment* seg = live(env);
    if (info.Length() < 1 || !info[0].IsArray()) throw coded_error(env, "ERR_INVALID_ARG", "setMidiMap(mappings)");
    Napi::Array list = info[0].As<Napi::Array>();
    if (list.Length() > link::kMaxMidiMappings)
      throw coded_error(env, "ERR_INVALID_ARG", "at most " + std::to_string(link::kMaxMidiMappings) + " MIDI mappings");
    auto map = std::make_unique<link::MidiMap>();
    *map = link::MidiMap{};
    auto num = [&](Napi::Object o, const char* key, double lo, double hi) {
      Napi::Value v = o.Get(key);
      if (!v.IsNumber())
        throw coded_error(env, "ERR_INVALID_ARG", std::string("MIDI mapping: ") + key + " must be a number");
      const double d = v.As<Napi::Number>().DoubleValue();
      if (!(d >= lo && d <= hi))
        throw coded_error(env, "ERR_INVALID_ARG", std::string("MIDI mapping: ") + key + " out of range");
      return d;
    };
    for (uint32_t i = 0; i < list.Length(); ++i) {
      if (!list.Get(i).IsObject()) throw coded_error(env, "ERR_INVALID_ARG", "each MIDI mapping is an object");
      Napi::Object o = list.Get(i).As<Napi::Object>();
      link::MidiMapping& m = map->mappings[i];
      m.source = static_cast<link::MidiSource>(num(o, "source", 1, 3));
      m.channel = static_cast<uint8_t>(num(o, "channel", 0, 255));
      m.number = static_cast<uint8_t>(num(o, "number", 0, 127));
      m.mode = static_cast<link::MidiMode>(num(o, "mode", 0, 3));
      m.action = static_cast<link::MidiAction>(num(o, "action", 1, 5));
      m.invert = o.Get("invert").ToBoolean() ? 1 : 0;
      if (!o.Get("resolution").IsUndefined()) {
        const double r = num(o, "resolution", 7, 14);
        if (r != 7 && r != 14) throw coded_error(env, "ERR_INVALID_ARG", "MIDI mapping: resolution is 7 or 14");
        m.resolution = static_cast<uint8_t>(r);
      }
      m.index = static_cast<uint32_t>(num(o, "index", 0, seg->param_count ? seg->param_count - 1 : 0));
      Napi::Value mn = o.Get("min"), mx = o.Get("max");
      m.min = mn.IsNumber() ? mn.As<Napi::Number>().FloatValue() : NAN;
      m.max = mx.IsNumber() ? mx.As<Napi::Number>().FloatValue() : NAN;
    }
    map->count = list.Length();
    seg->midi_map.store(*map);
    return env.Undefined();
  }

  Napi::Value MidiCounters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const link::MidiCounters& c = live(env)->midi;
    Napi::Object o = Napi::Object::New(env);
    o.Set("received", static_cast<double>(c.received.load(std::memory_order_relaxed)));
    o.Set("dropped", static_cast<double>(c.dropped.load(std::memory_order_relaxed)));
    o.Set("overruns", static_cast<double>(c.overruns.load(std::memory_order_relaxed)));
    o.Set("ignored", static_cast<double>(c.ignored.load(std::memory_order_relaxed)));
    o.Set("applied", static_cast<double>(c.applied.load(std::memory_order_relaxed)));
    o.Set("ports", c.ports.load(std::memory_order_relaxed));
    return o;
  }

  // tap(): the audio stream's counters and clients, as the tap thread published them.
  Napi::Value Tap(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    link::TapTelemetry t;
    if (!live(env)->tap.load(t)) return env.Null();
    Napi::Object o = Napi::Object::New(env);
    o.Set("source", link::tap_source_name(static_cast<link::TapSource>(t.source)));
    o.Set("unix", (t.listening & 1u) != 0);
    o.Set("tcp", (t.listening & 2u) != 0);
    o.Set("ringDroppedFrames", static_cast<double>(t.ring_dropped_frames));
    o.Set("clientsAccepted", static_cast<double>(t.clients_accepted));
    o.Set("clientsDroppedStuck", static_cast<double>(t.clients_dropped_stuck));
    o.Set("clientsRefused", static_cast<double>(t.clients_refused));
    Napi::Array clients = Napi::Array::New(env);
    uint32_t n = 0;
    for (const link::TapClient& c : t.clients) {
      if (c.id == 0) continue;
      Napi::Object k = Napi::Object::New(env);
      k.Set("id", c.id);
      k.Set("transport", c.transport == 1 ? "tcp" : "unix");
      k.Set("rate", c.rate);
      k.Set("format", c.width == 4 ? "f32" : "s16le");
      k.Set("connectedNs", static_cast<double>(c.connected_ns));
      k.Set("sentFrames", static_cast<double>(c.sent_frames));
      k.Set("droppedFrames", static_cast<double>(c.dropped_frames));
      k.Set("queuedMs", c.queued_ms);
      clients.Set(n++, k);
    }
    o.Set("clients", clients);
    return o;
  }

  // setTapSource("mic_raw" | "mic" | "mix", seq)
  Napi::Value SetTapSource(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const std::string name = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    uint32_t source = 0;
    if (name == "mic_raw")
      source = static_cast<uint32_t>(link::TapSource::kMicRaw);
    else if (name == "mic")
      source = static_cast<uint32_t>(link::TapSource::kMic);
    else if (name == "mix")
      source = static_cast<uint32_t>(link::TapSource::kMix);
    else
      throw coded_error(env, "ERR_INVALID_ARG", "tap source must be mic_raw, mic or mix");
    const uint32_t seq = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
    link::Command c{link::CommandType::kSetTapSource, seq, source, 0.0f};
    return Napi::Boolean::New(env, live(env)->commands.push(c));
  }

  Napi::Value Recording(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    link::RecordTelemetry t;
    if (!live(env)->recording.load(t)) return env.Null();
    static const char* kStates[] = {"idle", "recording", "stopped", "failed"};
    static const char* kReasons[] = {"", "requested", "disk_full", "engine_stop", "write_error", "open_error"};
    static const char* kSources[] = {"mic_raw", "mic", "mix", "all"};
    Napi::Object o = Napi::Object::New(env);
    const auto st = static_cast<uint32_t>(t.state), re = static_cast<uint32_t>(t.reason);
    o.Set("state", st < 4 ? kStates[st] : "unknown");
    o.Set("reason", re == 0 || re > 5 ? env.Null() : Napi::String::New(env, kReasons[re]));
    o.Set("seq", t.seq);
    o.Set("source", static_cast<uint32_t>(t.source) < 4 ? kSources[static_cast<uint32_t>(t.source)] : "unknown");
    o.Set("format", t.format == link::RecordFormat::kFlac ? "flac" : "wav");
    o.Set("channels", t.channels);
    o.Set("rate", t.rate);
    o.Set("error", t.error);
    o.Set("framesWritten", static_cast<double>(t.frames_written));
    o.Set("gaps", static_cast<double>(t.gaps));
    o.Set("gapFrames", static_cast<double>(t.gap_frames));
    o.Set("startedNs", static_cast<double>(t.started_ns));
    o.Set("freeBytes", static_cast<double>(t.free_bytes));
    o.Set("ringMs", t.ring_ms);
    o.Set("path", std::string(t.path, strnlen(t.path, sizeof t.path)));
    o.Set("bytes", static_cast<double>(t.bytes));
    o.Set("ringHighWaterFrames", static_cast<double>(t.ring_high_water_frames));
    o.Set("longestStallNs", static_cast<double>(t.longest_stall_ns));
    o.Set("takesTotal", static_cast<double>(t.takes_total));
    o.Set("bytesTotal", static_cast<double>(t.bytes_total));
    o.Set("gapsTotal", static_cast<double>(t.gaps_total));
    o.Set("gapFramesTotal", static_cast<double>(t.gap_frames_total));
    return o;
  }

  // spectrum(): the last 1/6-octave band levels of the mic (before processing) and the output mix, dBFS;
  // only the bands below Nyquist.
  Napi::Value Spectrum(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    link::SpectrumTelemetry t;
    if (!live(env)->spectrum.load(t)) return env.Null();
    const uint32_t n = t.bands < link::kSpectrumBands ? t.bands : link::kSpectrumBands;
    Napi::Object o = Napi::Object::New(env);
    o.Set("seq", static_cast<double>(t.seq));
    o.Set("timeNs", static_cast<double>(t.time_ns));
    o.Set("rate", t.rate);
    o.Set("window", t.window);
    o.Set("droppedFrames", static_cast<double>(t.dropped_frames));
    Napi::Float32Array hz = Napi::Float32Array::New(env, n), in = Napi::Float32Array::New(env, n),
                       out = Napi::Float32Array::New(env, n);
    for (uint32_t b = 0; b < n; ++b) {
      hz[b] = t.centre_hz[b];
      in[b] = t.in_db[b];
      out[b] = t.out_db[b];
    }
    o.Set("centreHz", hz);
    o.Set("inDb", in);
    o.Set("outDb", out);
    return o;
  }

  // recordStart({path, source, format}, seq): to the writer thread, never the audio thread.
  Napi::Value RecordStart(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject())
      throw coded_error(env, "ERR_INVALID_ARG", "recordStart(options, seq)");
    Napi::Object o = info[0].As<Napi::Object>();
    const std::string path = o.Get("path").IsString() ? o.Get("path").As<Napi::String>().Utf8Value() : "";
    const std::string source = o.Get("source").IsString() ? o.Get("source").As<Napi::String>().Utf8Value() : "";
    const std::string format = o.Get("format").IsString() ? o.Get("format").As<Napi::String>().Utf8Value() : "";
    link::RecordCommand c{};
    c.type = link::RecordCommandType::kStart;
    c.seq = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
    if (path.empty() || path.size() >= sizeof c.path)
      throw coded_error(env, "ERR_INVALID_ARG",
                        "recording path must be 1.." + std::to_string(sizeof c.path - 1) + " bytes");
    std::memcpy(c.path, path.c_str(), path.size() + 1);
    if (source == "mic_raw")
      c.source = link::RecordSource::kMicRaw;
    else if (source == "mic")
      c.source = link::RecordSource::kMic;
    else if (source == "mix")
      c.source = link::RecordSource::kMix;
    else if (source == "all")
      c.source = link::RecordSource::kAll;
    else
      throw coded_error(env, "ERR_INVALID_ARG", "recording source must be mic_raw, mic, mix or all");
    if (format == "wav")
      c.format = link::RecordFormat::kWav24;
    else if (format == "flac")
      c.format = link::RecordFormat::kFlac;
    else
      throw coded_error(env, "ERR_INVALID_ARG", "recording format must be wav or flac");
    return Napi::Boolean::New(env, live(env)->record_commands.push(c));
  }

  Napi::Value RecordStop(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    link::RecordCommand c{};
    c.type = link::RecordCommandType::kStop;
    c.seq = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 0;
    return Napi::Boolean::New(env, live(env)->record_commands.push(c));
  }

  Napi::Value State(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return Napi::String::New(env, state_name(live(env)->state.load(std::memory_order_acquire)));
  }

  Napi::Value EnginePid(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), live(info.Env())->engine_pid);
  }

  SharedSegment shm_;
  link::Segment* seg_ = nullptr;
};

Napi::Value UnlinkSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw coded_error(env, "ERR_INVALID_ARG", "link name must be a string");
  return Napi::Boolean::New(env, SharedSegment::unlink(info[0].As<Napi::String>()));
}

Napi::Value MonotonicNs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(hushbox::now_ns()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("EngineLink", EngineLink::Define(env));
  exports.Set("unlinkSegment", Napi::Function::New(env, UnlinkSegment));
  exports.Set("monotonicNs", Napi::Function::New(env, MonotonicNs));
  exports.Set("linkVersion", Napi::Number::New(env, link::kVersion));
  hushbox::addon::register_system(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(hushbox, Init)
