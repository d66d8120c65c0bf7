// The ALSA backend: `hw:` devices directly, no sound server, no plugins.
//
// Thread contract: the control/housekeeping thread opens, configures and
// closes the PCMs; the audio thread only reads, writes and recovers them. They
// hand the PCMs over through `dev_` (release/acquire), so neither touches them
// while the other owns them. The audio thread's only system calls are the ALSA
// ioctls behind readi/writei/prepare/start/drop and the clock.
#include <alsa/asoundlib.h>
#include <soxr.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "alsa_backend.h"
#include "backend.h"
#include "drift.h"
#include "rt.h"

namespace hushbox {
namespace {

constexpr uint32_t kMaxDeviceChannels = 64;
constexpr int64_t kRetryNs = 500'000'000;  // how often a missing device is looked for

// Formats in order of preference; the Scarlett offers only S32_LE.
constexpr snd_pcm_format_t kFormats[] = {SND_PCM_FORMAT_S32_LE, SND_PCM_FORMAT_FLOAT_LE, SND_PCM_FORMAT_S24_3LE,
                                         SND_PCM_FORMAT_S16_LE};

uint32_t bytes_per_sample(snd_pcm_format_t f) {
  switch (f) {
    case SND_PCM_FORMAT_S16_LE: return 2;
    case SND_PCM_FORMAT_S24_3LE: return 3;
    default: return 4;
  }
}

// alsa-lib prints its own diagnostics to stderr; the engine reports errors itself.
void quiet_alsa(const char*, int, const char*, int, const char*, ...) {}

float clampf(float x) { return x > 1.0f ? 1.0f : (x < -1.0f ? -1.0f : x); }

}  // namespace

// [any] Device samples -> float, interleaved `dev_ch` to `chain_ch` (extra chain channels get silence).
void alsa_decode(snd_pcm_format_t fmt, const uint8_t* src, uint32_t dev_ch, float* dst, uint32_t chain_ch,
                 uint32_t frames) noexcept {
  const uint32_t bps = bytes_per_sample(fmt);
  for (uint32_t f = 0; f < frames; ++f) {
    const uint8_t* frame = src + static_cast<size_t>(f) * dev_ch * bps;
    float* out = dst + static_cast<size_t>(f) * chain_ch;
    for (uint32_t c = 0; c < chain_ch; ++c) {
      if (c >= dev_ch) {
        out[c] = 0.0f;
        continue;
      }
      const uint8_t* p = frame + c * bps;
      switch (fmt) {
        case SND_PCM_FORMAT_S16_LE: {
          int16_t v;
          std::memcpy(&v, p, 2);
          out[c] = static_cast<float>(v) * (1.0f / 32768.0f);
          break;
        }
        case SND_PCM_FORMAT_S24_3LE: {
          int32_t v = static_cast<int32_t>(static_cast<uint32_t>(p[0]) << 8 | static_cast<uint32_t>(p[1]) << 16 |
                                           static_cast<uint32_t>(p[2]) << 24);
          out[c] = static_cast<float>(v >> 8) * (1.0f / 8388608.0f);
          break;
        }
        case SND_PCM_FORMAT_FLOAT_LE: std::memcpy(&out[c], p, 4); break;
        default: {
          int32_t v;
          std::memcpy(&v, p, 4);
          out[c] = static_cast<float>(v) * (1.0f / 2147483648.0f);
          break;
        }
      }
    }
  }
}

// [any] Float -> device samples; device channels beyond the chain's get silence.
void alsa_encode(snd_pcm_format_t fmt, const float* src, uint32_t chain_ch, uint8_t* dst, uint32_t dev_ch,
                 uint32_t frames) noexcept {
  const uint32_t bps = bytes_per_sample(fmt);
  for (uint32_t f = 0; f < frames; ++f) {
    const float* in = src + static_cast<size_t>(f) * chain_ch;
    uint8_t* frame = dst + static_cast<size_t>(f) * dev_ch * bps;
    for (uint32_t c = 0; c < dev_ch; ++c) {
      const float x = c < chain_ch ? in[c] : 0.0f;
      uint8_t* p = frame + c * bps;
      switch (fmt) {
        case SND_PCM_FORMAT_S16_LE: {
          const float s = clampf(x) * 32768.0f;
          const int16_t v = static_cast<int16_t>(s >= 32767.0f ? 32767 : static_cast<int32_t>(s));
          std::memcpy(p, &v, 2);
          break;
        }
        case SND_PCM_FORMAT_S24_3LE: {
          const float s = clampf(x) * 8388608.0f;
          const int32_t v = s >= 8388607.0f ? 8388607 : static_cast<int32_t>(s);
          p[0] = static_cast<uint8_t>(v);
          p[1] = static_cast<uint8_t>(v >> 8);
          p[2] = static_cast<uint8_t>(v >> 16);
          break;
        }
        case SND_PCM_FORMAT_FLOAT_LE: std::memcpy(p, &x, 4); break;
        default: {
          // 2^31 is not representable as int32; the float just below full scale is 2147483520.
          const float s = clampf(x) * 2147483648.0f;
          const int32_t v = s >= 2147483520.0f ? 2147483647 : static_cast<int32_t>(s);
          std::memcpy(p, &v, 4);
          break;
        }
      }
    }
  }
}

namespace {

std::string format_names(snd_pcm_hw_params_t* hw) {
  std::string out;
  snd_pcm_format_mask_t* mask;
  snd_pcm_format_mask_alloca(&mask);
  snd_pcm_hw_params_get_format_mask(hw, mask);
  for (int f = 0; f <= SND_PCM_FORMAT_LAST; ++f) {
    if (!snd_pcm_format_mask_test(mask, static_cast<snd_pcm_format_t>(f))) continue;
    const char* n = snd_pcm_format_name(static_cast<snd_pcm_format_t>(f));
    if (!n) continue;
    if (!out.empty()) out += ' ';
    out += n;
  }
  return out.empty() ? "none" : out;
}

struct Side {
  snd_pcm_t* pcm = nullptr;
  snd_pcm_format_t format = SND_PCM_FORMAT_S32_LE;
  uint32_t channels = 0;
  uint32_t bps = 4;
  snd_pcm_uframes_t buffer = 0;
  std::vector<uint8_t> raw;  // one period at up to kMaxDeviceChannels x 4 bytes
};

// What a device accepts, for error messages: "rates 44100..192000 Hz, period 16..2048 frames, ...".
std::string describe(snd_pcm_t* pcm) {
  snd_pcm_hw_params_t* hw;
  snd_pcm_hw_params_alloca(&hw);
  if (snd_pcm_hw_params_any(pcm, hw) < 0) return "no configuration at all";
  unsigned rmin = 0, rmax = 0, cmin = 0, cmax = 0, pmin = 0, pmax = 0;
  snd_pcm_uframes_t fmin = 0, fmax = 0;
  int dir = 0;
  snd_pcm_hw_params_get_rate_min(hw, &rmin, &dir);
  snd_pcm_hw_params_get_rate_max(hw, &rmax, &dir);
  snd_pcm_hw_params_get_channels_min(hw, &cmin);
  snd_pcm_hw_params_get_channels_max(hw, &cmax);
  snd_pcm_hw_params_get_period_size_min(hw, &fmin, &dir);
  snd_pcm_hw_params_get_period_size_max(hw, &fmax, &dir);
  snd_pcm_hw_params_get_periods_min(hw, &pmin, &dir);
  snd_pcm_hw_params_get_periods_max(hw, &pmax, &dir);
  char buf[512];
  std::snprintf(buf, sizeof buf, "rate %u..%u Hz, period %lu..%lu frames, periods %u..%u, channels %u..%u, formats %s",
                rmin, rmax, static_cast<unsigned long>(fmin), static_cast<unsigned long>(fmax), pmin, pmax, cmin, cmax,
                format_names(hw).c_str());
  return buf;
}

class AlsaBackend : public Backend {
 public:
  ~AlsaBackend() override {
    close_pcms();
    if (soxr_) soxr_delete(soxr_);
  }

