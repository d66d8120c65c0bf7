#include "latency.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "backend.h"
#include "cli_args.h"
#include "rt.h"

namespace hushbox {

std::vector<float> mls_signal(uint32_t order, float amplitude) {
  // Right-shifting LFSR feedback masks with period 2^order - 1 (checked in the unit test).
  static const uint32_t kTaps[] = {0, 0, 0, 0, 0, 0, 0, 0, 0x87, 0x11, 0x9, 0x5, 0x107, 0x27, 0x1007, 0x3, 0x100b};
  if (order < 8 || order > 16) return {};
  const uint32_t n = (1u << order) - 1;
  std::vector<float> out(n);
  uint32_t state = 1;
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = (state & 1u) ? amplitude : -amplitude;
    const uint32_t bit = static_cast<uint32_t>(__builtin_popcount(state & kTaps[order]) & 1);
    state = (state >> 1) | (bit << (order - 1));
  }
  return out;
}

LoopbackMatch find_signal(const std::vector<float>& played, const std::vector<float>& captured, uint32_t max_lag) {
  LoopbackMatch m;
  double energy = 0.0;
  for (float x : played) energy += static_cast<double>(x) * x;
  if (energy <= 0.0 || captured.size() < played.size()) return m;
  const size_t last = captured.size() - played.size();
  const size_t lags = max_lag < last ? max_lag : last;
  double best = 0.0;
  for (size_t lag = 0; lag <= lags; ++lag) {
    double acc = 0.0;
    const float* c = captured.data() + lag;
    for (size_t i = 0; i < played.size(); ++i) acc += static_cast<double>(played[i]) * c[i];
    if (acc > best) {
      best = acc;
      m.lag = static_cast<uint32_t>(lag);
    }
  }
  m.correlation = best / energy;
  m.found = m.correlation > 0.5;
  return m;
}

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "hushbox-engine: latency: %s\n", message.c_str());
  return 2;
}

}  // namespace

