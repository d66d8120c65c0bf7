#include "recorder.h"

#include <fcntl.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "rt.h"

namespace hushbox {

namespace {
constexpr uint32_t kChunkFrames = 4096;

uint32_t take_channels(link::RecordSource source, uint32_t out_channels) {
  switch (source) {
    case link::RecordSource::kMicRaw:
    case link::RecordSource::kMic: return 1;
    case link::RecordSource::kMix: return out_channels;
    case link::RecordSource::kAll: return 2 + out_channels;
  }
  return 1;
}

std::string parent_dir(const char* path) {
  std::string p(path);
  const size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}
}  // namespace

Recorder::~Recorder() { stop(); }

Status Recorder::init(const RecorderConfig& config, uint32_t rate, uint32_t max_frames, uint32_t out_channels,
                      link::Segment* segment) {
  config_ = config;
  rate_ = rate;
  out_channels_ = out_channels;
  link_ = segment;
  // Sized at 4 channels (raw mic, clean mic, a stereo mix): a take of fewer channels absorbs longer stalls.
  ring_.allocate(static_cast<uint32_t>(static_cast<uint64_t>(rate) * config.ring_ms / 1000 * 4));
  gaps_.init();
  scratch_.assign(static_cast<size_t>(max_frames) * kMaxTakeChannels, 0.0f);
  chunk_.assign(static_cast<size_t>(kChunkFrames) * kMaxTakeChannels, 0.0f);
  zeros_.assign(static_cast<size_t>(kChunkFrames) * kMaxTakeChannels, 0.0f);
  telemetry_ = link::RecordTelemetry{};
  telemetry_.rate = rate;
  link_->recording.init(telemetry_);
  return Status::success();
}

Status Recorder::start() {
  if (running_) return Status::success();
  stop_.store(false);
  if (!start_thread(
          thread_,
          [](void* self) -> void* {
            static_cast<Recorder*>(self)->thread_main();
            return nullptr;
          },
          this))
    return Status::error("cannot start the recording writer thread");
  running_ = true;
  return Status::success();
}

void Recorder::stop() {
  if (!running_) return;
  stop_.store(true);
  pthread_join(thread_, nullptr);
  running_ = false;
}

void Recorder::push(const float* in_interleaved, uint32_t in_channels, const float* processed_mic,
                    const float* const* out_planar, uint32_t out_channels, uint32_t frames) noexcept {
  const uint32_t epoch = epoch_.load(std::memory_order_acquire);
  if (!(epoch & 1u)) return;
  if (epoch != audio_epoch_) {  // a new take
    audio_epoch_ = epoch;
    audio_pushed_ = 0;
    audio_gap_ = 0;
  }
  const auto source = static_cast<link::RecordSource>(source_.load(std::memory_order_relaxed));
  const uint32_t ch = channels_.load(std::memory_order_relaxed);
  float* s = scratch_.data();
  if (static_cast<size_t>(frames) * ch > scratch_.size()) return;
  for (uint32_t f = 0; f < frames; ++f) {
    float* o = s + static_cast<size_t>(f) * ch;
    switch (source) {
      case link::RecordSource::kMicRaw: o[0] = in_interleaved[f * in_channels]; break;
      case link::RecordSource::kMic: o[0] = processed_mic[f]; break;
      case link::RecordSource::kMix:
        for (uint32_t c = 0; c < out_channels && c < ch; ++c) o[c] = out_planar[c][f];
        break;
      case link::RecordSource::kAll:
        o[0] = in_interleaved[f * in_channels];
        o[1] = processed_mic[f];
        for (uint32_t c = 0; c < out_channels && c + 2 < ch; ++c) o[2 + c] = out_planar[c][f];
        break;
    }
  }
  const uint32_t count = frames * ch;
  if (!ring_.has_room(count)) {
    audio_gap_ += frames;
    return;
  }
  // A gap is announced before the audio after it, so the writer puts the silence in the right place.
  if (audio_gap_ > 0) {
    if (!gaps_.push(Gap{audio_pushed_, audio_gap_})) {
      audio_gap_ += frames;
      return;
    }
    audio_gap_ = 0;
  }
  ring_.push(s, count);
  audio_pushed_ += frames;
}

void Recorder::publish() {
  telemetry_.frames_written = written_;
  if (fd_ >= 0) {
    struct stat st {};
    if (::fstat(fd_, &st) == 0) telemetry_.bytes = static_cast<uint64_t>(st.st_size);
  }
  telemetry_.takes_total = takes_total_;
  telemetry_.bytes_total = bytes_done_ + (file_ ? telemetry_.bytes : 0);
  telemetry_.gaps_total = gaps_total_;
  telemetry_.gap_frames_total = gap_frames_total_;
  link_->recording.store(telemetry_);
}

void Recorder::note_stall(int64_t began_ns) {
  const auto took = static_cast<uint64_t>(now_ns() - began_ns);
  if (took > telemetry_.longest_stall_ns) telemetry_.longest_stall_ns = took;
}

void Recorder::begin(const link::RecordCommand& cmd) {
  if (file_) finish(link::RecordStopReason::kRequested, 0);
  // Whatever a past take left behind (a block pushed while it stopped) is not this take's.
  float sink[1024];
  while (ring_.pop(sink, 1024) > 0) {
  }
  Gap g;
  while (gaps_.pop(g)) {
  }
  const uint32_t ch = take_channels(cmd.source, out_channels_);
  telemetry_ = link::RecordTelemetry{};
  telemetry_.seq = cmd.seq;
  telemetry_.source = cmd.source;
  telemetry_.format = cmd.format;
  telemetry_.channels = ch;
  telemetry_.rate = rate_;
  telemetry_.ring_ms = static_cast<uint32_t>(ring_.capacity() / ch * 1000 / rate_);
  std::memcpy(telemetry_.path, cmd.path, sizeof telemetry_.path);
  telemetry_.path[sizeof telemetry_.path - 1] = '\0';

  fd_ = ::open(telemetry_.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    telemetry_.state = link::RecordState::kFailed;
    telemetry_.reason = link::RecordStopReason::kOpenError;
    telemetry_.error = errno;
    publish();
    return;
  }
  SF_INFO info{};
  info.samplerate = static_cast<int>(rate_);
  info.channels = static_cast<int>(ch);
  info.format = (cmd.format == link::RecordFormat::kFlac ? SF_FORMAT_FLAC : SF_FORMAT_WAV) | SF_FORMAT_PCM_24;
  SNDFILE* sf = sf_open_fd(fd_, SFM_WRITE, &info, SF_TRUE);
  if (!sf) {
    ::close(fd_);
    ::unlink(telemetry_.path);
    fd_ = -1;
    telemetry_.state = link::RecordState::kFailed;
    telemetry_.reason = link::RecordStopReason::kOpenError;
    telemetry_.error = EINVAL;
    publish();
    return;
  }
  sf_command(sf, SFC_SET_CLIPPING, nullptr, SF_TRUE);
  file_ = sf;
  ++takes_total_;
  written_ = 0;
  has_gap_ = false;
  next_sync_ns_ = now_ns() + static_cast<int64_t>(config_.sync_ms) * 1'000'000;
  telemetry_.state = link::RecordState::kRecording;
  telemetry_.started_ns = static_cast<uint64_t>(now_ns());
  check_disk();
  if (!file_) return;  // no room to start with
  source_.store(static_cast<uint32_t>(cmd.source), std::memory_order_relaxed);
  channels_.store(ch, std::memory_order_relaxed);
  epoch_.store(epoch_.load(std::memory_order_relaxed) | 1u, std::memory_order_release);
  publish();
}

bool Recorder::write_frames(const float* data, uint64_t frames) {
  auto* sf = static_cast<SNDFILE*>(file_);
  const int64_t began = now_ns();
  const sf_count_t n = sf_writef_float(sf, data, static_cast<sf_count_t>(frames));
  note_stall(began);
  if (n > 0) written_ += static_cast<uint64_t>(n);
  return n == static_cast<sf_count_t>(frames);
}

bool Recorder::write_silence(uint64_t frames) {
  while (frames > 0) {
    const uint64_t n = frames < kChunkFrames ? frames : kChunkFrames;
    if (!write_frames(zeros_.data(), n)) return false;
    frames -= n;
  }
  return true;
}

void Recorder::drain(bool all) {
  if (!file_) return;
  const uint32_t ch = telemetry_.channels;
  uint64_t budget = all ? UINT64_MAX : static_cast<uint64_t>(rate_);  // about a second per round
  // The audio pushed before this snapshot; a gap announced later lies after it.
  uint64_t avail = ring_.available() / ch;
  if (avail > telemetry_.ring_high_water_frames) telemetry_.ring_high_water_frames = avail;
  while (budget > 0) {
    if (!has_gap_ && gaps_.pop(gap_)) has_gap_ = true;
    const uint64_t consumed = written_ - telemetry_.gap_frames;
    if (has_gap_ && consumed == gap_.at) {
      ++telemetry_.gaps;
      telemetry_.gap_frames += gap_.frames;
      ++gaps_total_;
      gap_frames_total_ += gap_.frames;
      has_gap_ = false;
      if (!write_silence(gap_.frames)) {
        finish(link::RecordStopReason::kWriteError, errno);
        return;
      }
      continue;
    }
    uint64_t want = avail < kChunkFrames ? avail : kChunkFrames;
    if (has_gap_ && gap_.at - consumed < want) want = gap_.at - consumed;
    if (want == 0) break;
    const uint32_t got = ring_.pop(chunk_.data(), static_cast<uint32_t>(want * ch)) / ch;
    if (got == 0) break;
    avail -= got;
    budget = budget > got ? budget - got : 0;
    if (!write_frames(chunk_.data(), got)) {
      const int err = errno;
      finish(err == ENOSPC ? link::RecordStopReason::kDiskFull : link::RecordStopReason::kWriteError, err);
      return;
    }
  }
}

void Recorder::check_disk() {
  struct statvfs st {};
  if (::statvfs(parent_dir(telemetry_.path).c_str(), &st) != 0) return;
  telemetry_.free_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  if (telemetry_.free_bytes < config_.margin_bytes) finish(link::RecordStopReason::kDiskFull, ENOSPC);
}

void Recorder::finish(link::RecordStopReason reason, int error) {
  if (!file_) return;
  epoch_.store((epoch_.load(std::memory_order_relaxed) | 1u) + 1u, std::memory_order_release);
  // The audio thread may be inside push() with the old epoch: give it a few ms to leave.
  sleep_until_ns(now_ns() + 5'000'000);
  if (reason != link::RecordStopReason::kWriteError && reason != link::RecordStopReason::kDiskFull) {
    void* f = file_;
    drain(true);
    if (file_ != f) return;  // the drain itself ended the take
  }
  auto* sf = static_cast<SNDFILE*>(file_);
  file_ = nullptr;
  const int64_t began = now_ns();
  sf_write_sync(sf);
  sf_close(sf);  // writes the final header (WAV sizes, FLAC STREAMINFO) and closes the descriptor
  note_stall(began);
  fd_ = -1;
  struct stat st {};
  if (::stat(telemetry_.path, &st) == 0) telemetry_.bytes = static_cast<uint64_t>(st.st_size);
  bytes_done_ += telemetry_.bytes;
  telemetry_.state = link::RecordState::kStopped;
  telemetry_.reason = reason;
  telemetry_.error = error;
  publish();
}

void Recorder::thread_main() {
  pthread_setname_np(pthread_self(), "hb-writer");
  int64_t next_publish = 0;
  while (!stop_.load(std::memory_order_relaxed)) {
    link::RecordCommand cmd;
    while (link_->record_commands.pop(cmd)) {
      if (cmd.type == link::RecordCommandType::kStart) {
        begin(cmd);
      } else if (cmd.type == link::RecordCommandType::kStop) {
        telemetry_.seq = cmd.seq;
        if (file_)
          finish(link::RecordStopReason::kRequested, 0);
        else
          publish();
      }
    }
    if (file_) {
      if (config_.stall_ms && !stalled_ && written_ * 1000 / rate_ >= config_.stall_at_ms) {
        stalled_ = true;  // the test hook: a card that stops taking writes for a while
        const int64_t began = now_ns();
        sleep_until_ns(began + static_cast<int64_t>(config_.stall_ms) * 1'000'000);
        note_stall(began);
      }
      drain(false);
      const int64_t now = now_ns();
      if (file_ && now >= next_sync_ns_) {
        // The header says how much audio there is, and it is on the card: a power cut loses about a second.
        auto* sf = static_cast<SNDFILE*>(file_);
        const int64_t began = now_ns();
        sf_command(sf, SFC_UPDATE_HEADER_NOW, nullptr, 0);
        sf_write_sync(sf);
        note_stall(began);
        next_sync_ns_ = now + static_cast<int64_t>(config_.sync_ms) * 1'000'000;
        check_disk();
      }
    }
    const int64_t now = now_ns();
    if (now >= next_publish) {
      publish();
      next_publish = now + 100'000'000;
    }
    sleep_until_ns(now + 10'000'000);
  }
  finish(link::RecordStopReason::kEngineStop, 0);
  publish();
}

}  // namespace hushbox
