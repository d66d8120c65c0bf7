// The JACK backend: the engine as a JACK client. The chain runs in JACK's
// process callback under the audio thread's rules (no allocation, lock or
// system call: test/engine/rt-guard.test.ts); rate and period follow the
// server's. Everything else happens on the control thread (Engine::run_jack):
// connecting, and connecting again after the server went away (the engine
// waits for it meanwhile, keeping its parameters), and preparing the chain
// again when the server's period or rate changes, swapped in at a period's start.
#include <pthread.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "engine.h"

#ifdef HUSHBOX_HAVE_JACK
#include <jack/jack.h>
#include <jack/thread.h>
#endif

namespace hushbox {

std::vector<std::string> Engine::jack_input_names(uint32_t channels) {
  std::vector<std::string> names;
  for (uint32_t c = 0; c < channels; ++c)
    names.push_back(c == 0 ? "mic" : c == 1 ? "inst" : "inst_" + std::to_string(c));
  return names;
}

std::vector<std::string> Engine::jack_output_names(uint32_t channels) {
  if (channels == 1) return {"out"};
  std::vector<std::string> names{"out_left", "out_right"};
  for (uint32_t c = 2; c < channels; ++c) names.push_back("out_" + std::to_string(c + 1));
  return names;
}

#ifdef HUSHBOX_HAVE_JACK

struct JackState {
  jack_client_t* client = nullptr;
  jack_port_t* in[link::kMaxChannels] = {};
  jack_port_t* out[link::kMaxChannels] = {};
  bool active = false;                     // [control] process callbacks may run
  std::atomic<bool> gone{false};           // [jack → control] the server shut the client down
  std::atomic<uint64_t> xruns{0};          // [jack → audio] counted by the xrun callback
  uint64_t xruns_seen = 0;                 // [audio]
  std::atomic<uint32_t> server_rate{0};    // [jack → control] from the sample-rate callback
  std::atomic<uint32_t> server_frames{0};  // [jack → control] from the buffer-size callback
};

void JackStateDeleter::operator()(JackState* s) const noexcept { delete s; }

namespace {
// libjack prints its own complaints (no server...) to stderr; the engine says what matters once.
void jack_quiet(const char*) {}
}  // namespace

Status Engine::init_jack() {
  if (config_.io.channels > link::kMaxChannels)
    return Status::error("--channels " + std::to_string(config_.io.channels) + " is out of range (1..8)");
  if (config_.connect_in.size() > config_.io.channels)
    return Status::error("--connect in: lists " + std::to_string(config_.connect_in.size()) +
                         " ports, the engine has " + std::to_string(config_.io.channels) + " input(s)");
  if (config_.connect_out.size() > config_.io.channels)
    return Status::error("--connect out: lists " + std::to_string(config_.connect_out.size()) +
                         " ports, the engine has " + std::to_string(config_.io.channels) + " output(s)");
  if (config_.jack_name.empty() || config_.jack_name.size() > static_cast<size_t>(jack_client_name_size() - 1))
    return Status::error("--jack-name must be 1.." + std::to_string(jack_client_name_size() - 1) + " characters");
  jack_set_error_function(jack_quiet);
  jack_set_info_function(jack_quiet);
  jack_.reset(new JackState());
  // The server's rate and period when one runs now; otherwise the configured ones until it comes.
  jack_status_t status{};
  jack_client_t* probe = jack_client_open(config_.jack_name.c_str(), JackNoStartServer, &status);
  if (probe) {
    config_.io.rate = jack_get_sample_rate(probe);
    config_.io.frames = jack_get_buffer_size(probe);
    jack_client_close(probe);
    if (config_.io.frames > kJackMaxFrames)
      return Status::error("the JACK server's period (" + std::to_string(config_.io.frames) + " frames) is above " +
                           std::to_string(kJackMaxFrames));
  }
  return Status::success();
}

int Engine::jack_process_cb(uint32_t nframes, void* self) noexcept {
  return static_cast<Engine*>(self)->jack_process(nframes);
}

int Engine::jack_process(uint32_t nframes) noexcept {
  if (rt_guard_section_) rt_guard_section_(1);
  const int64_t t0 = now_ns();
  JackState& j = *jack_;
  adopt_pending_chain();
  const uint64_t xruns = j.xruns.load(std::memory_order_relaxed);
  while (j.xruns_seen < xruns) {
    ++j.xruns_seen;
    IoResult r;
    r.wake_ns = t0;
    count_xrun(r, link::XrunStream::kUnknown);  // JACK's xrun callback does not say which
  }
  jack_nframes_t cycle_frames = 0;
  jack_time_t cycle_usecs = 0, next_usecs = 0;
  float period_usecs = 0;
  if (jack_get_cycle_times(j.client, &cycle_frames, &cycle_usecs, &next_usecs, &period_usecs) == 0) {
    // How late the callback began after the period's start (JACK's clock is CLOCK_MONOTONIC too, in us).
    const int64_t late = (static_cast<int64_t>(jack_get_time()) - static_cast<int64_t>(cycle_usecs)) * 1000;
    jitter_.add(late);
    add_jitter_bin(late);
    telemetry_.jitter_us = static_cast<float>(late) / 1000.0f;
    if (telemetry_.jitter_us > telemetry_.jitter_max_us) telemetry_.jitter_max_us = telemetry_.jitter_us;
  }
  const uint32_t channels = config_.io.channels;
  if (nframes <= kJackMaxFrames) {
    for (uint32_t c = 0; c < channels; ++c) {
      const auto* src = static_cast<const float*>(jack_port_get_buffer(j.in[c], nframes));
      std::memcpy(planar_ptrs_[c], src, sizeof(float) * nframes);
      for (uint32_t f = 0; f < nframes; ++f) in_[f * channels + c] = src[f];  // the tap and recorder take it so
    }
    process_period(nframes, t0);
    for (uint32_t c = 0; c < channels; ++c) {
      auto* dst = static_cast<float*>(jack_port_get_buffer(j.out[c], nframes));
      std::memcpy(dst, planar_ptrs_[c], sizeof(float) * nframes);
    }
    // The processed mic is the chain's last piece: whole only when the period is one piece (not mid-swap).
    if (nframes <= chain_frames_in_use_) {
      tap_.push(in_.data(), channels, chain_->processed_mic(), planar_ptrs_.data(), channels, nframes);
      recorder_.push(in_.data(), channels, chain_->processed_mic(), planar_ptrs_.data(), channels, nframes);
      spectrum_.push(in_.data(), channels, planar_ptrs_.data(), channels, nframes);
    }
  } else {
    for (uint32_t c = 0; c < channels; ++c)
      std::memset(jack_port_get_buffer(j.out[c], nframes), 0, sizeof(float) * nframes);
  }
  const int64_t t1 = now_ns();
  ++telemetry_.periods_processed;
  const double period_ns = 1e9 * nframes / (telemetry_.rate ? telemetry_.rate : 48000);
  const float load = static_cast<float>(static_cast<double>(t1 - t0) / period_ns);
  telemetry_.dsp_load = load;
  load_sum_ += load;
  telemetry_.dsp_load_mean = static_cast<float>(load_sum_ / static_cast<double>(telemetry_.periods_processed));
  if (load > telemetry_.dsp_load_max) telemetry_.dsp_load_max = load;
  publish(t1);
  if (rt_guard_section_) rt_guard_section_(0);
  return 0;
}

void Engine::jack_set_latencies(int mode) noexcept {
  JackState& j = *jack_;
  const uint32_t n = config_.io.channels;
  const uint32_t chain = chain_latency_.load(std::memory_order_relaxed);
  const auto m = static_cast<jack_latency_callback_mode_t>(mode);
  // Capture: what reaches our outputs left the world the inputs' latency plus the chain's ago;
  // playback: what enters our inputs reaches the world the outputs' latency plus the chain's later.
  jack_port_t** from = m == JackCaptureLatency ? j.in : j.out;
  jack_port_t** to = m == JackCaptureLatency ? j.out : j.in;
  jack_latency_range_t range{~0u, 0};
  for (uint32_t c = 0; c < n; ++c) {
    jack_latency_range_t r;
    jack_port_get_latency_range(from[c], m, &r);
    if (r.min < range.min) range.min = r.min;
    if (r.max > range.max) range.max = r.max;
  }
  if (range.min > range.max) range.min = range.max;
  range.min += chain;
  range.max += chain;
  for (uint32_t c = 0; c < n; ++c) jack_port_set_latency_range(to[c], m, &range);
}

void Engine::jack_prepare_for(uint32_t rate, uint32_t frames) noexcept {
  if (rate == chain_rate_ && frames == chain_frames_) return;
  if (frames > kJackMaxFrames || rate < 8000 || rate > 384000) {
    std::fprintf(stderr,
                 "hushbox-engine: the JACK server's %u Hz / %u frames are out of range; the chain keeps %u / %u\n",
                 rate, frames, chain_rate_, chain_frames_);
    return;
  }
  // One swap at a time: the audio thread takes a pending chain within a period.
  for (int i = 0; i < 2000 && pending_chain_.load(std::memory_order_acquire); ++i) sleep_until_ns(now_ns() + 1'000'000);
  if (pending_chain_.load(std::memory_order_acquire)) return;  // not taken in 2 s: the callback does not run; next time
  std::string error;
  try {
    auto next = prepare_chain(rate, frames, error);
    if (!next) {
      std::fprintf(stderr, "hushbox-engine: %s\n", error.c_str());
      return;
    }
    pending_owner_ = std::move(next);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "hushbox-engine: out of memory preparing the chain for %u Hz / %u frames\n", rate, frames);
    return;
  }
  chain_rate_ = rate;
  chain_frames_ = frames;
  pending_rate_ = rate;
  pending_frames_ = frames;
  pending_chain_.store(pending_owner_.get(), std::memory_order_release);
  if (!jack_->active) adopt_pending_chain();  // no callback runs: the control thread owns the audio state
}

