// The engine link: one shared-memory segment per engine. This header is the
// only definition of its layout; the engine and the addon both include it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "seqlock.h"
#include "spsc_queue.h"

namespace hushbox::link {

inline constexpr uint32_t kMagic = 0x48534842;  // "HSHB"
inline constexpr uint32_t kVersion = 10;
inline constexpr uint32_t kMaxChannels = 8;
inline constexpr uint32_t kMaxParams = 512;
inline constexpr uint32_t kIdLength = 48;
// Wake-up lateness histogram bins: 0: < 1 us; i in 1..14: [2^(i-1), 2^i) us; 15: >= 16384 us.
inline constexpr uint32_t kJitterBins = 16;

enum class EngineState : uint32_t {
  kStarting = 0,
  kRunning = 1,
  kWaitingForDevice = 2,
  kStopping = 3,
  kStopped = 4,
  kFailed = 5,
};

// [any] The state's name, as telemetry, stats and the supervisor spell it.
inline const char* state_name(EngineState s) noexcept {
  switch (s) {
    case EngineState::kStarting: return "starting";
    case EngineState::kRunning: return "running";
    case EngineState::kWaitingForDevice: return "waiting_for_device";
    case EngineState::kStopping: return "stopping";
    case EngineState::kStopped: return "stopped";
    case EngineState::kFailed: return "failed";
  }
  return "unknown";
}

enum class CommandType : uint32_t {
  kSetParam = 1,  // index, value
  kResetMeters = 2,
  kSetTapSource = 3,  // index: TapSource
};

// What the audio tap (the Wyoming stream) carries.
enum class TapSource : uint32_t { kMicRaw = 0, kMic = 1, kMix = 2 };

// [any] The tap source's name as settings, telemetry and the CLI spell it.
inline const char* tap_source_name(TapSource s) noexcept {
  switch (s) {
    case TapSource::kMicRaw: return "mic_raw";
    case TapSource::kMic: return "mic";
    case TapSource::kMix: return "mix";
  }
  return "unknown";
}

struct Command {
  CommandType type;
  uint32_t seq;    // echoed in the kApplied event
  uint32_t index;  // parameter index in the table
  float value;
};
static_assert(std::is_trivially_copyable_v<Command>);

enum class EventType : uint32_t {
  kApplied = 1,      // seq: last command applied at a block boundary
  kXrun = 2,         // value: frames lost (0 if unknown); code: XrunStream
  kDeviceError = 3,  // code: errno-style
  kState = 4,        // code: EngineState
  // MIDI (native/engine/midi.h), posted by the audio thread:
  kMidi = 5,         // activity: code = status << 16 | data1 << 8 | data2 (status with channel)
  kMidiParam = 6,    // a mapping moved a parameter: seq = index, value = the value now
  kMidiProgram = 7,  // a Program Change matched a preset mapping: seq = channel, code = program
  kMidiAction = 8,   // a switch matched an action mapping: code = MidiAction
};

// Which stream of the device ran over or under (the code of a kXrun event).
enum class XrunStream : int32_t { kUnknown = 0, kCapture = 1, kPlayback = 2 };

struct Event {
  EventType type;
  uint32_t seq;
  int32_t code;
  float value;
  uint64_t time_ns;  // CLOCK_MONOTONIC
};
static_assert(std::is_trivially_copyable_v<Event>);

enum class ParamScale : uint32_t { kLinear = 0, kDecibel = 1, kLog = 2, kBool = 3, kEnum = 4 };

struct ParamInfo {
  char id[kIdLength];
  char name[kIdLength];
  char unit[16];
  ParamScale scale;
  float min;
  float max;
  float def;
};
static_assert(std::is_trivially_copyable_v<ParamInfo>);

struct Telemetry {
  EngineState state;
  uint32_t rate;
  uint32_t frames;
  uint32_t periods;
  uint32_t channels;
  uint32_t latency_frames;  // capture + playback buffering + algorithmic
  uint32_t applied_seq;
  uint32_t realtime;  // 1 when the audio thread runs SCHED_FIFO
  uint64_t periods_processed;
  uint64_t xruns;
  uint64_t missed_deadlines;
  uint64_t time_ns;  // CLOCK_MONOTONIC at publication
  float dsp_load;    // last block time / period
  float dsp_load_mean;
  float dsp_load_max;
  float jitter_us;  // last wake-up lateness
  float jitter_max_us;
  uint64_t last_xrun_ns;  // CLOCK_MONOTONIC of the last xrun; 0: none yet
  uint32_t device_waits;  // times the device was missing or lost
  uint32_t jitter_hist[kJitterBins];
  float peak_in[kMaxChannels];  // linear, 0..1+, held over about 1/30 s
  float rms_in[kMaxChannels];   // linear, 300 ms window
  float peak_out[kMaxChannels];
  float rms_out[kMaxChannels];
  // Per strip (input channel): gain reduction in dB (>= 0) and the tracked mains.
  float reduction_ns_db[kMaxChannels];
  float reduction_gate_db[kMaxChannels];
  float reduction_comp_db[kMaxChannels];
  float reduction_limit_db[kMaxChannels];
  float hum_hz[kMaxChannels];  // 0 while no mains hum is tracked
  // Steady tones the noise suppressor notches out (hum left over, a fan, a compressor), Hz.
  static constexpr uint32_t kMaxTones = 8;
  uint32_t tone_count[kMaxChannels];
  float tones_hz[kMaxChannels][kMaxTones];
  // The master limiter on the outputs: gain reduction in dB (>= 0), one for all outputs.
  float reduction_master_limit_db;
  // Clocks (ALSA; 0 elsewhere): playback against capture and each against CLOCK_MONOTONIC (ppm, from a
  // delay-locked loop), the frames in flight between capture and playback, and the correction.
  float drift_ppm;
  float capture_ppm;
  float playback_ppm;
  float buffer_fill_frames;
  float buffer_target_frames;  // 0: not corrected
  float resample_ppm;          // playback frames per captured frame - 1, as resampled
  uint32_t two_clocks;         // capture and playback on different cards
  uint32_t drift_corrected;    // the adaptive resampler runs
};
static_assert(std::is_trivially_copyable_v<Telemetry>);

// MIDI mappings: the audio thread applies CC -> value itself.
inline constexpr uint32_t kMaxMidiMappings = 128;
inline constexpr uint8_t kMidiOmni = 255;

enum class MidiSource : uint8_t { kControlChange = 1, kNote = 2, kProgramChange = 3 };

// How a CC's value reads: an absolute position or an encoder's relative step.
enum class MidiMode : uint8_t {
  kAbsolute = 0,
  kRelativeTwos = 1,    // 1..63 up, 127..65 down (two's complement)
  kRelativeOffset = 2,  // 64 = no change, 65 up, 63 down (binary offset)
  kRelativeSigned = 3,  // bit 6 the sign: 1..63 up, 65..127 down (sign-magnitude)
};

enum class MidiAction : uint8_t {
  kParam = 1,   // CC -> the parameter's value
  kToggle = 2,  // a switch (Note on, CC >= 64) flips an on/off parameter (a bypass)
  kPreset = 3,  // Program Change -> the supervisor recalls a preset
  kAbToggle = 4,
  kRecord = 5,  // start or stop a recording (the supervisor acts)
};

struct MidiMapping {
  MidiSource source;
  uint8_t channel;  // 0..15, or kMidiOmni
  uint8_t number;   // CC or note number (Program Change: unused)
  MidiMode mode;
  MidiAction action;
  uint8_t invert;      // 1: the knob's top is the range's bottom
  uint8_t resolution;  // 14: a 14-bit CC pair, `number` (0..31) the MSB, number + 32 the LSB; else 7
  uint8_t reserved;
  uint32_t index;  // parameter index (kParam, kToggle)
  float min;       // range the knob spans, inside the parameter's own (NaN: the parameter's)
  float max;
};
static_assert(std::is_trivially_copyable_v<MidiMapping>);

struct MidiMap {
  uint32_t count;
  MidiMapping mappings[kMaxMidiMappings];
};
static_assert(std::is_trivially_copyable_v<MidiMap>);

// Counters of the MIDI input (written by the MIDI and audio threads, read by anyone).
struct MidiCounters {
  std::atomic<uint64_t> received;  // messages parsed into events
  std::atomic<uint64_t> dropped;   // lost: the audio queue was full, or the sequencer overran
  std::atomic<uint64_t> ignored;   // SysEx, clock, unknown or unmapped-type messages
  std::atomic<uint64_t> applied;   // events that matched a mapping
  std::atomic<uint32_t> ports;     // sequencer ports subscribed (or 1 for an open raw device)
  // Times the kernel's sequencer queue for us overran. The kernel then drops
  // events (and empties the queue) without saying how many: this says it happened.
  std::atomic<uint64_t> overruns;
};
// The audio tap's stream clients, published by the tap thread.
inline constexpr uint32_t kMaxTapClients = 8;
struct TapClient {
  uint32_t id;              // 0: free slot; else a number unique for the engine's life
  uint32_t transport;       // 0: unix socket, 1: tcp
  uint32_t rate;            // Hz the client receives
  uint32_t width;           // bytes per sample: 2 (s16le) or 4 (f32)
  uint64_t connected_ns;    // CLOCK_MONOTONIC
  uint64_t sent_frames;     // frames handed to the socket
  uint64_t dropped_frames;  // frames lost because the client did not keep up (oldest first)
  uint32_t queued_ms;       // audio waiting for the client
  uint32_t pad;
};
static_assert(std::is_trivially_copyable_v<TapClient>);

struct TapTelemetry {
  uint32_t source;               // TapSource
  uint32_t listening;            // bit 0: unix socket, bit 1: tcp
  uint64_t ring_dropped_frames;  // frames the tap thread was too late for (the audio thread never waits)
  uint64_t clients_accepted;
  uint64_t clients_dropped_stuck;  // dropped after not reading for the stuck timeout
  uint64_t clients_refused;        // over kMaxTapClients, or a bad TCP token
  uint64_t time_ns;
  TapClient clients[kMaxTapClients];
};
static_assert(std::is_trivially_copyable_v<TapTelemetry>);

// Recording takes: commands from the supervisor to the engine's writer thread
// (never the audio thread), and the take's state back.
inline constexpr uint32_t kPathLength = 256;
enum class RecordCommandType : uint32_t { kStart = 1, kStop = 2 };
enum class RecordSource : uint32_t { kMicRaw = 0, kMic = 1, kMix = 2, kAll = 3 };
enum class RecordFormat : uint32_t { kWav24 = 0, kFlac = 1 };
struct RecordCommand {
  RecordCommandType type;
  uint32_t seq;
  RecordSource source;
  RecordFormat format;
  char path[kPathLength];  // kStart: the file to write (created exclusively)
};
static_assert(std::is_trivially_copyable_v<RecordCommand>);

enum class RecordState : uint32_t { kIdle = 0, kRecording = 1, kStopped = 2, kFailed = 3 };
// Why a take ended: kNone while recording.
enum class RecordStopReason : uint32_t {
  kNone = 0,
  kRequested = 1,   // a stop command
  kDiskFull = 2,    // free space fell under the margin
  kEngineStop = 3,  // the engine stopped (SIGTERM, the supervisor gone)
  kWriteError = 4,  // the file could not be written
  kOpenError = 5,   // the file could not be created
};
struct RecordTelemetry {
  RecordState state;
  RecordStopReason reason;
  uint32_t seq;  // of the last command handled
  RecordSource source;
  RecordFormat format;
  uint32_t channels;
  uint32_t rate;
  int32_t error;            // errno of an open or write error
  uint64_t frames_written;  // frames of audio in the file, gaps included (as silence)
  uint64_t gaps;            // times the ring overflowed (the writer stalled longer than the ring)
  uint64_t gap_frames;      // frames lost in those gaps (written as silence, so the timeline holds)
  uint64_t started_ns;
  uint64_t free_bytes;  // on the recording's filesystem, at the last check
  uint32_t ring_ms;     // how long a stall the ring absorbs
  uint32_t pad;
  char path[kPathLength];
  // This take: bytes in the file, the ring's fullest (frames of the take, as the writer found it), the longest
  // the writer was away from the ring in one write, sync or stall.
  uint64_t bytes;
  uint64_t ring_high_water_frames;
  uint64_t longest_stall_ns;
  // Since the engine started: takes begun, bytes written, gaps and their frames, over every take.
  uint64_t takes_total;
  uint64_t bytes_total;
  uint64_t gaps_total;
  uint64_t gap_frames_total;
};
static_assert(std::is_trivially_copyable_v<RecordTelemetry>);

// The front panel's spectrum (native/engine/spectrum.h): 1/6-octave band levels of the mic before
// processing and of the output mix, computed off the audio thread about 20 times a second.
inline constexpr uint32_t kSpectrumBands = 60;
struct SpectrumTelemetry {
  uint32_t rate;
  uint32_t window;  // FFT size (samples)
  uint32_t bands;   // bands below Nyquist; the rest read the floor
  uint32_t pad;
  uint64_t seq;                     // analyses published
  uint64_t time_ns;                 // CLOCK_MONOTONIC of the last
  uint64_t dropped_frames;          // frames the spectrum thread was too late for (the audio thread never waits)
  float centre_hz[kSpectrumBands];  // 1000 * 2^(k/6), k = -33..26
  float in_db[kSpectrumBands];      // dBFS: a full-scale sine in the band reads 0; -140 for nothing
  float out_db[kSpectrumBands];
};
static_assert(std::is_trivially_copyable_v<SpectrumTelemetry>);

struct Heartbeat {
  std::atomic<uint64_t> count;
  std::atomic<uint64_t> time_ns;  // CLOCK_MONOTONIC of the last beat
};

// Queues named by their thread contract.
using SupervisorToAudioQueue = SpscQueue<Command, 1024>;
using AudioToSupervisorQueue = SpscQueue<Event, 1024>;
using SupervisorToWriterQueue = SpscQueue<RecordCommand, 16>;

struct Segment {
  // Header: magic and version first, so a reader can check before trusting the rest.
  uint32_t magic;
  uint32_t version;
  uint32_t size;  // sizeof(Segment) as the engine built it
  int32_t engine_pid;
  std::atomic<uint32_t> state;  // EngineState

  SupervisorToAudioQueue commands;
  AudioToSupervisorQueue events;
  Seqlock<Telemetry> telemetry;
  Heartbeat audio_heartbeat;
  Heartbeat housekeeping_heartbeat;
  Seqlock<TapTelemetry> tap;
  SupervisorToWriterQueue record_commands;
  Seqlock<RecordTelemetry> recording;
  Seqlock<SpectrumTelemetry> spectrum;

  uint32_t param_count;
  ParamInfo params[kMaxParams];
  std::atomic<float> param_values[kMaxParams];  // as applied by the audio thread

  Seqlock<MidiMap> midi_map;  // written by the supervisor only
  MidiCounters midi;
};
static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::atomic<float>::is_always_lock_free);

}  // namespace hushbox::link
