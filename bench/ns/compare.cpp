// Noise suppression compared side by side on the same noisy speech: hushbox's
// NoiseSuppressor, speexdsp's preprocessor (denoise, -30 dB) and WebRTC's noise
// suppression (webrtc-audio-processing 0.3). Per noise type and SNR: SI-SDR
// improvement (each method aligned by its own measured delay), noise
// attenuation in speech pauses, log-spectral distance; per method: measured
// delay (cross-correlation) and CPU time per second of audio.
//
//   compare DATA_DIR [--json FILE] [--strength S] [--floor DB] [--quick]
//           [--methods hushbox,speexdsp,webrtc] [--webrtc-level 0..3] [--write
//           DIR]
//
// DATA_DIR is what make-dataset.sh wrote (speech/*.wav, noise/*.wav).
#include <speex/speex_preprocess.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "dsp/noise_suppressor.h"
#include "dsp/real_fft.h"
#include "engine/wav.h"
#include "webrtc/modules/audio_processing/include/audio_processing.h"

namespace fs = std::filesystem;
using hushbox::dsp::NoiseSuppressor;
using hushbox::dsp::RealFft;

namespace {

constexpr double kRate = 48000.0;
constexpr size_t kLead = 24000; // 0.5 s of noise before the speech
constexpr size_t kTail = 14400; // 0.3 s after
constexpr size_t kFrame10ms = 480;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct Method {
  virtual ~Method() = default;
  virtual const char *name() const = 0;
  // Fresh state, then the whole signal in the method's natural block size.
  virtual void run(const std::vector<float> &in, std::vector<float> &out) = 0;
};

struct Hushbox : Method {
  float strength, floor_db;
  uint32_t block;
  NoiseSuppressor ns;
  Hushbox(float s, float f, uint32_t b) : strength(s), floor_db(f), block(b) {}
  const char *name() const override { return "hushbox"; }
  void run(const std::vector<float> &in, std::vector<float> &out) override {
    ns.set_strength(strength);
    ns.set_floor_db(floor_db);
    ns.prepare({kRate, block, 1});
    out = in;
    for (size_t i = 0; i < out.size(); i += block)
      ns.process(out.data() + i, static_cast<uint32_t>(
                                     std::min<size_t>(block, out.size() - i)));
  }
};

struct Speex : Method {
  const char *name() const override { return "speexdsp"; }
  void run(const std::vector<float> &in, std::vector<float> &out) override {
    SpeexPreprocessState *st =
        speex_preprocess_state_init(kFrame10ms, static_cast<int>(kRate));
    int on = 1, off = 0, suppress = -30;
    speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_DENOISE, &on);
    speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &suppress);
    speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_AGC, &off);
    speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_DEREVERB, &off);
    out.assign(in.size(), 0.0f);
    spx_int16_t frame[kFrame10ms];
    for (size_t i = 0; i < in.size(); i += kFrame10ms) {
      const size_t n = std::min(kFrame10ms, in.size() - i);
      for (size_t j = 0; j < kFrame10ms; ++j) {
        const float v = j < n ? in[i + j] * 32768.0f : 0.0f;
        frame[j] = static_cast<spx_int16_t>(
            std::lrint(std::clamp(v, -32768.0f, 32767.0f)));
      }
      speex_preprocess_run(st, frame);
      for (size_t j = 0; j < n; ++j)
        out[i + j] = frame[j] / 32768.0f;
    }
    speex_preprocess_state_destroy(st);
  }
};

struct WebRtc : Method {
  int level;
  explicit WebRtc(int l) : level(l) {}
  const char *name() const override { return "webrtc"; }
  void run(const std::vector<float> &in, std::vector<float> &out) override {
    std::unique_ptr<webrtc::AudioProcessing> apm(
        webrtc::AudioProcessing::Create());
    apm->noise_suppression()->set_level(
        static_cast<webrtc::NoiseSuppression::Level>(level));
    apm->noise_suppression()->Enable(true);
    const webrtc::StreamConfig config(static_cast<int>(kRate), 1);
    out.assign(in.size(), 0.0f);
    float buffer[kFrame10ms];
    for (size_t i = 0; i < in.size(); i += kFrame10ms) {
      const size_t n = std::min(kFrame10ms, in.size() - i);
      for (size_t j = 0; j < kFrame10ms; ++j)
        buffer[j] = j < n ? in[i + j] : 0.0f;
      const float *src[1] = {buffer};
      float *dst[1] = {buffer};
      if (apm->ProcessStream(src, config, config, dst) != 0) {
        std::fprintf(stderr, "compare: webrtc ProcessStream failed\n");
        std::exit(1);
      }
      for (size_t j = 0; j < n; ++j)
        out[i + j] = buffer[j];
    }
  }
};

