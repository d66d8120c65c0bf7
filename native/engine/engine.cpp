#include "engine.h"

#include "json.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sys/resource.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <sstream>

namespace hushbox {

double JitterHistogram::percentile(double q) const {
  if (count_ == 0) return 0.0;
  const auto target = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  uint64_t seen = 0;
  for (uint32_t i = 0; i < bins_.size(); ++i) {
    seen += bins_[i];
    if (seen >= target && seen > 0) {
      // The bin's upper edge, but never beyond the largest value seen.
      const double edge = static_cast<double>(i + 1);
      return edge < max_us() ? edge : max_us();
    }
  }
  return max_us();
}

Engine::~Engine() {
  if (!config_.link_name.empty() && shm_.data()) {
    shm_.close();
    SharedSegment::unlink(config_.link_name);
  }
}

Status Engine::init(const EngineConfig& config) {
  config_ = config;
  const IoConfig& io = config.io;
  if (io.rate < 8000 || io.rate > 384000)
    return Status::error("--rate " + std::to_string(io.rate) + " is out of range (8000..384000)");
  if (io.frames < 16 || io.frames > 4096)
    return Status::error("--frames " + std::to_string(io.frames) + " is out of range (16..4096)");
  if (io.periods < 2 || io.periods > 16)
    return Status::error("--periods " + std::to_string(io.periods) + " is out of range (2..16)");
  if (io.channels < 1 || io.channels > link::kMaxChannels)
    return Status::error("--channels " + std::to_string(io.channels) + " is out of range (1..8)");

  // rt_guard (test/engine/rt-guard.test.ts) marks the audio work of a callback-driven thread.
  rt_guard_section_ = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "hushbox_rt_guard_section"));
  Status s;
  if (config.backend == "jack") {
    // Rate and period follow the JACK server's; without a server yet, the configured ones until it comes.
    s = init_jack();
    if (!s) return s;
  } else {
    backend_ = make_backend(config.backend);
    if (!backend_) return Status::error("unknown backend '" + config.backend + "' (expected alsa, sim, file or jack)");
    s = backend_->open(io);
    if (!s) return s;
  }

  std::string error;
  chain_owner_ = prepare_chain(config_.io.rate, config_.io.frames, error);
  if (!chain_owner_) return Status::error(error);
  for (const auto& [index, value] : config.params) chain_owner_->set_param(index, value);
  chain_owner_->reset();  // start on the values, not ramping towards them
  chain_ = chain_owner_.get();
  chain_rate_ = config_.io.rate;
  chain_frames_ = config_.io.frames;
  chain_frames_in_use_ = chain_frames_;
  chain_latency_.store(chain_->latency_samples(), std::memory_order_relaxed);

  // JACK hands periods of up to kJackMaxFrames whatever the period the chain was prepared for.
  const uint32_t planar_frames = config.backend == "jack" ? kJackMaxFrames : io.frames;
  in_.assign(static_cast<size_t>(planar_frames) * io.channels, 0.0f);
  out_.assign(static_cast<size_t>(io.frames) * io.channels, 0.0f);
  planar_.assign(io.channels, std::vector<float>(planar_frames, 0.0f));
  planar_ptrs_.clear();
  for (auto& ch : planar_) planar_ptrs_.push_back(ch.data());
  for (uint32_t c = 0; c < link::kMaxChannels; ++c) {
    meter_in_[c].prepare(config_.io.rate);
    meter_out_[c].prepare(config_.io.rate);
  }
  jitter_.allocate();
  process_.allocate();
  midi_latency_.allocate();
  if (!config.midi.empty()) {
    s = MidiInput::check_source(config.midi);
    if (!s) return s;
  }
  period_ns_ = static_cast<int64_t>(1e9 * config_.io.frames / config_.io.rate);

  if (!config.link_name.empty()) {
    s = shm_.create(config.link_name, sizeof(link::Segment));
    if (!s) return s;
    link_ = new (shm_.data()) link::Segment();
  } else {
    private_link_ = std::make_unique<link::Segment>();
    link_ = private_link_.get();
  }
  link_->magic = link::kMagic;
  link_->version = link::kVersion;
  link_->size = sizeof(link::Segment);
  link_->engine_pid = static_cast<int32_t>(getpid());
  link_->commands.init();
  link_->events.init();
  const auto table = dsp::param_table();
  link_->midi_map.init(config.midi_map);
  midi_queue_.init();
  link_->param_count = static_cast<uint32_t>(table.size());
  for (uint32_t i = 0; i < table.size(); ++i) {
    link::ParamInfo& p = link_->params[i];
    std::snprintf(p.id, sizeof p.id, "%s", table[i].id);
    std::snprintf(p.name, sizeof p.name, "%s", table[i].name);
    std::snprintf(p.unit, sizeof p.unit, "%s", table[i].unit);
    p.scale = static_cast<link::ParamScale>(table[i].scale);
    p.min = table[i].min;
    p.max = table[i].max;
    p.def = table[i].def;
    link_->param_values[i].store(chain_->param(i), std::memory_order_relaxed);
  }
  telemetry_ = link::Telemetry{};
  telemetry_.state = link::EngineState::kStarting;
  telemetry_.rate = config_.io.rate;
  telemetry_.frames = config_.io.frames;
  telemetry_.periods = config_.io.periods;
  telemetry_.channels = io.channels;
  telemetry_.latency_frames = (backend_ ? backend_->latency_frames() : 0) + chain_->latency_samples();
  link_->telemetry.init(telemetry_);
  link_->record_commands.init();
  // The stream is an extra: a socket that cannot be bound leaves the audio running without it.
  const uint32_t max_frames = config.backend == "jack" ? kJackMaxFrames : io.frames;
  if (Status ts = tap_.init(config.tap, config_.io.rate, max_frames, link_); !ts) {
    std::fprintf(stderr, "hushbox-engine: the audio stream is off: %s\n", ts.message.c_str());
    tap_.disable();
  }
  s = recorder_.init(config.recorder, config_.io.rate, max_frames, io.channels, link_);
  if (!s) return s;
  s = spectrum_.init(config_.io.rate, max_frames, link_);
  if (!s) return s;
  set_state(link::EngineState::kStarting);
  return Status::success();
}