  Status open(const IoConfig& config) override {
    config_ = config;
    snd_lib_error_set_handler(quiet_alsa);
    if (config.frames < 16 || config.frames > 1024)
      return Status::error("--frames " + std::to_string(config.frames) + " is out of range for ALSA (16..1024)");
    playback_name_ = config.device.empty() ? "hw:Gen" : config.device;
    capture_name_ = config.capture_device.empty() ? playback_name_ : config.capture_device;
    period_ns_ = static_cast<int64_t>(1e9 * config.frames / config.rate);
    // Twice a period: the adaptive resampler may hand playback a few frames more than a period.
    const size_t raw = 2 * static_cast<size_t>(config.frames) * kMaxDeviceChannels * 4;
    cap_.raw.assign(raw, 0);
    play_.raw.assign(raw, 0);
    silence_.assign(raw, 0);

    bool missing = false;
    std::string error;
    if (open_pcms(missing, error)) {
      dev_.store(kReady, std::memory_order_release);
      return Status::success();
    }
    if (!missing) return Status::error(error);  // there, but will never do what was asked
    std::fprintf(stderr, "hushbox-engine: %s; waiting for it\n", error.c_str());
    last_error_ = error;
    next_try_ns_ = now_ns() + kRetryNs;
    dev_.store(kAbsent, std::memory_order_release);
    return Status::success();
  }