int run_latency_command(const std::vector<std::string>& args) {
  IoConfig io;
  io.frames = 256;
  io.periods = 2;
  io.drift_correction = false;  // the round trip of the devices as they are, sample for sample
  std::string backend_name = "alsa";
  bool json = false;
  int priority = 70;
  std::string error;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) { return cli::take_value(args, i, out, error); };
    std::string v;
    bool ok = true;
    uint32_t u = 0;
    if (a == "--device")
      ok = value(io.device);
    else if (a == "--capture-device")
      ok = value(io.capture_device);
    else if (a == "--backend")
      ok = value(backend_name);
    else if (a == "--input")
      ok = value(io.input);
    else if (a == "--rate")
      ok = value(v) && cli::parse_uint(a, v, io.rate, error);
    else if (a == "--frames")
      ok = value(v) && cli::parse_uint(a, v, io.frames, error);
    else if (a == "--periods")
      ok = value(v) && cli::parse_uint(a, v, io.periods, error);
    else if (a == "--channels")
      ok = value(v) && cli::parse_uint(a, v, io.channels, error);
    else if (a == "--priority") {
      ok = value(v) && cli::parse_uint(a, v, u, error);
      priority = static_cast<int>(u);
    } else if (a == "--json")
      json = true;
    else {
      error = "unknown option '" + a + "'";
      ok = false;
    }
    if (!ok) return fail(error);
  }
  if (io.rate < 8000 || io.rate > 384000) return fail("--rate must be 8000..384000");
  if (io.periods < 2 || io.periods > 16) return fail("--periods must be 2..16");
  if (io.channels < 1 || io.channels > 8) return fail("--channels must be 1..8");

  std::unique_ptr<Backend> backend = make_backend(backend_name);
  if (!backend) return fail("unknown backend '" + backend_name + "'");
  Status s = backend->open(io);
  if (!s) return fail(s.message);

  // Silence, the MLS on channel 0 (inverted on channel 1), then room for up to half a second of latency.
  const std::vector<float> mls = mls_signal(11, 0.5f);
  const uint32_t lead = io.rate / 5;
  const uint32_t max_lag = io.rate / 2;
  const uint32_t total_frames = lead + static_cast<uint32_t>(mls.size()) + max_lag + io.frames;
  const uint32_t blocks = (total_frames + io.frames - 1) / io.frames;
  std::vector<float> out(static_cast<size_t>(io.frames) * io.channels, 0.0f);
  std::vector<float> in(static_cast<size_t>(io.frames) * io.channels, 0.0f);
  std::vector<float> played0(static_cast<size_t>(blocks) * io.frames, 0.0f);
  std::vector<float> captured0(played0.size(), 0.0f);
  std::vector<float> captured1(played0.size(), 0.0f);
  for (size_t i = 0; i < mls.size(); ++i) played0[lead + i] = mls[i];

  RtConfig rt;
  rt.priority = priority;
  setup_realtime_thread(rt, false);
  backend->start();
  uint32_t xruns = 0;
  for (uint32_t b = 0; b < blocks; ++b) {
    const IoResult r = backend->read(in.data(), io.frames);
    if (r.kind == IoResult::Kind::kWaiting) {
      backend->stop();
      backend->close();
      return fail("no device: cannot open " + (io.device.empty() ? std::string("hw:Gen") : io.device));
    }
    if (r.kind == IoResult::Kind::kXrun) ++xruns;
    if (r.kind == IoResult::Kind::kEnd || r.kind == IoResult::Kind::kError) break;
    for (uint32_t f = 0; f < io.frames; ++f) {
      const size_t at = static_cast<size_t>(b) * io.frames + f;
      captured0[at] = in[f * io.channels];
      if (io.channels > 1) captured1[at] = in[f * io.channels + 1];
      out[f * io.channels] = played0[at];
      if (io.channels > 1) out[f * io.channels + 1] = -played0[at];
    }
    const IoResult w = backend->write(out.data(), io.frames);
    if (w.kind == IoResult::Kind::kXrun) ++xruns;
  }
  backend->stop();
  backend->close();

  std::vector<float> padded(lead + mls.size(), 0.0f);
  for (size_t i = 0; i < mls.size(); ++i) padded[lead + i] = mls[i];
  // Search the capture for the signal as played (lead-in included, so the lag is the round trip).
  const LoopbackMatch m = find_signal(padded, captured0, max_lag);
  bool exact = m.found && xruns == 0;
  if (exact) {
    for (size_t i = 0; i < captured0.size(); ++i) {
      const size_t src = i >= m.lag ? i - m.lag : played0.size();
      const float want = src < played0.size() ? played0[src] : 0.0f;
      if (captured0[i] != want || (io.channels > 1 && captured1[i] != -want)) {
        exact = false;
        break;
      }
    }
  }
  const double ms = 1000.0 * m.lag / io.rate;
  if (json) {
    std::printf(
        "{\"found\":%s,\"frames\":%u,\"ms\":%.3f,\"correlation\":%.4f,\"bit_exact\":%s,\"xruns\":%u,"
        "\"rate\":%u,\"period\":%u,\"periods\":%u,\"reported_frames\":%u}\n",
        m.found ? "true" : "false", m.lag, ms, m.correlation, exact ? "true" : "false", xruns, io.rate, io.frames,
        io.periods, backend->latency_frames());
  } else if (m.found) {
    std::printf("round trip: %u frames = %.3f ms at %u Hz (correlation %.3f%s%s)\n", m.lag, ms, io.rate, m.correlation,
                exact ? ", bit-exact" : "", xruns ? ", xruns during the measurement" : "");
  } else {
    std::printf("signal not found in the capture (best correlation %.3f): is the output looped back to the input?\n",
                m.correlation);
  }
  return m.found ? 0 : 1;
}

}  // namespace hushbox