std::unique_ptr<dsp::Chain> Engine::prepare_chain(uint32_t rate, uint32_t frames, std::string& error) const {
  auto chain = std::make_unique<dsp::Chain>();
  dsp::ProcessSpec spec;
  spec.rate = rate;
  spec.max_frames = frames;
  spec.channels = config_.io.channels;
  if (!chain->prepare(spec)) {
    error = "the DSP chain rejected the stream settings (" + std::to_string(rate) + " Hz, " + std::to_string(frames) +
            " frames, " + std::to_string(config_.io.channels) + " channels)";
    return nullptr;
  }
  return chain;
}

void Engine::adopt_pending_chain() noexcept {
  dsp::Chain* next = pending_chain_.exchange(nullptr, std::memory_order_acq_rel);
  if (!next) return;
  // The parameters as applied now (commands drained since it was prepared included), then no ramps.
  for (uint32_t i = 0; i < dsp::kParamCount; ++i) next->set_param(i, chain_->param(i));
  next->reset();
  chain_ = next;
  chain_frames_in_use_ = pending_frames_;
  chain_latency_.store(next->latency_samples(), std::memory_order_relaxed);
  if (pending_rate_ != telemetry_.rate) {
    for (uint32_t c = 0; c < link::kMaxChannels; ++c) {
      meter_in_[c].prepare(pending_rate_);
      meter_out_[c].prepare(pending_rate_);
    }
  }
  telemetry_.rate = pending_rate_;
  telemetry_.frames = pending_frames_;
  telemetry_.latency_frames = chain_->latency_samples();
  period_ns_ = static_cast<int64_t>(1e9 * pending_frames_ / pending_rate_);
  chain_swapped_.store(true, std::memory_order_release);
}

