#include "signal_source.h"

#include <cmath>
#include <cstdlib>

namespace hushbox {

Status SignalSource::open(const std::string& spec, uint32_t rate, uint32_t channels, bool loop) {
  rate_ = rate;
  channels_ = channels;
  loop_ = loop;
  pos_ = 0;
  if (spec.empty() || spec == "tone" || spec.rfind("tone:", 0) == 0) {
    kind_ = Kind::kTone;
    double hz = 0.0, dbfs = -12.0;
    if (spec.size() > 5) {
      char* end = nullptr;
      hz = std::strtod(spec.c_str() + 5, &end);
      if (*end == ':') dbfs = std::strtod(end + 1, &end);
      if (*end != '\0' || !(hz > 0.0) || hz >= rate / 2.0 || !(dbfs <= 0.0)) {
        return Status::error("input '" + spec + "': expected tone:HZ[:DBFS] with 0 < HZ < rate/2 and DBFS <= 0");
      }
    }
    for (uint32_t c = 0; c < 8; ++c) freq_[c] = hz > 0.0 ? hz : (c == 0 ? 440.0 : 1000.0);
    amplitude_ = static_cast<float>(std::pow(10.0, dbfs / 20.0));
    return Status::success();
  }
  if (spec == "demo") {
    kind_ = Kind::kDemo;
    t_ = 0;
    return Status::success();
  }
  if (spec == "noise") {
    kind_ = Kind::kNoise;
    amplitude_ = 0.25f;
    return Status::success();
  }
  if (spec == "silence") {
    kind_ = Kind::kSilence;
    return Status::success();
  }
  kind_ = Kind::kWav;
  Status s = read_wav(spec, wav_);
  if (!s) return s;
  if (wav_.rate != rate) {
    return Status::error("input " + spec + " is " + std::to_string(wav_.rate) + " Hz, the engine runs at " +
                         std::to_string(rate) + " Hz");
  }
  if (wav_.frames() == 0) return Status::error("input " + spec + " holds no audio");
  return Status::success();
}

float SignalSource::noise() noexcept {
  noise_state_ = noise_state_ * 1664525u + 1013904223u;
  return static_cast<float>(noise_state_ >> 8) / 8388608.0f - 1.0f;
}

uint32_t SignalSource::fill(float* out, uint32_t frames) noexcept {
  switch (kind_) {
    case Kind::kDemo:
      for (uint32_t f = 0; f < frames; ++f, ++t_) {
        const double t = static_cast<double>(t_) / rate_;
        // Voice-like: a 130 Hz buzz with falling harmonics, gliding pitch,
        // in 0.2 s syllables with pauses, over a little room noise.
        const double syllable = std::fmod(t, 0.4) / 0.4;
        const double env = (std::fmod(t, 4.0) < 3.0 && syllable < 0.6) ? std::sin(M_PI * syllable / 0.6) : 0.0;
        phase_[0] += 2.0 * M_PI * (130.0 + 20.0 * std::sin(2.0 * M_PI * 0.7 * t)) / rate_;
        if (phase_[0] > 2.0 * M_PI) phase_[0] -= 2.0 * M_PI;
        double voice = 0.0;
        for (int h = 1; h <= 12; ++h) voice += std::sin(h * phase_[0]) / h;
        const float mic = static_cast<float>(0.3 * env * voice) + 0.003f * noise();
        // A plucked 220 Hz note, decaying, once a second.
        const double since = std::fmod(t, 1.0);
        const float inst = static_cast<float>(0.35 * std::exp(-4.0 * since) * std::sin(2.0 * M_PI * 220.0 * since));
        for (uint32_t c = 0; c < channels_; ++c) out[f * channels_ + c] = c == 0 ? mic : inst;
      }
      return frames;
    case Kind::kSilence:
      for (uint32_t i = 0; i < frames * channels_; ++i) out[i] = 0.0f;
      return frames;
    case Kind::kNoise:
      for (uint32_t i = 0; i < frames * channels_; ++i) out[i] = amplitude_ * noise();
      return frames;
    case Kind::kTone:
      for (uint32_t f = 0; f < frames; ++f) {
        for (uint32_t c = 0; c < channels_; ++c) {
          const uint32_t k = c < 8 ? c : 7;
          out[f * channels_ + c] = amplitude_ * static_cast<float>(std::sin(phase_[k]));
        }
        for (uint32_t k = 0; k < 8; ++k) {
          phase_[k] += 2.0 * M_PI * freq_[k] / rate_;
          if (phase_[k] > 2.0 * M_PI) phase_[k] -= 2.0 * M_PI;
        }
      }
      return frames;
    case Kind::kWav: {
      const uint64_t total = wav_.frames();
      for (uint32_t f = 0; f < frames; ++f) {
        if (pos_ >= total) {
          if (!loop_) {
            for (uint32_t r = f; r < frames; ++r)
              for (uint32_t c = 0; c < channels_; ++c) out[r * channels_ + c] = 0.0f;
            return f;
          }
          pos_ = 0;
        }
        // Map file channels onto engine channels: mono feeds every channel.
        for (uint32_t c = 0; c < channels_; ++c) {
          const uint32_t src = c < wav_.channels ? c : (wav_.channels == 1 ? 0 : wav_.channels);
          out[f * channels_ + c] = src < wav_.channels ? wav_.samples[pos_ * wav_.channels + src] : 0.0f;
        }
        ++pos_;
      }
      return frames;
    }
  }
  return frames;
}

}  // namespace hushbox