bool Engine::jack_open() noexcept {
  JackState& j = *jack_;
  jack_status_t status{};
  j.client = jack_client_open(config_.jack_name.c_str(), JackNoStartServer, &status);
  if (!j.client) return false;
  j.gone.store(false);
  j.active = false;
  const uint32_t rate = jack_get_sample_rate(j.client);
  const uint32_t frames = jack_get_buffer_size(j.client);
  j.server_rate.store(rate);
  j.server_frames.store(frames);
  jack_prepare_for(rate, frames);
  const auto ins = jack_input_names(config_.io.channels);
  const auto outs = jack_output_names(config_.io.channels);
  bool ok = true;
  for (uint32_t c = 0; c < config_.io.channels && ok; ++c) {
    j.in[c] = jack_port_register(j.client, ins[c].c_str(), JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    j.out[c] = jack_port_register(j.client, outs[c].c_str(), JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
    ok = j.in[c] && j.out[c];
  }
  ok = ok && jack_set_process_callback(j.client, &Engine::jack_process_cb, this) == 0;
  ok = ok && jack_set_xrun_callback(
                 j.client,
                 [](void* arg) -> int {
                   static_cast<JackState*>(arg)->xruns.fetch_add(1, std::memory_order_relaxed);
                   return 0;
                 },
                 &j) == 0;
  ok = ok && jack_set_buffer_size_callback(
                 j.client,
                 [](jack_nframes_t n, void* arg) -> int {
                   static_cast<JackState*>(arg)->server_frames.store(n);
                   return 0;
                 },
                 &j) == 0;
  ok = ok && jack_set_sample_rate_callback(
                 j.client,
                 [](jack_nframes_t n, void* arg) -> int {
                   static_cast<JackState*>(arg)->server_rate.store(n);
                   return 0;
                 },
                 &j) == 0;
  ok = ok && jack_set_latency_callback(
                 j.client,
                 [](jack_latency_callback_mode_t mode, void* self) {
                   static_cast<Engine*>(self)->jack_set_latencies(static_cast<int>(mode));
                 },
                 this) == 0;
  ok = ok && jack_set_thread_init_callback(
                 j.client, [](void*) { flush_denormals(); },  // every thread libjack starts for the client
                 nullptr) == 0;
  if (!ok) {
    std::fprintf(stderr, "hushbox-engine: cannot set up the JACK client '%s'\n", config_.jack_name.c_str());
    jack_client_close(j.client);
    j.client = nullptr;
    return false;
  }
  jack_on_info_shutdown(
      j.client, [](jack_status_t, const char*, void* arg) { static_cast<JackState*>(arg)->gone.store(true); }, &j);
  telemetry_.realtime = jack_is_realtime(j.client) ? 1 : 0;
  // The real-time setup is the server's: its priority, and the denormal flushing of the thread init callback.
  rt_report_.fifo = telemetry_.realtime != 0;
  rt_report_.priority = rt_report_.fifo ? jack_client_real_time_priority(j.client) : 0;
  rt_report_.denormals_flushed = flush_denormals();
  telemetry_.periods = 0;  // JACK's buffering is the server's
  // From jack_activate on, the process callback owns the telemetry and the event queue.
  set_state(link::EngineState::kRunning);
  j.active = true;
  if (jack_activate(j.client) != 0) {
    j.active = false;
    std::fprintf(stderr, "hushbox-engine: cannot activate the JACK client '%s'\n", config_.jack_name.c_str());
    jack_client_close(j.client);
    j.client = nullptr;
    return false;
  }
  // JACK's process thread, named as the engine's audio thread (for ps and top).
  pthread_setname_np(jack_client_thread_id(j.client), "hb-audio");
  std::fprintf(stderr, "hushbox-engine: JACK client '%s' running at %u Hz, %u frames\n", jack_get_client_name(j.client),
               rate, frames);
  auto connect = [&](const std::vector<std::string>& ports, jack_port_t** ours, bool input) {
    for (size_t i = 0; i < ports.size(); ++i) {
      if (ports[i].empty()) continue;
      const char* mine = jack_port_name(ours[i]);
      const int rc =
          input ? jack_connect(j.client, ports[i].c_str(), mine) : jack_connect(j.client, mine, ports[i].c_str());
      if (rc != 0 && rc != EEXIST)
        std::fprintf(stderr, "hushbox-engine: cannot connect JACK port '%s' %s '%s'\n", ports[i].c_str(),
                     input ? "to" : "from", mine);
    }
  };
  connect(config_.connect_in, j.in, true);
  connect(config_.connect_out, j.out, false);
  return true;
}

void Engine::jack_close() noexcept {
  JackState& j = *jack_;
  if (!j.client) return;
  jack_client_close(j.client);  // joins the process thread
  j.client = nullptr;
  j.active = false;
  for (auto& p : j.in) p = nullptr;
  for (auto& p : j.out) p = nullptr;
}

Status Engine::run_jack() {
  JackState& j = *jack_;
  if (Status ts = tap_.start(); !ts) return ts;
  if (Status rs = recorder_.start(); !rs) return rs;
  if (Status ss = spectrum_.start(); !ss) return ss;
  started_ns_ = now_ns();
  const int64_t deadline = config_.duration_s > 0 ? started_ns_ + static_cast<int64_t>(config_.duration_s * 1e9) : 0;
  int64_t next_try = 0;
  bool waiting = false;
  while (!stop_.load(std::memory_order_relaxed)) {
    const int64_t now = now_ns();
    if (deadline && now >= deadline) break;
    link_->housekeeping_heartbeat.count.fetch_add(1, std::memory_order_relaxed);
    link_->housekeeping_heartbeat.time_ns.store(static_cast<uint64_t>(now), std::memory_order_release);
    if (j.client && j.gone.load()) {
      std::fprintf(stderr, "hushbox-engine: the JACK server went away; waiting for it\n");
      jack_close();
      post_event(link::EventType::kDeviceError, 0, ENODEV, 0.0f);
      next_try = now + 200'000'000;
    }
    if (!j.client) {
      if (now >= next_try) {
        if (jack_open()) {
          waiting = false;
          continue;
        }
        next_try = now + 250'000'000;
      }
      if (!waiting) {
        // No server (yet, or any more): say so, keep the heartbeat and the parameters going.
        waiting = true;
        if (telemetry_.device_waits == 0 || telemetry_.state == link::EngineState::kRunning)
          std::fprintf(stderr, "hushbox-engine: no JACK server; waiting for one\n");
        ++telemetry_.device_waits;
        set_state(link::EngineState::kWaitingForDevice);
      }
      drain_commands();
      drain_midi(now);
      adopt_pending_chain();
      if (chain_swapped_.exchange(false)) chain_owner_ = std::move(pending_owner_);
      publish(now);
      sleep_until_ns(now + 20'000'000);
      continue;
    }
    // The server changed its period or rate: a chain for them, prepared here, swapped in by the callback.
    jack_prepare_for(j.server_rate.load(), j.server_frames.load());
    if (chain_swapped_.exchange(false, std::memory_order_acq_rel)) {
      chain_owner_ = std::move(pending_owner_);
      jack_recompute_total_latencies(j.client);
    }
    sleep_until_ns(now + 5'000'000);
  }
  jack_close();
  tap_.stop();
  recorder_.stop();
  spectrum_.stop();
  if (chain_swapped_.exchange(false)) chain_owner_ = std::move(pending_owner_);
  final_state_ = telemetry_.state;
  ended_ns_ = now_ns();
  set_state(link::EngineState::kStopped);
  link_->telemetry.store(telemetry_);
  finished_.store(true, std::memory_order_release);
  return Status::success();
}

#else  // built without libjack

struct JackState {};
void JackStateDeleter::operator()(JackState* s) const noexcept { delete s; }

Status Engine::init_jack() {
  return Status::error("this hushbox-engine was built without JACK (install libjack-jackd2-dev and rebuild)");
}
Status Engine::run_jack() { return Status::error("built without JACK"); }
bool Engine::jack_open() noexcept { return false; }
void Engine::jack_close() noexcept {}
void Engine::jack_prepare_for(uint32_t, uint32_t) noexcept {}
void Engine::jack_set_latencies(int) noexcept {}
int Engine::jack_process(uint32_t) noexcept { return 0; }
int Engine::jack_process_cb(uint32_t, void*) noexcept { return 0; }

#endif

}  // namespace hushbox