void Engine::set_state(link::EngineState s) noexcept {
  link_->state.store(static_cast<uint32_t>(s), std::memory_order_release);
  telemetry_.state = s;
  post_event(link::EventType::kState, 0, static_cast<int32_t>(s), 0.0f);
}

void Engine::post_event(link::EventType type, uint32_t seq, int32_t code, float value) noexcept {
  link::Event e{type, seq, code, value, static_cast<uint64_t>(now_ns())};
  link_->events.push(e);  // a full queue drops the event; telemetry still carries the counters
}

void Engine::drain_commands() noexcept {
  link::Command cmd;
  bool applied = false;
  while (link_->commands.pop(cmd)) {
    switch (cmd.type) {
      case link::CommandType::kSetParam:
        if (cmd.index < link_->param_count) {
          chain_->set_param(cmd.index, cmd.value);
          link_->param_values[cmd.index].store(chain_->param(cmd.index), std::memory_order_relaxed);
        }
        break;
      case link::CommandType::kResetMeters:
        for (auto& m : meter_in_) m.reset();
        for (auto& m : meter_out_) m.reset();
        telemetry_.dsp_load_max = 0.0f;
        telemetry_.jitter_max_us = 0.0f;
        break;
      case link::CommandType::kSetTapSource:
        if (cmd.index <= static_cast<uint32_t>(link::TapSource::kMix))
          tap_.set_source(static_cast<link::TapSource>(cmd.index));
        break;
    }
    last_applied_seq_ = cmd.seq;
    applied = true;
  }
  if (applied) {
    telemetry_.applied_seq = last_applied_seq_;
    post_event(link::EventType::kApplied, last_applied_seq_, 0, 0.0f);
  }
}

struct Engine::MidiTarget {
  Engine& e;
  // [audio]
  float param(uint32_t i) const noexcept { return e.chain_->param(i); }
  void set_param(uint32_t i, float v) noexcept {
    e.chain_->set_param(i, v);
    e.link_->param_values[i].store(e.chain_->param(i), std::memory_order_relaxed);
    for (uint32_t k = 0; k < e.midi_touched_count_; ++k)
      if (e.midi_touched_[k] == i) return;
    if (e.midi_touched_count_ < link::kMaxMidiMappings) e.midi_touched_[e.midi_touched_count_++] = i;
  }
  void program(uint8_t channel, uint8_t program) noexcept {
    ++e.midi_programs_;
    e.midi_last_program_ = program;
    e.post_event(link::EventType::kMidiProgram, channel, program, 0.0f);
  }
  void action(link::MidiAction a) noexcept {
    ++e.midi_actions_;
    e.post_event(link::EventType::kMidiAction, 0, static_cast<int32_t>(a), 0.0f);
  }
};

void Engine::drain_midi(int64_t now) noexcept {
  // A new map from the supervisor: copied once, read from the copy.
  const uint32_t version = link_->midi_map.version();
  if (version != midi_map_version_) {
    link::MidiMap fresh;
    if (link_->midi_map.load(fresh, 4)) {
      midi_map_ = fresh;
      midi_map_version_ = version;
    }
  }
  MidiTarget target{*this};
  midi::Message m;
  uint32_t shown = 0;
  uint64_t applied = 0;
  // Bounded: never more than the queue held when the period began.
  for (uint32_t left = midi_queue_.size(); left > 0 && midi_queue_.pop(m); --left) {
    if (midi::dispatch(midi_map_, link_->params, link_->param_count, m, target, midi_pairs_) > 0) {
      ++applied;
      midi_latency_.add(now - m.time_ns);
    }
    // Activity for the page and for learn; a flood shows its first messages per period.
    if (shown++ < 16) {
      const int32_t code = midi::status_byte(m) << 16 | m.number << 8 | m.value;
      post_event(link::EventType::kMidi, 0, code, 0.0f);
    }
  }
  if (applied) link_->midi.applied.fetch_add(applied, std::memory_order_relaxed);
  for (uint32_t k = 0; k < midi_touched_count_; ++k) {
    const uint32_t i = midi_touched_[k];
    post_event(link::EventType::kMidiParam, i, 0, link_->param_values[i].load(std::memory_order_relaxed));
  }
  midi_touched_count_ = 0;
}

