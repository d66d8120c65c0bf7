// hushbox-jack-probe: a JACK client pair for test/engine/jack.test.ts. A source
// client plays a known signal (a different one per channel, each sample a
// function of JACK's frame time) into the ports given by --to; a sink client
// records the ports given by --from. Two clients, so the graph has no cycle and
// each hop adds no period of its own. At the end it finds, per recorded
// channel, the delay at which the recording equals the source channel of the
// same number sample for sample, and prints JSON: the delay, how many samples
// it compared and how many differed, the latency JACK reports for the ports,
// JACK's DSP load, and the xruns the clients saw.
//
//   hushbox-jack-probe --to P1[,P2] --from Q1[,Q2] [--seconds S] [--stall-ms MS] [--name PREFIX]
//
// --stall-ms: at one second in, the source's callback spins this long once
// (an xrun for the whole graph).
#include <jack/jack.h>
#include <time.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int kMax = 8;

float signal_at(uint32_t frame, int channel) {
  uint32_t h = frame * 2654435761u ^ (static_cast<uint32_t>(channel + 1) * 40503u);
  h ^= h >> 15;
  h *= 2246822519u;
  h ^= h >> 13;
  h *= 3266489917u;
  h ^= h >> 16;
  // 24-bit steps in [-0.5, 0.5): exact in float, never denormal.
  return static_cast<float>(static_cast<int32_t>(h >> 8) - (1 << 23)) / static_cast<float>(1 << 24);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

struct Source {
  jack_client_t* client = nullptr;
  jack_port_t* ports[kMax] = {};
  int n = 0;
  double stall_ms = 0;
  uint32_t rate = 48000;
  std::atomic<uint64_t> cycles{0};
  bool stalled = false;
};

struct Sink {
  jack_client_t* client = nullptr;
  jack_port_t* ports[kMax] = {};
  int n = 0;
  std::vector<float> rec[kMax];
  std::atomic<bool> started{false};
  uint32_t first_frame = 0;
  std::atomic<uint64_t> written{0};
};

std::atomic<int> g_xruns{0};

int source_process(jack_nframes_t nframes, void* arg) {
  auto& s = *static_cast<Source*>(arg);
  const uint32_t t = jack_last_frame_time(s.client);
  for (int c = 0; c < s.n; ++c) {
    auto* out = static_cast<float*>(jack_port_get_buffer(s.ports[c], nframes));
    for (uint32_t i = 0; i < nframes; ++i) out[i] = signal_at(t + i, c);
  }
  const uint64_t k = s.cycles.fetch_add(1) + 1;
  if (s.stall_ms > 0 && !s.stalled && k * nframes >= s.rate) {
    s.stalled = true;
    timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do clock_gettime(CLOCK_MONOTONIC, &b);
    while ((b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6 < s.stall_ms);
  }
  return 0;
}

int sink_process(jack_nframes_t nframes, void* arg) {
  auto& s = *static_cast<Sink*>(arg);
  const uint32_t t = jack_last_frame_time(s.client);
  if (!s.started.load(std::memory_order_relaxed)) {
    s.first_frame = t;
    s.started.store(true, std::memory_order_release);
  }
  const uint64_t pos = static_cast<uint32_t>(t - s.first_frame);
  for (int c = 0; c < s.n; ++c) {
    const auto* in = static_cast<const float*>(jack_port_get_buffer(s.ports[c], nframes));
    auto& r = s.rec[c];
    for (uint32_t i = 0; i < nframes && pos + i < r.size(); ++i) r[pos + i] = in[i];
  }
  s.written.store(pos + nframes, std::memory_order_release);
  return 0;
}

int on_xrun(void*) {
  g_xruns.fetch_add(1);
  return 0;
}

int fail(const std::string& m) {
  std::fprintf(stderr, "hushbox-jack-probe: %s\n", m.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> to, from;
  double seconds = 3, stall_ms = 0;
  std::string name = "hbprobe";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return fail(a + " needs a value");
    const std::string v = argv[++i];
    if (a == "--to")
      to = split(v);
    else if (a == "--from")
      from = split(v);
    else if (a == "--seconds")
      seconds = std::atof(v.c_str());
    else if (a == "--stall-ms")
      stall_ms = std::atof(v.c_str());
    else if (a == "--name")
      name = v;
    else
      return fail("unknown option '" + a + "'");
  }
  if (to.empty() || from.empty() || to.size() > kMax || from.size() > kMax || !(seconds > 0))
    return fail("usage: --to P1[,P2] --from Q1[,Q2] [--seconds S] [--stall-ms MS] [--name PREFIX]");

  Source src;
  Sink sink;
  jack_status_t st{};
  src.client = jack_client_open((name + "_src").c_str(), JackNoStartServer, &st);
  sink.client = jack_client_open((name + "_sink").c_str(), JackNoStartServer, &st);
  if (!src.client || !sink.client) return fail("no JACK server");
  src.rate = jack_get_sample_rate(src.client);
  src.stall_ms = stall_ms;
  src.n = static_cast<int>(to.size());
  sink.n = static_cast<int>(from.size());
  const size_t capacity = static_cast<size_t>(seconds * src.rate) + 16384;
  for (int c = 0; c < src.n; ++c)
    src.ports[c] = jack_port_register(src.client, ("out_" + std::to_string(c + 1)).c_str(), JACK_DEFAULT_AUDIO_TYPE,
                                      JackPortIsOutput, 0);
  for (int c = 0; c < sink.n; ++c) {
    sink.ports[c] = jack_port_register(sink.client, ("in_" + std::to_string(c + 1)).c_str(), JACK_DEFAULT_AUDIO_TYPE,
                                       JackPortIsInput, 0);
    sink.rec[c].assign(capacity, NAN);
  }
  jack_set_process_callback(src.client, source_process, &src);
  jack_set_process_callback(sink.client, sink_process, &sink);
  jack_set_xrun_callback(sink.client, on_xrun, nullptr);
  if (jack_activate(src.client) || jack_activate(sink.client)) return fail("cannot activate");
  for (int c = 0; c < src.n; ++c)
    if (jack_connect(src.client, jack_port_name(src.ports[c]), to[c].c_str()) != 0)
      return fail("cannot connect to " + to[c]);
  for (int c = 0; c < sink.n; ++c)
    if (jack_connect(sink.client, from[c].c_str(), jack_port_name(sink.ports[c])) != 0)
      return fail("cannot connect from " + from[c]);

  const uint64_t want = static_cast<uint64_t>(seconds * src.rate);
  double load_sum = 0;
  int load_n = 0;
  for (int waited = 0; sink.written.load(std::memory_order_acquire) < want; waited += 50) {
    if (waited > (seconds + 10) * 1000) return fail("the sink stopped receiving");
    timespec ts{0, 50'000'000};
    nanosleep(&ts, nullptr);
    if (waited > 500) {
      load_sum += jack_cpu_load(sink.client);
      ++load_n;
    }
  }
  jack_latency_range_t cap{}, play{};
  jack_port_t* engine_out = jack_port_by_name(sink.client, from[0].c_str());
  jack_port_t* engine_in = jack_port_by_name(sink.client, to[0].c_str());
  if (engine_out) jack_port_get_latency_range(engine_out, JackCaptureLatency, &cap);
  if (engine_in) jack_port_get_latency_range(engine_in, JackPlaybackLatency, &play);
  const uint32_t frames = jack_get_buffer_size(sink.client);
  jack_deactivate(sink.client);
  jack_deactivate(src.client);

  // The recording's frame k was played at first_frame + k; it should equal the source's signal d frames earlier.
  const uint64_t written = std::min<uint64_t>(sink.written.load(), capacity);
  const uint64_t half = written / 2;  // the second half: long after every connection was made
  std::string out = "{\"rate\":" + std::to_string(src.rate) + ",\"frames\":" + std::to_string(frames) +
                    ",\"xruns\":" + std::to_string(g_xruns.load()) + ",\"capture_latency\":[" +
                    std::to_string(cap.min) + "," + std::to_string(cap.max) + "],\"playback_latency\":[" +
                    std::to_string(play.min) + "," + std::to_string(play.max) +
                    "],\"cpu_load\":" + std::to_string(load_n ? load_sum / load_n : -1.0) + ",\"channels\":[";
  for (int c = 0; c < sink.n; ++c) {
    const auto& r = sink.rec[c];
    long delay = -1;
    for (long d = 0; d < 16384 && delay < 0; ++d) {
      bool all = true;
      for (uint64_t k = half; k < half + 256 && all; ++k)
        all = r[k] == signal_at(static_cast<uint32_t>(sink.first_frame + k - d), c);
      if (all) delay = d;
    }
    // missing: frames the sink's callback never ran for (JACK skipped the cycle for the whole graph);
    // after_gap: the first `delay` frames after a gap, which hold what sat in the engine's delay line
    // before it; differed: any other recorded frame not equal to the source's.
    uint64_t compared = 0, differed = 0, missing = 0, after_gap = 0, gaps = 0;
    if (delay >= 0) {
      uint64_t since_gap = ~0ull;
      for (uint64_t k = half; k < written; ++k) {
        if (std::isnan(r[k])) {
          if (since_gap != 0) ++gaps;
          since_gap = 0;
          ++missing;
          continue;
        }
        ++compared;
        const bool equal = r[k] == signal_at(static_cast<uint32_t>(sink.first_frame + k - delay), c);
        if (!equal && since_gap < static_cast<uint64_t>(delay))
          ++after_gap;
        else if (!equal)
          ++differed;
        if (since_gap != ~0ull) ++since_gap;
      }
    }
    out += std::string(c ? "," : "") + "{\"delay\":" + std::to_string(delay) +
           ",\"compared\":" + std::to_string(compared) + ",\"differed\":" + std::to_string(differed) +
           ",\"missing\":" + std::to_string(missing) + ",\"gaps\":" + std::to_string(gaps) +
           ",\"after_gap\":" + std::to_string(after_gap) + "}";
  }
  out += "]}\n";
  std::fputs(out.c_str(), stdout);
  jack_client_close(sink.client);
  jack_client_close(src.client);
  return 0;
}