double power(const float *x, size_t n) {
  double e = 0.0;
  for (size_t i = 0; i < n; ++i)
    e += static_cast<double>(x[i]) * x[i];
  return n ? e / n : 0.0;
}

double db(double r) { return 10.0 * std::log10(std::max(r, 1e-30)); }

// Lag 0..max_lag at which `y` best matches `x` over x[from..to).
size_t best_lag(const std::vector<float> &x, const std::vector<float> &y,
                size_t from, size_t to, size_t max_lag) {
  size_t best = 0;
  double best_c = -1e300;
  for (size_t lag = 0; lag <= max_lag; ++lag) {
    double c = 0.0;
    for (size_t i = from; i < to && i + lag < y.size(); ++i)
      c += static_cast<double>(x[i]) * y[i + lag];
    if (c > best_c) {
      best_c = c;
      best = lag;
    }
  }
  return best;
}

double si_sdr(const std::vector<float> &ref, const std::vector<float> &y,
              size_t lag, size_t from, size_t to) {
  double xy = 0.0, xx = 0.0;
  for (size_t i = from; i < to; ++i) {
    const double yv = i + lag < y.size() ? y[i + lag] : 0.0;
    xy += ref[i] * yv;
    xx += static_cast<double>(ref[i]) * ref[i];
  }
  const double a = xy / xx;
  double s = 0.0, e = 0.0;
  for (size_t i = from; i < to; ++i) {
    const double yv = i + lag < y.size() ? y[i + lag] : 0.0;
    const double t = a * ref[i];
    s += t * t;
    e += (yv - t) * (yv - t);
  }
  return db(s / e);
}

// Mean log-spectral distance (dB) over frames where the clean speech is
// active, 50 Hz .. 8 kHz.
double lsd(RealFft &fft, const std::vector<float> &ref,
           const std::vector<float> &y, size_t lag, size_t from, size_t to,
           double active_power) {
  const uint32_t n = 1024, hop = 512;
  std::vector<float> frame(n), re(n / 2 + 1), im(n / 2 + 1), pr(n / 2 + 1);
  const uint32_t k0 = 2, k1 = static_cast<uint32_t>(8000.0 / kRate * n);
  double total = 0.0;
  int frames = 0;
  for (size_t start = from; start + n <= to; start += hop) {
    if (power(ref.data() + start, n) < active_power * 0.01)
      continue;
    for (uint32_t i = 0; i < n; ++i)
      frame[i] = ref[start + i] *
                 static_cast<float>(0.5 - 0.5 * std::cos(2.0 * M_PI * i / n));
    fft.forward(frame.data(), re.data(), im.data());
    for (uint32_t k = 0; k <= n / 2; ++k)
      pr[k] = re[k] * re[k] + im[k] * im[k];
    for (uint32_t i = 0; i < n; ++i) {
      const size_t t = start + i + lag;
      frame[i] = (t < y.size() ? y[t] : 0.0f) *
                 static_cast<float>(0.5 - 0.5 * std::cos(2.0 * M_PI * i / n));
    }
    fft.forward(frame.data(), re.data(), im.data());
    double peak = 0.0;
    for (uint32_t k = k0; k <= k1; ++k)
      peak = std::max(peak, static_cast<double>(pr[k]));
    const double eps = peak * 1e-6 + 1e-20;
    double d2 = 0.0;
    for (uint32_t k = k0; k <= k1; ++k) {
      const double py = static_cast<double>(re[k]) * re[k] +
                        static_cast<double>(im[k]) * im[k];
      const double d = db(pr[k] + eps) - db(py + eps);
      d2 += d * d;
    }
    total += std::sqrt(d2 / (k1 - k0 + 1));
    ++frames;
  }
  return frames ? total / frames : 0.0;
}

struct Item {
  std::string speech, noise;
  bool steady = true;
  double snr = 0.0;
  std::vector<float> clean, noisy;
  size_t speech_len = 0;
  double speech_power = 0.0;
  std::vector<char> pause; // per sample: a pause in the speech (noise only)
};

struct Score {
  double sisdr_in = 0, sisdr_out = 0, pause_att = 0, lsd = 0;
};