void Engine::publish(int64_t now) noexcept {
  const uint32_t channels = config_.io.channels;
  for (uint32_t c = 0; c < channels; ++c) {
    telemetry_.peak_in[c] = meter_in_[c].peak();
    telemetry_.rms_in[c] = meter_in_[c].rms();
    telemetry_.peak_out[c] = meter_out_[c].peak();
    telemetry_.rms_out[c] = meter_out_[c].rms();
    const dsp::StripMeters m = chain_->meters(c);
    telemetry_.reduction_ns_db[c] = m.ns_reduction_db;
    telemetry_.reduction_gate_db[c] = m.gate_reduction_db;
    telemetry_.reduction_comp_db[c] = m.comp_reduction_db;
    telemetry_.reduction_limit_db[c] = m.limit_reduction_db;
    telemetry_.hum_hz[c] = m.hum_hz;
    telemetry_.tone_count[c] = std::min(m.tone_count, link::Telemetry::kMaxTones);
    for (uint32_t i = 0; i < link::Telemetry::kMaxTones; ++i)
      telemetry_.tones_hz[c][i] = i < m.tone_count ? m.tones_hz[i] : 0.0f;
  }
  telemetry_.reduction_master_limit_db = chain_->master_limit_reduction_db();
  telemetry_.time_ns = static_cast<uint64_t>(now);
  link_->telemetry.store(telemetry_);
  link_->audio_heartbeat.count.fetch_add(1, std::memory_order_relaxed);
  link_->audio_heartbeat.time_ns.store(static_cast<uint64_t>(now), std::memory_order_release);
}

void Engine::audio_thread_main() noexcept {
  rt_report_ = setup_realtime_thread(config_.rt, memory_locked_);
  telemetry_.realtime = rt_report_.fifo ? 1 : 0;
  const uint32_t frames = config_.io.frames;
  const uint32_t channels = config_.io.channels;
  Status s = backend_->start();
  if (!s) {
    set_state(link::EngineState::kFailed);
    finished_.store(true, std::memory_order_release);
    return;
  }
  set_state(link::EngineState::kRunning);
  started_ns_ = now_ns();

  // Page faults taken while running (memory is locked and stacks prefaulted, so none is expected):
  // counted outside the named stretch, where a system call is allowed.
  rusage usage_start{};
  getrusage(RUSAGE_THREAD, &usage_start);
  // The thread names itself once set up: from here to "hb-audio-done" it may
  // only do ALSA I/O and read the clock (test/engine/rt-guard.test.ts checks).
  pthread_setname_np(pthread_self(), "hb-audio");
  bool waiting = false;
  while (!stop_.load(std::memory_order_relaxed)) {
    const IoResult r = backend_->read(in_.data(), frames);
    const int64_t t0 = now_ns();
    if (r.kind == IoResult::Kind::kEnd) break;
    if (r.kind == IoResult::Kind::kError) {
      post_event(link::EventType::kDeviceError, 0, r.code, 0.0f);
      break;
    }
    if (r.kind == IoResult::Kind::kWaiting) {
      // No device: say so once, keep the heartbeat going, and let the backend look for it.
      if (r.code != 0) post_event(link::EventType::kDeviceError, 0, r.code, 0.0f);
      if (!waiting) {
        waiting = true;
        ++telemetry_.device_waits;
        set_state(link::EngineState::kWaitingForDevice);
      }
      drain_commands();  // parameters still apply, so the chain is ready when the device is back
      drain_midi(t0);
      publish(t0);
      continue;
    }
    if (waiting) {
      waiting = false;
      set_state(link::EngineState::kRunning);
    }
    if (r.kind == IoResult::Kind::kXrun) count_xrun(r, link::XrunStream::kCapture);
    note_clock(backend_->clock_status(), t0);
    if (backend_->clocked()) {
      const int64_t late = r.wake_ns - r.deadline_ns;
      jitter_.add(late);
      add_jitter_bin(late);
      telemetry_.jitter_us = static_cast<float>(late) / 1000.0f;
      if (telemetry_.jitter_us > telemetry_.jitter_max_us) telemetry_.jitter_max_us = telemetry_.jitter_us;
    }

    for (uint32_t c = 0; c < channels; ++c) {
      float* dst = planar_ptrs_[c];
      for (uint32_t f = 0; f < frames; ++f) dst[f] = in_[f * channels + c];
    }
    process_period(frames, t0);
    for (uint32_t c = 0; c < channels; ++c) {
      const float* src = planar_ptrs_[c];
      for (uint32_t f = 0; f < frames; ++f) out_[f * channels + c] = src[f];
    }
    tap_.push(in_.data(), channels, chain_->processed_mic(), planar_ptrs_.data(), channels, frames);
    recorder_.push(in_.data(), channels, chain_->processed_mic(), planar_ptrs_.data(), channels, frames);
    spectrum_.push(in_.data(), channels, planar_ptrs_.data(), channels, frames);

    const IoResult w = backend_->write(out_.data(), frames);
    if (w.kind == IoResult::Kind::kXrun) count_xrun(w, link::XrunStream::kPlayback);

    const int64_t t1 = now_ns();
    ++telemetry_.periods_processed;
    process_.add(t1 - t0);
    const float load = static_cast<float>(static_cast<double>(t1 - t0) / static_cast<double>(period_ns_));
    telemetry_.dsp_load = load;
    load_sum_ += load;
    telemetry_.dsp_load_mean = static_cast<float>(load_sum_ / static_cast<double>(telemetry_.periods_processed));
    if (load > telemetry_.dsp_load_max) telemetry_.dsp_load_max = load;
    publish(t1);
  }
  final_state_ = telemetry_.state;
  backend_->stop();
  pthread_setname_np(pthread_self(), "hb-audio-done");
  rusage usage_end{};
  getrusage(RUSAGE_THREAD, &usage_end);
  audio_page_faults_ = static_cast<uint64_t>((usage_end.ru_minflt - usage_start.ru_minflt) +
                                             (usage_end.ru_majflt - usage_start.ru_majflt));
  ended_ns_ = now_ns();
  set_state(link::EngineState::kStopped);
  link_->telemetry.store(telemetry_);
  finished_.store(true, std::memory_order_release);
}