  Status start() noexcept override {
    if (dev_.load(std::memory_order_acquire) == kReady) {
      if (start_stream() == 0) {
        dev_.store(kRunning, std::memory_order_release);
      } else {
        dev_.store(kLost, std::memory_order_release);
      }
    }
    return Status::success();
  }

  IoResult read(float* in, uint32_t frames) noexcept override {
    IoResult r;
    int state = dev_.load(std::memory_order_acquire);
    if (state == kReady) {
      int rc = start_stream();
      // A stream that overran or started itself while being primed is restarted, not given up.
      if (rc == -EPIPE || rc == -ESTRPIPE || rc == -EBADFD) rc = recover();
      if (rc == 0) {
        dev_.store(kRunning, std::memory_order_release);
        state = kRunning;
      } else {
        dev_.store(kLost, std::memory_order_release);
        state = kLost;
      }
    }
    if (state != kRunning) return wait_one_period(r);

    uint32_t done = 0;
    bool xrun = false;
    while (done < frames) {
      const snd_pcm_sframes_t n = snd_pcm_readi(
          cap_.pcm, cap_.raw.data() + static_cast<size_t>(done) * cap_.channels * cap_.bps, frames - done);
      if (n >= 0) {
        done += static_cast<uint32_t>(n);
        continue;
      }
      if (n == -EINTR || n == -EAGAIN) continue;
      // An xrun, or an error that does not mean the device is gone: restart the
      // stream and carry on; only a stream that cannot restart is a lost device.
      if (n == -EPIPE || n == -ESTRPIPE || !device_gone(static_cast<int>(n))) {
        r.lost_frames += lost_frames();
        if (recover() != 0) return lose(r, static_cast<int>(n));
        xrun = true;
        done = 0;  // the partial period is stale; the fresh stream delivers the next one
        continue;
      }
      return lose(r, static_cast<int>(n));
    }
    r.wake_ns = now_ns();
    // The period was complete `avail` frames ago: that is how late this thread woke.
    const snd_pcm_sframes_t avail = snd_pcm_avail_update(cap_.pcm);
    r.deadline_ns = r.wake_ns - (avail > 0 ? static_cast<int64_t>(avail) * 1'000'000'000LL / config_.rate : 0);
    if (xrun) r.kind = IoResult::Kind::kXrun;
    read_total_ += frames;
    measure_clocks(r.wake_ns);
    alsa_decode(cap_.format, cap_.raw.data(), cap_.channels, in, config_.channels, frames);
    return r;
  }

  IoResult write(const float* out, uint32_t frames) noexcept override {
    IoResult r;
    if (dev_.load(std::memory_order_acquire) != kRunning) return r;
    if (soxr_ && config_.drift_correction) {
      // Two clocks: as many frames as the playback clock takes for this period's capture.
      soxr_set_io_ratio(soxr_, 1.0 / out_ratio_, frames);
      size_t idone = 0, odone = 0;
      soxr_process(soxr_, out, frames, &idone, resampled_.data(), 2 * static_cast<size_t>(frames), &odone);
      out = resampled_.data();
      frames = static_cast<uint32_t>(odone);
    }
    alsa_encode(play_.format, out, config_.channels, play_.raw.data(), play_.channels, frames);
    uint32_t done = 0;
    while (done < frames) {
      const snd_pcm_sframes_t n = snd_pcm_writei(
          play_.pcm, play_.raw.data() + static_cast<size_t>(done) * play_.channels * play_.bps, frames - done);
      if (n >= 0) {
        done += static_cast<uint32_t>(n);
        continue;
      }
      if (n == -EINTR || n == -EAGAIN) continue;
      if (n == -EPIPE || n == -ESTRPIPE || !device_gone(static_cast<int>(n))) {
        r.lost_frames += lost_frames();
        if (recover() != 0) return lose(r, static_cast<int>(n));
        r.kind = IoResult::Kind::kXrun;
        r.wake_ns = now_ns();
        return r;  // this block is dropped; the re-primed silence covers it
      }
      return lose(r, static_cast<int>(n));
    }
    written_total_ += frames;
    return r;
  }

  ClockStatus clock_status() const noexcept override { return clock_; }

  void stop() noexcept override {
    if (dev_.load(std::memory_order_acquire) == kRunning) {
      snd_pcm_drop(play_.pcm);
      if (!linked_) snd_pcm_drop(cap_.pcm);
      dev_.store(kReady, std::memory_order_release);
    }
  }

  void housekeeping() override {
    const int state = dev_.load(std::memory_order_acquire);
    if (state == kLost) {
      close_pcms();
      const int code = lost_code_.load(std::memory_order_relaxed);
      std::fprintf(stderr, "hushbox-engine: lost %s (%s); waiting for it to come back\n", playback_name_.c_str(),
                   code ? snd_strerror(code) : "device error");
      next_try_ns_ = now_ns();
      dev_.store(kAbsent, std::memory_order_release);
      return;
    }
    if (state != kAbsent || now_ns() < next_try_ns_) return;
    bool missing = false;
    std::string error;
    if (open_pcms(missing, error)) {
      std::fprintf(stderr, "hushbox-engine: %s is here; starting\n", playback_name_.c_str());
      last_error_.clear();
      dev_.store(kReady, std::memory_order_release);
    } else {
      if (error != last_error_) std::fprintf(stderr, "hushbox-engine: %s; still waiting\n", error.c_str());
      last_error_ = error;
      next_try_ns_ = now_ns() + kRetryNs;
    }
  }

  Status close() override {
    close_pcms();
    return Status::success();
  }

  uint32_t latency_frames() const noexcept override {
    // A sample written after a period was read leaves (periods - 1) periods of
    // playback ahead of it and is read back a period after it plays: on a
    // linked duplex stream the round trip is periods x frames (as JACK counts).
    return config_.frames * config_.periods;
  }
  bool clocked() const noexcept override { return true; }
  const char* name() const noexcept override { return "alsa"; }

 private:
  enum : int { kAbsent = 0, kReady = 1, kRunning = 2, kLost = 3 };

  IoResult wait_one_period(IoResult& r) noexcept {
    sleep_until_ns(now_ns() + period_ns_);
    r.kind = IoResult::Kind::kWaiting;
    r.wake_ns = now_ns();
    r.deadline_ns = r.wake_ns;
    return r;
  }

  // [audio] Errors that mean the device itself went away (USB unplugged, driver unbound).
  static bool device_gone(int err) noexcept {
    return err == -ENODEV || err == -ENXIO || err == -ESHUTDOWN || err == -ENOTTY || err == -EBADF;
  }

  IoResult lose(IoResult& r, int code) noexcept {
    lost_code_.store(code, std::memory_order_relaxed);
    dev_.store(kLost, std::memory_order_release);
    r.kind = IoResult::Kind::kWaiting;
    r.code = code;
    r.wake_ns = now_ns();
    r.deadline_ns = r.wake_ns;
    return r;
  }

  uint32_t lost_frames() noexcept {
    // How long the stream has been stopped, as ALSA saw it (trigger time vs now).
    snd_pcm_status_t* st;
    snd_pcm_status_alloca(&st);  // alloca: stack, not heap
    if (snd_pcm_status(cap_.pcm, st) < 0) return 0;
    snd_htimestamp_t now, trig;
    snd_pcm_status_get_htstamp(st, &now);
    snd_pcm_status_get_trigger_htstamp(st, &trig);
    const int64_t ns =
        (static_cast<int64_t>(now.tv_sec) - trig.tv_sec) * 1'000'000'000LL + (now.tv_nsec - trig.tv_nsec);
    if (ns <= 0 || ns > 60'000'000'000LL) return 0;
    return static_cast<uint32_t>(ns * config_.rate / 1'000'000'000LL);
  }

  // [audio] Prepare both streams, prime playback with silence and start them together.
  // An xrun while re-priming (a slow machine, a descheduled VM) is another xrun,
  // not a lost device: try again a few times before giving the device up.
  int recover() noexcept {
    int rc = 0;
    for (int attempt = 0; attempt < 4; ++attempt) {
      snd_pcm_drop(play_.pcm);
      if (!linked_) snd_pcm_drop(cap_.pcm);
      rc = snd_pcm_prepare(play_.pcm);
      if (rc == 0 && !linked_) rc = snd_pcm_prepare(cap_.pcm);
      if (rc == 0) rc = start_stream();
      if (rc != -EPIPE && rc != -ESTRPIPE) return rc;
    }
    return rc;
  }

  // [audio] After a period was read: both hardware positions, back to back, into the loops.
  void measure_clocks(int64_t now) noexcept {
    const snd_pcm_sframes_t ca = snd_pcm_avail(cap_.pcm);
    const snd_pcm_sframes_t pa = snd_pcm_avail(play_.pcm);
    if (ca < 0 || pa < 0) return;
    const double cap_pos = static_cast<double>(read_total_ + static_cast<uint64_t>(ca));
    const double queued = static_cast<double>(play_.buffer) - static_cast<double>(pa);
    const double play_pos = static_cast<double>(written_total_) - queued;
    const double dt = last_measure_ns_ ? static_cast<double>(now - last_measure_ns_) * 1e-9 : 0.0;
    last_measure_ns_ = now;
    const double t = static_cast<double>(now) * 1e-9;
    pc_dll_.update(cap_pos, play_pos, dt);
    cap_dll_.update(t, cap_pos, dt);
    play_dll_.update(t, play_pos, dt);
    const double fill = static_cast<double>(ca) + queued;
    if (soxr_ && config_.drift_correction) {
      out_ratio_ = fill_ctl_.update(fill, pc_dll_.ratio(), dt);
    } else {
      const double a = dt / (0.25 + dt);
      fill_avg_ = fill_avg_ < 0.0 ? fill : fill_avg_ + a * (fill - fill_avg_);
    }
    clock_.drift_ppm = static_cast<float>(pc_dll_.ppm());
    clock_.capture_ppm = static_cast<float>(cap_dll_.ppm());
    clock_.playback_ppm = static_cast<float>(play_dll_.ppm());
    clock_.fill_frames = static_cast<float>(soxr_ && config_.drift_correction ? fill_ctl_.fill() : fill_avg_);
    clock_.target_frames = static_cast<float>(fill_ctl_.target());
    clock_.ratio_ppm = static_cast<float>((out_ratio_ - 1.0) * 1e6);
  }

  // [audio] Streams are PREPARED: fill the playback buffer with silence and start.
  int start_stream() noexcept {
    // The positions start again from zero: the loops keep their ratios and take the new phase.
    read_total_ = 0;
    written_total_ = play_.buffer;
    last_measure_ns_ = 0;
    pc_dll_.rephase();
    cap_dll_.rephase();
    play_dll_.rephase();
    snd_pcm_uframes_t left = play_.buffer;
    while (left > 0) {
      const snd_pcm_uframes_t chunk = left < config_.frames ? left : config_.frames;
      const snd_pcm_sframes_t n = snd_pcm_writei(play_.pcm, silence_.data(), chunk);
      if (n < 0) return static_cast<int>(n);
      left -= static_cast<snd_pcm_uframes_t>(n);
    }
    int rc = snd_pcm_start(play_.pcm);  // starts the capture too when linked
    if (rc < 0) return rc;
    if (!linked_) rc = snd_pcm_start(cap_.pcm);
    return rc < 0 ? rc : 0;
  }

  bool configure(Side& side, const std::string& name, snd_pcm_stream_t stream, std::string& error) {
    const char* what = stream == SND_PCM_STREAM_CAPTURE ? "capture" : "playback";
    snd_pcm_t* pcm = side.pcm;
    snd_pcm_hw_params_t* hw;
    snd_pcm_hw_params_alloca(&hw);
    auto refuse = [&](const std::string& asked) {
      error = name + " " + what + " does not accept " + asked + " (it accepts " + describe(pcm) + ")";
      return false;
    };
    if (snd_pcm_hw_params_any(pcm, hw) < 0) return refuse("any configuration");
    snd_pcm_hw_params_set_rate_resample(pcm, hw, 0);
    if (snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED) < 0)
      return refuse("interleaved read/write access");
    bool have_format = false;
    for (snd_pcm_format_t f : kFormats) {
      if (snd_pcm_hw_params_test_format(pcm, hw, f) == 0 && snd_pcm_hw_params_set_format(pcm, hw, f) == 0) {
        side.format = f;
        have_format = true;
        break;
      }
    }
    if (!have_format) return refuse("S32_LE, FLOAT_LE, S24_3LE or S16_LE");
    side.bps = bytes_per_sample(side.format);
    unsigned cmin = 0, cmax = 0;
    snd_pcm_hw_params_get_channels_min(hw, &cmin);
    snd_pcm_hw_params_get_channels_max(hw, &cmax);
    unsigned ch = config_.channels;
    if (ch < cmin) ch = cmin;
    if (ch > cmax) ch = cmax;
    if (ch > kMaxDeviceChannels || snd_pcm_hw_params_set_channels(pcm, hw, ch) < 0)
      return refuse(std::to_string(ch) + " channels");
    side.channels = ch;
    if (snd_pcm_hw_params_set_rate(pcm, hw, config_.rate, 0) < 0)
      return refuse("rate " + std::to_string(config_.rate) + " Hz");
    if (snd_pcm_hw_params_set_period_size(pcm, hw, config_.frames, 0) < 0)
      return refuse("a period of " + std::to_string(config_.frames) + " frames at " + std::to_string(config_.rate) +
                    " Hz");
    if (snd_pcm_hw_params_set_periods(pcm, hw, config_.periods, 0) < 0)
      return refuse(std::to_string(config_.periods) + " periods of " + std::to_string(config_.frames) + " frames");
    int rc = snd_pcm_hw_params(pcm, hw);
    if (rc < 0) return refuse(std::string("these settings together (") + snd_strerror(rc) + ")");
    snd_pcm_hw_params_get_buffer_size(hw, &side.buffer);

    snd_pcm_sw_params_t* sw;
    snd_pcm_sw_params_alloca(&sw);
    snd_pcm_uframes_t boundary = 0;
    snd_pcm_sw_params_current(pcm, sw);
    snd_pcm_sw_params_get_boundary(sw, &boundary);
    // Started by hand, together; stopped (and so counted) by ALSA on any xrun.
    snd_pcm_sw_params_set_start_threshold(pcm, sw, boundary);
    snd_pcm_sw_params_set_stop_threshold(pcm, sw, side.buffer);
    snd_pcm_sw_params_set_avail_min(pcm, sw, config_.frames);
    snd_pcm_sw_params_set_tstamp_mode(pcm, sw, SND_PCM_TSTAMP_ENABLE);
    if ((rc = snd_pcm_sw_params(pcm, sw)) < 0) {
      error = name + " " + what + ": software parameters refused: " + snd_strerror(rc);
      return false;
    }
    return true;
  }

  // [control/housekeeping] Open and configure both sides; `missing` when the device is not there (yet).
  bool open_pcms(bool& missing, std::string& error) {
    close_pcms();
    int rc = snd_pcm_open(&cap_.pcm, capture_name_.c_str(), SND_PCM_STREAM_CAPTURE, 0);
    if (rc < 0) {
      cap_.pcm = nullptr;
      missing = true;
      error = "cannot open " + capture_name_ + " for capture: " + snd_strerror(rc);
      return false;
    }
    rc = snd_pcm_open(&play_.pcm, playback_name_.c_str(), SND_PCM_STREAM_PLAYBACK, 0);
    if (rc < 0) {
      play_.pcm = nullptr;
      close_pcms();
      missing = true;
      error = "cannot open " + playback_name_ + " for playback: " + snd_strerror(rc);
      return false;
    }
    if (!configure(cap_, capture_name_, SND_PCM_STREAM_CAPTURE, error) ||
        !configure(play_, playback_name_, SND_PCM_STREAM_PLAYBACK, error)) {
      close_pcms();
      missing = false;
      return false;
    }
    linked_ = snd_pcm_link(cap_.pcm, play_.pcm) == 0;
    setup_clocks();
    return true;
  }

  // [control/housekeeping] One card, one clock; two cards: the resampler (unless turned off) and its controller.
  void setup_clocks() {
    snd_pcm_info_t* ci;
    snd_pcm_info_t* pi;
    snd_pcm_info_alloca(&ci);
    snd_pcm_info_alloca(&pi);
    const bool two = snd_pcm_info(cap_.pcm, ci) == 0 && snd_pcm_info(play_.pcm, pi) == 0 &&
                     snd_pcm_info_get_card(ci) != snd_pcm_info_get_card(pi);
    const double period_s = static_cast<double>(config_.frames) / config_.rate;
    pc_dll_.configure(1.0, 0.05, 10.0, 1.0);
    cap_dll_.configure(1.0, 0.05, 10.0, config_.rate);
    play_dll_.configure(1.0, 0.05, 10.0, config_.rate);
    fill_ctl_.configure(config_.rate, 4.0, 1.0 + 4 * period_s, 2000.0);
    fill_avg_ = -1.0;
    out_ratio_ = 1.0;
    clock_ = ClockStatus{};
    clock_.two_clocks = two ? 1 : 0;
    if (soxr_) {
      soxr_delete(soxr_);
      soxr_ = nullptr;
    }
    if (two && config_.drift_correction) {
      // libsoxr's variable-rate mode: band-limited, made for a ratio that moves (as CamillaDSP and zita-ajbridge do).
      soxr_error_t err = nullptr;
      const soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, SOXR_VR);
      const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
      soxr_ = soxr_create(2.0, 1.0, config_.channels, &err, &io, &q, nullptr);
      if (!soxr_ || err) {
        std::fprintf(stderr, "hushbox-engine: no drift correction (libsoxr: %s)\n", err ? err : "cannot create");
        if (soxr_) soxr_delete(soxr_);
        soxr_ = nullptr;
      } else {
        soxr_set_io_ratio(soxr_, 1.0, 0);
        resampled_.assign(2 * static_cast<size_t>(config_.frames) * config_.channels + 64, 0.0f);
        // Let it allocate what it needs here, not on the audio thread: silence through it at ratios wider
        // than the correction ever asks (+-1 %; the controller stays within +-2000 ppm of the measured
        // ratio), each held for 16 periods (a ratio flipped every period never reaches its extremes: a
        // sustained 1.001 then still grew its buffers). No soxr_clear() afterwards: it frees the resampler,
        // which is then made again on the audio thread. The QEMU drift test's rt_guard saw both as realloc.
        std::vector<float> warm(static_cast<size_t>(config_.frames) * config_.channels, 0.0f);
        for (int i = 0; i < 64; ++i) {
          size_t idone = 0, odone = 0;
          soxr_set_io_ratio(soxr_, (i / 16) % 2 ? 1.01 : 0.99, config_.frames);
          soxr_process(soxr_, warm.data(), config_.frames, &idone, resampled_.data(),
                       2 * static_cast<size_t>(config_.frames), &odone);
        }
        // Its pipeline is full of that silence: from the first period on it hands playback a whole period
        // (an empty pipeline gives a few short periods, which a two-period buffer does not survive).
        soxr_set_io_ratio(soxr_, 1.0, 0);
        size_t out_total = 0;
        for (int i = 0; i < 64 && out_total < 4 * static_cast<size_t>(config_.frames); ++i) {
          size_t idone = 0, odone = 0;
          soxr_process(soxr_, warm.data(), config_.frames, &idone, resampled_.data(),
                       2 * static_cast<size_t>(config_.frames), &odone);
          out_total += odone;
        }
      }
    }
    clock_.corrected = soxr_ ? 1 : 0;
    // Said only for two cards (one card is the usual case, and `latency --json` shares stderr with its JSON).
    if (two)
      std::fprintf(stderr, "hushbox-engine: capture %s and playback %s are two clocks: drift %s\n",
                   capture_name_.c_str(), playback_name_.c_str(), soxr_ ? "corrected" : "measured, not corrected");
  }

  void close_pcms() {
    if (cap_.pcm && play_.pcm && linked_) snd_pcm_unlink(cap_.pcm);
    linked_ = false;
    if (play_.pcm) snd_pcm_close(play_.pcm);
    if (cap_.pcm) snd_pcm_close(cap_.pcm);
    play_.pcm = nullptr;
    cap_.pcm = nullptr;
  }

  IoConfig config_;
  std::string capture_name_;
  std::string playback_name_;
  int64_t period_ns_ = 0;
  Side cap_;
  Side play_;
  std::vector<uint8_t> silence_;
  bool linked_ = false;
  std::atomic<int> dev_{kAbsent};
  std::atomic<int> lost_code_{0};  // why the device was given up (for the log)
  int64_t next_try_ns_ = 0;
  std::string last_error_;
  // Clocks (audio thread once running): positions since the streams started, the loops, the correction.
  uint64_t read_total_ = 0;
  uint64_t written_total_ = 0;
  int64_t last_measure_ns_ = 0;
  ClockDll pc_dll_, cap_dll_, play_dll_;
  FillController fill_ctl_;
  double fill_avg_ = -1.0;
  double out_ratio_ = 1.0;
  ClockStatus clock_;
  soxr_t soxr_ = nullptr;
  std::vector<float> resampled_;
};

}  // namespace

std::unique_ptr<Backend> make_alsa_backend() { return std::make_unique<AlsaBackend>(); }

}  // namespace hushbox