std::vector<float> load(const fs::path &p) {
  hushbox::WavData w;
  const auto st = hushbox::read_wav(p.string(), w);
  if (!st.ok) {
    std::fprintf(stderr, "compare: %s\n", st.message.c_str());
    std::exit(1);
  }
  if (w.rate != kRate || w.channels != 1) {
    std::fprintf(stderr, "compare: %s is not 48 kHz mono\n", p.c_str());
    std::exit(1);
  }
  return w.samples;
}

void write(const fs::path &p, const std::vector<float> &x) {
  hushbox::WavData w;
  w.rate = static_cast<uint32_t>(kRate);
  w.channels = 1;
  w.format = hushbox::SampleFormat::kFloat32;
  w.samples = x;
  hushbox::write_wav(p.string(), w);
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: compare DATA_DIR [--json FILE] [--strength S] "
                         "[--floor DB] [--quick] ...\n");
    return 2;
  }
  const fs::path data = argv[1];
  std::string json_path, methods_arg = "hushbox,speexdsp,webrtc", write_dir;
  float strength = 1.0f, floor_db = -30.0f;
  int webrtc_level = 2;
  uint32_t block = 64;
  bool quick = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "compare: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--json")
      json_path = value();
    else if (a == "--strength")
      strength = std::stof(value());
    else if (a == "--floor")
      floor_db = std::stof(value());
    else if (a == "--methods")
      methods_arg = value();
    else if (a == "--webrtc-level")
      webrtc_level = std::stoi(value());
    else if (a == "--block")
      block = static_cast<uint32_t>(std::stoul(value()));
    else if (a == "--write")
      write_dir = value();
    else if (a == "--quick")
      quick = true;
    else {
      std::fprintf(stderr, "compare: unknown option %s\n", a.c_str());
      return 2;
    }
  }

  std::vector<std::unique_ptr<Method>> methods;
  if (methods_arg.find("hushbox") != std::string::npos)
    methods.push_back(std::make_unique<Hushbox>(strength, floor_db, block));
  if (methods_arg.find("speexdsp") != std::string::npos)
    methods.push_back(std::make_unique<Speex>());
  if (methods_arg.find("webrtc") != std::string::npos)
    methods.push_back(std::make_unique<WebRtc>(webrtc_level));

  const std::vector<std::pair<std::string, bool>> noises = {
      {"pink", true},     {"brown", true},     {"hiss", true},
      {"hum", true},      {"fan", true},       {"aircon", true},
      {"slowvar", false}, {"keyboard", false}, {"babble", false}};
  const std::vector<double> snrs = quick
                                       ? std::vector<double>{0, 10}
                                       : std::vector<double>{-5, 0, 5, 10, 20};
  std::vector<std::string> speeches;
  for (const auto &e : fs::directory_iterator(data / "speech"))
    if (e.path().extension() == ".wav")
      speeches.push_back(e.path().stem().string());
  std::sort(speeches.begin(), speeches.end());
  if (speeches.empty()) {
    std::fprintf(stderr, "compare: no speech in %s (run make-dataset.sh)\n",
                 (data / "speech").c_str());
    return 1;
  }
  if (quick && speeches.size() > 3)
    speeches = {speeches[0], speeches[2], speeches[4]};

  std::map<std::string, std::vector<float>> noise_audio;
  for (const auto &[n, steady] : noises)
    noise_audio[n] = load(data / "noise" / (n + ".wav"));
  noise_audio["quiet"] = load(data / "noise" / "pink.wav");

  // The items: every speech x noise x SNR, plus each speech with almost no
  // noise (pink at 60 dB SNR).
  std::vector<Item> items;
  for (size_t si = 0; si < speeches.size(); ++si) {
    const auto speech = load(data / "speech" / (speeches[si] + ".wav"));
    const double sp = power(speech.data(), speech.size());
    std::vector<std::tuple<std::string, bool, double>> conds;
    for (const auto &[n, steady] : noises)
      for (double snr : snrs)
        conds.emplace_back(n, steady, snr);
    conds.emplace_back("quiet", true, 60.0);
    for (const auto &[n, steady, snr] : conds) {
      Item it;
      it.speech = speeches[si];
      it.noise = n;
      it.steady = steady;
      it.snr = snr;
      it.speech_len = speech.size();
      it.speech_power = sp;
      const size_t total = kLead + speech.size() + kTail;
      it.clean.assign(total, 0.0f);
      std::copy(speech.begin(), speech.end(), it.clean.begin() + kLead);
      const auto &na = noise_audio[n];
      const size_t offset = (si * 52800) % (na.size() - total);
      const double np = power(na.data() + offset, total);
      const float g =
          static_cast<float>(std::sqrt(sp / np / std::pow(10.0, snr / 10.0)));
      it.noisy.resize(total);
      for (size_t i = 0; i < total; ++i)
        it.noisy[i] = it.clean[i] + g * na[offset + i];
      // Pauses: 10 ms blocks of the clean signal 40 dB below the speech's mean
      // power, with their neighbours within 30 ms also quiet; the first 0.25 s
      // of the lead-in is left to the methods to settle.
      const size_t blocks = total / kFrame10ms;
      std::vector<char> quiet(blocks);
      for (size_t b = 0; b < blocks; ++b)
        quiet[b] =
            power(it.clean.data() + b * kFrame10ms, kFrame10ms) < sp * 1e-4;
      it.pause.assign(total, 0);
      for (size_t b = 25; b < blocks; ++b) {
        bool ok = true;
        for (size_t c = b >= 3 ? b - 3 : 0; c <= std::min(blocks - 1, b + 3);
             ++c)
          ok = ok && quiet[c];
        if (ok)
          std::fill(it.pause.begin() + b * kFrame10ms,
                    it.pause.begin() + (b + 1) * kFrame10ms, 1);
      }
      items.push_back(std::move(it));
    }
  }

  RealFft fft;
  fft.prepare(1024);
  struct Result {
    std::vector<Score> scores;
    double cpu = 0.0, audio = 0.0;
    size_t delay = 0;
  };
  std::vector<Result> results(methods.size());
  std::vector<float> out;
  for (size_t m = 0; m < methods.size(); ++m) {
    // Delay: cross-correlation with the clean speech on the quiet items.
    std::vector<size_t> lags;
    for (const auto &it : items) {
      if (it.noise != "quiet")
        continue;
      methods[m]->run(it.noisy, out);
      lags.push_back(best_lag(it.clean, out, kLead,
                              kLead + std::min<size_t>(it.speech_len, 96000),
                              1200));
    }
    std::sort(lags.begin(), lags.end());
    results[m].delay = lags[lags.size() / 2];
  }
  // Interleave the methods item by item so that they share the machine's load
  // alike.
  for (const auto &it : items) {
    for (size_t m = 0; m < methods.size(); ++m) {
      const double t0 = thread_cpu_seconds();
      methods[m]->run(it.noisy, out);
      results[m].cpu += thread_cpu_seconds() - t0;
      results[m].audio += it.noisy.size() / kRate;
      const size_t lag = results[m].delay;
      Score s;
      const size_t from = kLead, to = kLead + it.speech_len;
      s.sisdr_in = si_sdr(it.clean, it.noisy, 0, from, to);
      s.sisdr_out = si_sdr(it.clean, out, lag, from, to);
      double pin = 0.0, pout = 0.0;
      for (size_t i = 0; i < it.noisy.size(); ++i) {
        if (!it.pause[i])
          continue;
        pin += static_cast<double>(it.noisy[i]) * it.noisy[i];
        const float y = i + lag < out.size() ? out[i + lag] : 0.0f;
        pout += static_cast<double>(y) * y;
      }
      s.pause_att = db(pin / std::max(pout, 1e-30));
      s.lsd = lsd(fft, it.clean, out, lag, from, to, it.speech_power);
      results[m].scores.push_back(s);
      if (!write_dir.empty() && it.speech == speeches[0]) {
        fs::create_directories(write_dir);
        const std::string base =
            it.noise + "_" + std::to_string(static_cast<int>(it.snr)) + "dB";
        if (m == 0)
          write(fs::path(write_dir) / (base + "_noisy.wav"), it.noisy);
        write(fs::path(write_dir) / (base + "_" + methods[m]->name() + ".wav"),
              out);
      }
    }
  }

  // Tables.
  auto mean_over = [&](size_t m, auto pred, auto field) {
    double sum = 0.0;
    int n = 0;
    for (size_t i = 0; i < items.size(); ++i)
      if (pred(items[i])) {
        sum += field(results[m].scores[i]);
        ++n;
      }
    return n ? sum / n : NAN;
  };
  auto improvement = [](const Score &s) { return s.sisdr_out - s.sisdr_in; };
  auto pause = [](const Score &s) { return s.pause_att; };
  auto lsd_of = [](const Score &s) { return s.lsd; };
  auto out_sisdr = [](const Score &s) { return s.sisdr_out; };

  std::printf("SI-SDR improvement dB / noise attenuation in pauses dB / "
              "log-spectral distance dB (mean of %zu voices)\n",
              speeches.size());
  std::printf("%-9s %5s", "noise", "SNR");
  for (const auto &m : methods)
    std::printf(" | %-22s", m->name());
  std::printf("\n");
  for (const auto &[n, steady] : noises) {
    for (double snr : snrs) {
      std::printf("%-9s %5.0f", n.c_str(), snr);
      for (size_t m = 0; m < methods.size(); ++m) {
        auto pred = [&](const Item &it) {
          return it.noise == n && it.snr == snr;
        };
        std::printf(" | %6.2f %6.1f %6.2f   ", mean_over(m, pred, improvement),
                    mean_over(m, pred, pause), mean_over(m, pred, lsd_of));
      }
      std::printf("\n");
    }
  }
  const double speex_cpu = [&] {
    for (size_t m = 0; m < methods.size(); ++m)
      if (std::string(methods[m]->name()) == "speexdsp")
        return results[m].cpu / results[m].audio;
    return std::nan("");
  }();
  std::printf("\nsummary\n%-9s %9s %9s %9s %9s %9s %9s %9s %9s\n", "method",
              "dSI-SDR", "dSI-SDR", "pauses", "LSD", "quiet", "delay", "CPU",
              "CPU");
  std::printf("%-9s %9s %9s %9s %9s %9s %9s %9s %9s\n", "", "steady",
              "unsteady", "att. dB", "dB", "SI-SDR", "ms", "ms/s", "/speex");
  FILE *json = json_path.empty() ? nullptr : std::fopen(json_path.c_str(), "w");
  if (json)
    std::fprintf(json,
                 "{\n  \"rate\": %.0f,\n  \"voices\": %zu,\n  \"methods\": [\n",
                 kRate, speeches.size());
  for (size_t m = 0; m < methods.size(); ++m) {
    auto steady = [](const Item &it) {
      return it.steady && it.noise != "quiet";
    };
    auto unsteady = [](const Item &it) { return !it.steady; };
    auto noisy = [](const Item &it) { return it.noise != "quiet"; };
    auto quiet = [](const Item &it) { return it.noise == "quiet"; };
    const double cpu = results[m].cpu / results[m].audio * 1000.0;
    const double row[] = {mean_over(m, steady, improvement),
                          mean_over(m, unsteady, improvement),
                          mean_over(m, noisy, pause),
                          mean_over(m, noisy, lsd_of),
                          mean_over(m, quiet, out_sisdr),
                          results[m].delay / kRate * 1000.0,
                          cpu,
                          cpu / (speex_cpu * 1000.0)};
    std::printf("%-9s %9.2f %9.2f %9.1f %9.2f %9.1f %9.2f %9.3f %9.2f\n",
                methods[m]->name(), row[0], row[1], row[2], row[3], row[4],
                row[5], row[6], row[7]);
    if (json) {
      std::fprintf(json,
                   "    {\"name\": \"%s\", \"sisdr_improvement_steady_db\": "
                   "%.3f, \"sisdr_improvement_unsteady_db\": "
                   "%.3f, \"pause_attenuation_db\": %.2f, \"lsd_db\": %.3f, "
                   "\"quiet_sisdr_db\": %.2f, \"delay_ms\": "
                   "%.3f, \"delay_samples\": %zu, \"cpu_ms_per_s\": %.4f, "
                   "\"cpu_vs_speexdsp\": %.3f,\n     \"rows\": [",
                   methods[m]->name(), row[0], row[1], row[2], row[3], row[4],
                   row[5], results[m].delay, row[6],
                   std::isnan(row[7]) ? 0.0 : row[7]);
      bool first = true;
      for (const auto &[n, st] : noises)
        for (double snr : snrs) {
          auto pred = [&](const Item &it) {
            return it.noise == n && it.snr == snr;
          };
          std::fprintf(json,
                       "%s\n       {\"noise\": \"%s\", \"steady\": %s, "
                       "\"snr_db\": %.0f, \"sisdr_improvement_db\": %.3f, "
                       "\"pause_attenuation_db\": %.2f, \"lsd_db\": %.3f}",
                       first ? "" : ",", n.c_str(), st ? "true" : "false", snr,
                       mean_over(m, pred, improvement),
                       mean_over(m, pred, pause), mean_over(m, pred, lsd_of));
          first = false;
        }
      std::fprintf(json, "]}%s\n", m + 1 < methods.size() ? "," : "");
    }
  }
  if (json) {
    std::fprintf(json, "  ]\n}\n");
    std::fclose(json);
    std::printf("\nwrote %s\n", json_path.c_str());
  }
  return 0;
}