void Engine::process_period(uint32_t frames, int64_t t0) noexcept {
  const uint32_t channels = config_.io.channels;
  drain_commands();
  drain_midi(t0);
  for (uint32_t c = 0; c < channels; ++c) meter_in_[c].process(planar_ptrs_[c], frames);
  // In pieces no longer than the chain was prepared for (JACK may hand a longer period before the chain for it is in).
  for (uint32_t done = 0; done < frames;) {
    const uint32_t n = std::min(frames - done, chain_frames_in_use_);
    float* ptrs[link::kMaxChannels];
    for (uint32_t c = 0; c < channels; ++c) ptrs[c] = planar_ptrs_[c] + done;
    dsp::AudioBlock block{ptrs, channels, n};
    chain_->process(block);
    done += n;
  }
  for (uint32_t c = 0; c < channels; ++c) meter_out_[c].process(planar_ptrs_[c], frames);
}

void Engine::note_clock(const ClockStatus& c, int64_t now) noexcept {
  telemetry_.drift_ppm = c.drift_ppm;
  telemetry_.capture_ppm = c.capture_ppm;
  telemetry_.playback_ppm = c.playback_ppm;
  telemetry_.buffer_fill_frames = c.fill_frames;
  telemetry_.buffer_target_frames = c.target_frames;
  telemetry_.resample_ppm = c.ratio_ppm;
  telemetry_.two_clocks = c.two_clocks;
  telemetry_.drift_corrected = c.corrected;
  // For the stats: the drift each second, and the fill's range once settled (after kFillSettleS).
  const double s = static_cast<double>(now - started_ns_) * 1e-9;
  const auto second = static_cast<uint32_t>(s);
  if (second < kDriftSeconds) drift_by_s_[second] = c.drift_ppm;
  if (second >= kDriftSeconds)
    drift_seconds_ = kDriftSeconds;
  else if (second + 1 > drift_seconds_)
    drift_seconds_ = second + 1;
  if (s >= kFillSettleS) {
    if (fill_min_ < 0 || c.fill_frames < fill_min_) fill_min_ = c.fill_frames;
    if (c.fill_frames > fill_max_) fill_max_ = c.fill_frames;
  }
}

void Engine::count_xrun(const IoResult& r, link::XrunStream stream) noexcept {
  ++telemetry_.xruns;
  ++telemetry_.missed_deadlines;
  periods_at_last_xrun_ = telemetry_.periods_processed;
  if (telemetry_.xruns <= kXrunTimes) xrun_times_ns_[telemetry_.xruns - 1] = r.wake_ns ? r.wake_ns : now_ns();
  telemetry_.last_xrun_ns = static_cast<uint64_t>(r.wake_ns ? r.wake_ns : now_ns());
  link::Event e{link::EventType::kXrun, 0, static_cast<int32_t>(stream), static_cast<float>(r.lost_frames),
                telemetry_.last_xrun_ns};
  link_->events.push(e);
}

void Engine::add_jitter_bin(int64_t late_ns) noexcept {
  const int64_t us = late_ns < 1000 ? 0 : late_ns / 1000;
  uint32_t bin = 0;
  while (bin + 1 < link::kJitterBins && (int64_t{1} << bin) <= us) ++bin;
  ++telemetry_.jitter_hist[bin];
}

void Engine::housekeeping_thread_main() {
  while (!finished_.load(std::memory_order_acquire)) {
    const int64_t now = now_ns();
    link_->housekeeping_heartbeat.count.fetch_add(1, std::memory_order_relaxed);
    link_->housekeeping_heartbeat.time_ns.store(static_cast<uint64_t>(now), std::memory_order_release);
    backend_->housekeeping();
    sleep_until_ns(now + 20'000'000);
  }
}

Status Engine::run() {
  memory_locked_ = config_.rt.lock_memory && lock_memory(memory_lock_error_);
  // Held open (at 0 us) for the whole run: the CPU may not enter deep idle states.
  DmaLatencyHold dma_hold;
  if (config_.rt.hold_dma_latency) dma_latency_held_ = dma_hold.hold(dma_latency_error_);

  if (!config_.midi.empty()) {
    // Below the audio thread, so a MIDI flood never takes its CPU (the queue holds what comes
    // before the audio thread runs; more is dropped and counted).
    const int midi_priority = config_.rt.priority > 1 ? config_.rt.priority - 1 : 0;
    if (Status ms = midi_.start(config_.midi, midi_priority, &midi_queue_, &link_->midi); !ms) return ms;
  }
  Status s = jack_ ? run_jack() : run_threads();
  midi_.stop();
  if (!config_.stats_path.empty()) {
    const std::string json = stats_json();
    const std::string tmp = config_.stats_path + ".part";
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    bool ok = f && std::fputs(json.c_str(), f) >= 0;
    if (f) ok = (std::fclose(f) == 0) && ok;
    if (!ok || std::rename(tmp.c_str(), config_.stats_path.c_str()) != 0) {
      std::remove(tmp.c_str());
      return Status::error(config_.stats_path + ": cannot write stats: " + std::strerror(errno));
    }
  }
  return s;
}

Status Engine::run_threads() {
  // Small stacks: with mlockall(MCL_FUTURE) every stack page is faulted in and
  // locked at creation, and glibc's default is 8 MiB per thread.
  pthread_t housekeeping_thread, audio_thread;
  if (Status ts = tap_.start(); !ts) return ts;
  if (Status rs = recorder_.start(); !rs) return rs;
  if (Status ss = spectrum_.start(); !ss) return ss;
  if (!start_thread(
          housekeeping_thread,
          [](void* self) -> void* {
            static_cast<Engine*>(self)->housekeeping_thread_main();
            return nullptr;
          },
          this)) {
    return Status::error("cannot start the housekeeping thread");
  }
  if (!start_thread(
          audio_thread,
          [](void* self) -> void* {
            static_cast<Engine*>(self)->audio_thread_main();
            return nullptr;
          },
          this)) {
    finished_.store(true, std::memory_order_release);
    pthread_join(housekeeping_thread, nullptr);
    return Status::error("cannot start the audio thread");
  }
  pthread_setname_np(housekeeping_thread, "hb-housekeeping");

  const int64_t deadline = config_.duration_s > 0 ? now_ns() + static_cast<int64_t>(config_.duration_s * 1e9) : 0;
  while (!finished_.load(std::memory_order_acquire)) {
    if (deadline && now_ns() >= deadline) request_stop();
    sleep_until_ns(now_ns() + 5'000'000);
  }
  pthread_join(audio_thread, nullptr);
  pthread_join(housekeeping_thread, nullptr);
  tap_.stop();
  recorder_.stop();  // a take in progress is finished (reason engine_stop), its header final
  spectrum_.stop();
  return backend_->close();
}

std::string Engine::stats_json() const {
  char buf[2048];
  const double seconds = ended_ns_ > started_ns_ ? static_cast<double>(ended_ns_ - started_ns_) / 1e9 : 0.0;
  std::string problems;
  std::string all = rt_report_.problems;
  for (const std::string* e : {&memory_lock_error_, &dma_latency_error_}) {
    if (e->empty()) continue;
    if (!all.empty()) all += "; ";
    all += *e;
  }
  json::append_string(problems, all);
  std::snprintf(buf, sizeof buf,
                "{\"backend\":\"%s\",\"rate\":%u,\"frames\":%u,\"periods\":%u,\"channels\":%u,"
                "\"seconds\":%.3f,\"periods_processed\":%" PRIu64 ",\"missed_deadlines\":%" PRIu64 ",\"xruns\":%" PRIu64
                ",\"dsp_load\":{\"mean\":%.6f,\"max\":%.6f},"
                "\"jitter_us\":{\"p50\":%.1f,\"p99\":%.1f,\"p99.9\":%.1f,\"max\":%.1f,\"samples\":%" PRIu64
                "},"
                "\"process_us\":{\"p50\":%.1f,\"p99\":%.1f,\"p99.9\":%.1f,\"max\":%.1f},\"audio_page_faults\":%" PRIu64
                ","
                "\"latency_frames\":%u,"
                "\"realtime\":{\"fifo\":%s,\"priority\":%d,\"cpu\":%d,\"memory_locked\":%s,\"denormals_flushed\":%s,"
                "\"dma_latency_held\":%s,\"problems\":%s},"
                "\"latency_ms\":%.3f,\"device_waits\":%u,\"periods_after_last_xrun\":%" PRIu64 ",\"state\":\"%s\"}\n",
                backend_ ? backend_->name() : config_.backend.c_str(), config_.io.rate, config_.io.frames,
                config_.io.periods, config_.io.channels, seconds, telemetry_.periods_processed,
                telemetry_.missed_deadlines, telemetry_.xruns, static_cast<double>(telemetry_.dsp_load_mean),
                static_cast<double>(telemetry_.dsp_load_max), jitter_.percentile(0.5), jitter_.percentile(0.99),
                jitter_.percentile(0.999), jitter_.max_us(), jitter_.count(), process_.percentile(0.5),
                process_.percentile(0.99), process_.percentile(0.999), process_.max_us(), audio_page_faults_,
                telemetry_.latency_frames, rt_report_.fifo ? "true" : "false", rt_report_.priority, rt_report_.cpu,
                memory_locked_ ? "true" : "false", rt_report_.denormals_flushed ? "true" : "false",
                dma_latency_held_ ? "true" : "false", problems.c_str(),
                1000.0 * telemetry_.latency_frames / (config_.io.rate ? config_.io.rate : 1), telemetry_.device_waits,
                telemetry_.periods_processed - periods_at_last_xrun_, state_name(final_state_));
  // The first xruns' times (CLOCK_MONOTONIC seconds, as /proc/uptime), so a test can tell a forced one.
  std::string out = buf;
  while (!out.empty() && (out.back() == '\n' || out.back() == '}')) out.pop_back();
  out += ",\"xrun_times_s\":[";
  const uint64_t n = telemetry_.xruns < kXrunTimes ? telemetry_.xruns : kXrunTimes;
  for (uint64_t i = 0; i < n; ++i) {
    char t[32];
    std::snprintf(t, sizeof t, "%s%.3f", i ? "," : "", static_cast<double>(xrun_times_ns_[i]) / 1e9);
    out += t;
  }
  out += "]";
  // The clocks (ALSA): the last measurement, the fill's range after the first seconds, the drift each second.
  {
    char c[640];
    std::snprintf(c, sizeof c,
                  ",\"clock\":{\"two_clocks\":%s,\"corrected\":%s,\"drift_ppm\":%.3f,\"capture_ppm\":%.3f,"
                  "\"playback_ppm\":%.3f,\"fill_frames\":%.1f,\"target_frames\":%.1f,\"resample_ppm\":%.3f,"
                  "\"fill_min\":%.1f,\"fill_max\":%.1f,\"drift_ppm_by_s\":[",
                  telemetry_.two_clocks ? "true" : "false", telemetry_.drift_corrected ? "true" : "false",
                  static_cast<double>(telemetry_.drift_ppm), static_cast<double>(telemetry_.capture_ppm),
                  static_cast<double>(telemetry_.playback_ppm), static_cast<double>(telemetry_.buffer_fill_frames),
                  static_cast<double>(telemetry_.buffer_target_frames), static_cast<double>(telemetry_.resample_ppm),
                  static_cast<double>(fill_min_ < 0 ? 0.0f : fill_min_), static_cast<double>(fill_max_));
    out += c;
    for (uint32_t i = 0; i < drift_seconds_; ++i) {
      char t[24];
      std::snprintf(t, sizeof t, "%s%.2f", i ? "," : "", static_cast<double>(drift_by_s_[i]));
      out += t;
    }
    out += "]}";
  }
  if (!config_.midi.empty()) {
    // The mapped parameters' values as the audio thread left them, and the MIDI counters.
    std::string values;
    for (uint32_t i = 0; i < midi_map_.count && i < link::kMaxMidiMappings; ++i) {
      const link::MidiMapping& m = midi_map_.mappings[i];
      if (m.action != link::MidiAction::kParam && m.action != link::MidiAction::kToggle) continue;
      if (m.index >= link_->param_count) continue;
      char v[96];
      std::snprintf(v, sizeof v, "%s\"%s\":%.6g", values.empty() ? "" : ",", link_->params[m.index].id,
                    static_cast<double>(link_->param_values[m.index].load(std::memory_order_relaxed)));
      values += v;
    }
    std::string source, error;
    json::append_string(source, config_.midi);
    json::append_string(error, midi_.last_error());
    char m[1024];
    std::snprintf(m, sizeof m,
                  ",\"midi\":{\"source\":%s,\"client\":%d,\"ports\":%u,\"received\":%" PRIu64 ",\"applied\":%" PRIu64
                  ",\"dropped\":%" PRIu64 ",\"ignored\":%" PRIu64 ",\"overruns\":%" PRIu64 ",\"programs\":%" PRIu64
                  ",\"last_program\":%d,\"actions\":%" PRIu64
                  ",\"latency_us\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f,\"samples\":%" PRIu64
                  "},\"last_error\":%s,\"values\":{",
                  source.c_str(), midi_.client_id(), link_->midi.ports.load(), link_->midi.received.load(),
                  link_->midi.applied.load(), link_->midi.dropped.load(), link_->midi.ignored.load(),
                  link_->midi.overruns.load(), midi_programs_, midi_last_program_, midi_actions_,
                  midi_latency_.percentile(0.5), midi_latency_.percentile(0.99), midi_latency_.max_us(),
                  midi_latency_.count(), error.c_str());
    out += m;
    out += values;
    out += "}}";
  }
  out += "}\n";
  return out;
}

}  // namespace hushbox
