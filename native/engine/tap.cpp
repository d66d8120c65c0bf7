#include "tap.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <soxr.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>

#include "json.h"
#include "rt.h"

namespace hushbox {

namespace {
constexpr const char* kWyomingVersion = "1.6.0";  // the protocol version these events follow
constexpr size_t kMaxInput = 8192;                // bytes a client may have unparsed
constexpr int64_t kAuthTimeoutNs = 5'000'000'000;

bool same_token(const std::string& a, const std::string& b) {
  // Constant time over the expected token's length.
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < b.size(); ++i) diff |= static_cast<unsigned>(b[i] ^ (i < a.size() ? a[i] : 0));
  return diff == 0 && !b.empty();
}
// The token file's first line; read at each TCP login, so a new token works at once.
bool read_token(const std::string& path, std::string& out) {
  std::ifstream f(path);
  std::string line;
  if (!f || !std::getline(f, line)) return false;
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.size() < 16) return false;
  out = line;
  return true;
}
}  // namespace

struct TapClientState {
  int fd = -1;
  uint32_t id = 0;
  uint32_t transport = 0;  // 0 unix, 1 tcp
  bool authorized = false;
  bool started = false;  // audio-start sent for the current format
  uint32_t rate = 16000;
  uint32_t width = 2;
  soxr_t soxr = nullptr;
  std::vector<float> resampled;   // soxr output scratch
  std::vector<float> pending;     // resampled audio not yet in a chunk
  uint64_t position = 0;          // frames of this client's stream so far (sent, queued or dropped)
  std::deque<std::string> queue;  // encoded events waiting for the socket
  std::deque<uint32_t> queue_frames;
  size_t front_offset = 0;  // bytes of queue.front() already sent
  uint64_t queued_frames = 0;
  uint64_t sent_frames = 0;
  uint64_t dropped_frames = 0;
  int64_t connected_ns = 0;
  int64_t progress_ns = 0;  // last time the socket took bytes or the queue was empty
  std::string input;

  ~TapClientState() {
    if (soxr) soxr_delete(soxr);
    if (fd >= 0) ::close(fd);
  }
};

Tap::Tap() = default;
Tap::~Tap() {
  stop();
  if (unix_fd_ >= 0) {
    ::close(unix_fd_);
    ::unlink(config_.socket_path.c_str());
  }
  if (tcp_fd_ >= 0) ::close(tcp_fd_);
}

void Tap::disable() {
  enabled_ = false;
  if (unix_fd_ >= 0) {
    ::close(unix_fd_);
    ::unlink(config_.socket_path.c_str());
  }
  if (tcp_fd_ >= 0) ::close(tcp_fd_);
  unix_fd_ = tcp_fd_ = -1;
  telemetry_.listening = 0;
  link_->tap.store(telemetry_);
}

Status Tap::init(const TapConfig& config, uint32_t engine_rate, uint32_t max_frames, link::Segment* segment) {
  config_ = config;
  engine_rate_ = engine_rate;
  link_ = segment;
  source_.store(static_cast<uint32_t>(config.source));
  telemetry_ = link::TapTelemetry{};
  telemetry_.source = static_cast<uint32_t>(config.source);
  link_->tap.init(telemetry_);
  enabled_ = config.enabled();
  if (!enabled_) return Status::success();
  if (config.rate != 16000 && config.rate != 48000 && config.rate != engine_rate)
    return Status::error("--tap-rate " + std::to_string(config.rate) + " is not offered (16000 or 48000)");
  if (config.width != 2 && config.width != 4) return Status::error("--tap-format must be s16le or f32");
  // Half a second between the audio thread and the tap thread, which drains it every few ms.
  ring_.allocate(engine_rate / 2);
  scratch_.assign(max_frames, 0.0f);
  pop_buffer_.assign(engine_rate / 2, 0.0f);

  if (config.tcp_port != 0) {
    if (!read_token(config.token_file, token_))
      return Status::error(config.token_file + ": cannot read a stream token of at least 16 characters");
  }

  if (!config.socket_path.empty()) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (config.socket_path.size() >= sizeof addr.sun_path)
      return Status::error("--tap-socket " + config.socket_path + ": path too long for a Unix socket");
    std::memcpy(addr.sun_path, config.socket_path.c_str(), config.socket_path.size() + 1);
    unix_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (unix_fd_ < 0) return Status::error(std::string("tap: socket: ") + std::strerror(errno));
    struct stat st {};
    // A socket left by an engine that did not stop cleanly.
    if (::lstat(config.socket_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(config.socket_path.c_str());
    if (::bind(unix_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(unix_fd_, 16) != 0)
      return Status::error("--tap-socket " + config.socket_path + ": " + std::strerror(errno));
    ::chmod(config.socket_path.c_str(), 0660);
  }
  if (config.tcp_port != 0) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(config.tcp_port);
    if (::getaddrinfo(config.tcp_host.c_str(), port.c_str(), &hints, &res) != 0 || !res)
      return Status::error("--tap-tcp: '" + config.tcp_host + "' is not a numeric address");
    tcp_fd_ = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    ::setsockopt(tcp_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const bool ok = tcp_fd_ >= 0 && ::bind(tcp_fd_, res->ai_addr, res->ai_addrlen) == 0 && ::listen(tcp_fd_, 16) == 0;
    const int err = errno;
    ::freeaddrinfo(res);
    if (!ok) return Status::error("--tap-tcp " + config.tcp_host + ":" + port + ": " + std::strerror(err));
  }
  telemetry_.listening = (unix_fd_ >= 0 ? 1u : 0u) | (tcp_fd_ >= 0 ? 2u : 0u);
  link_->tap.store(telemetry_);
  return Status::success();
}

Status Tap::start() {
  if (!enabled_ || running_) return Status::success();
  stop_.store(false);
  if (!start_thread(
          thread_,
          [](void* self) -> void* {
            static_cast<Tap*>(self)->thread_main();
            return nullptr;
          },
          this))
    return Status::error("cannot start the tap thread");
  running_ = true;
  return Status::success();
}

void Tap::stop() {
  if (!running_) return;
  stop_.store(true);
  pthread_join(thread_, nullptr);
  running_ = false;
}

namespace {

// One Wyoming event as the reference package writes it: a JSON header line
// with data_length and payload_length, then the data JSON, then the payload.
std::string encode_event(const char* type, const std::string& data, const void* payload, size_t payload_length) {
  char header[192];
  int n;
  if (payload_length > 0)
    n = std::snprintf(header, sizeof header,
                      "{\"type\": \"%s\", \"version\": \"%s\", \"data_length\": %zu, \"payload_length\": %zu}\n", type,
                      kWyomingVersion, data.size(), payload_length);
  else
    n = std::snprintf(header, sizeof header, "{\"type\": \"%s\", \"version\": \"%s\", \"data_length\": %zu}\n", type,
                      kWyomingVersion, data.size());
  std::string out;
  out.reserve(static_cast<size_t>(n) + data.size() + payload_length);
  out.append(header, static_cast<size_t>(n));
  out += data;
  out.append(static_cast<const char*>(payload), payload_length);
  return out;
}

std::string format_data(const TapClientState& c, bool with_format) {
  char buf[160];
  const uint64_t ms = c.position * 1000 / c.rate;
  if (with_format)
    std::snprintf(buf, sizeof buf, "{\"rate\": %u, \"width\": %u, \"channels\": 1, \"timestamp\": %llu%s}", c.rate,
                  c.width, static_cast<unsigned long long>(ms), c.width == 4 ? ", \"format\": \"f32le\"" : "");
  else
    std::snprintf(buf, sizeof buf, "{\"timestamp\": %llu}", static_cast<unsigned long long>(ms));
  return buf;
}

void enqueue(TapClientState& c, std::string event, uint32_t frames, uint64_t backlog_frames) {
  // Make room by dropping the oldest chunks not yet begun (a begun one must finish: framing).
  while (frames > 0 && c.queued_frames + frames > backlog_frames) {
    size_t victim = c.front_offset > 0 ? 1 : 0;
    while (victim < c.queue.size() && c.queue_frames[victim] == 0) ++victim;  // keep audio-start/stop
    if (victim >= c.queue.size()) break;
    c.queued_frames -= c.queue_frames[victim];
    c.dropped_frames += c.queue_frames[victim];
    c.queue.erase(c.queue.begin() + static_cast<std::ptrdiff_t>(victim));
    c.queue_frames.erase(c.queue_frames.begin() + static_cast<std::ptrdiff_t>(victim));
  }
  if (c.queue.empty()) c.progress_ns = now_ns();
  c.queue.push_back(std::move(event));
  c.queue_frames.push_back(frames);
  c.queued_frames += frames;
}

bool configure(TapClientState& c, uint32_t engine_rate) {
  if (c.soxr) soxr_delete(c.soxr);
  c.soxr = nullptr;
  c.pending.clear();
  if (c.rate != engine_rate) {
    soxr_error_t err = nullptr;
    const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    const soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    c.soxr = soxr_create(engine_rate, c.rate, 1, &err, &io, &q, nullptr);
    if (err) return false;
  }
  return true;
}

void start_stream(TapClientState& c, uint64_t backlog) {
  enqueue(c, encode_event("audio-start", format_data(c, true), nullptr, 0), 0, backlog);
  c.started = true;
}

void stop_stream(TapClientState& c, uint64_t backlog) {
  if (!c.started) return;
  enqueue(c, encode_event("audio-stop", format_data(c, false), nullptr, 0), 0, backlog);
  c.started = false;
}

}  // namespace

void Tap::accept_clients(int listen_fd, uint32_t transport) {
  for (;;) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    if (clients_.size() >= link::kMaxTapClients) {
      ++telemetry_.clients_refused;
      ::close(fd);
      continue;
    }
    auto c = std::make_unique<TapClientState>();
    c->fd = fd;
    c->id = next_id_++;
    c->transport = transport;
    c->rate = config_.rate;
    c->width = config_.width;
    c->connected_ns = c->progress_ns = now_ns();
    // A small socket buffer: what a stuck client cannot take stays in our
    // queue, where the oldest can be dropped, not in the kernel's.
    int sndbuf = static_cast<int>(c->rate * c->width / 4);
    if (sndbuf < 8192) sndbuf = 8192;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (transport == 1) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    c->authorized = transport == 0;
    ++telemetry_.clients_accepted;
    if (!configure(*c, engine_rate_)) continue;
    if (c->authorized) start_stream(*c, 0);
    clients_.push_back(std::move(c));
  }
}

void Tap::feed_clients(const float* samples, uint32_t n) {
  for (auto& cp : clients_) {
    TapClientState& c = *cp;
    if (!c.authorized || !c.started) continue;
    const float* out = samples;
    size_t produced = n;
    if (c.soxr) {
      const size_t room = static_cast<size_t>(n) * c.rate / engine_rate_ + 64;
      if (c.resampled.size() < room) c.resampled.resize(room);
      size_t done = 0;
      soxr_process(c.soxr, samples, n, nullptr, c.resampled.data(), room, &done);
      out = c.resampled.data();
      produced = done;
    }
    c.pending.insert(c.pending.end(), out, out + produced);
    const size_t chunk = static_cast<size_t>(c.rate) * config_.chunk_ms / 1000;
    const uint64_t backlog = static_cast<uint64_t>(c.rate) * config_.backlog_ms / 1000;
    size_t at = 0;
    std::vector<uint8_t> payload;
    while (c.pending.size() - at >= chunk) {
      payload.resize(chunk * c.width);
      if (c.width == 2) {
        auto* p = payload.data();
        for (size_t i = 0; i < chunk; ++i) {
          float x = c.pending[at + i] * 32768.0f;
          x = x > 32767.0f ? 32767.0f : (x < -32768.0f ? -32768.0f : x);
          const auto v = static_cast<int16_t>(std::lrint(x));
          p[2 * i] = static_cast<uint8_t>(v & 0xff);
          p[2 * i + 1] = static_cast<uint8_t>((v >> 8) & 0xff);
        }
      } else {
        std::memcpy(payload.data(), c.pending.data() + at, chunk * 4);  // the box is little-endian
      }
      enqueue(c, encode_event("audio-chunk", format_data(c, true), payload.data(), payload.size()),
              static_cast<uint32_t>(chunk), backlog);
      c.position += chunk;
      at += chunk;
    }
    c.pending.erase(c.pending.begin(), c.pending.begin() + static_cast<std::ptrdiff_t>(at));
  }
}

void Tap::close_client(size_t index) { clients_.erase(clients_.begin() + static_cast<std::ptrdiff_t>(index)); }

void Tap::publish() {
  telemetry_.ring_dropped_frames = ring_dropped_.load(std::memory_order_relaxed);
  telemetry_.source = source_.load(std::memory_order_relaxed);
  telemetry_.time_ns = static_cast<uint64_t>(now_ns());
  for (uint32_t i = 0; i < link::kMaxTapClients; ++i) {
    link::TapClient& t = telemetry_.clients[i];
    t = link::TapClient{};
    if (i >= clients_.size()) continue;
    const TapClientState& c = *clients_[i];
    t.id = c.id;
    t.transport = c.transport;
    t.rate = c.rate;
    t.width = c.width;
    t.connected_ns = static_cast<uint64_t>(c.connected_ns);
    t.sent_frames = c.sent_frames;
    t.dropped_frames = c.dropped_frames;
    t.queued_ms = static_cast<uint32_t>(c.queued_frames * 1000 / c.rate);
  }
  link_->tap.store(telemetry_);
}

namespace {

// Parse whole events out of the client's input; false when the client must go.
bool read_events(TapClientState& c, const std::string& token_file, uint32_t engine_rate, uint64_t& refused,
                 uint64_t backlog_ms) {
  char buf[2048];
  for (;;) {
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n == 0) return false;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
      return false;
    }
    c.input.append(buf, static_cast<size_t>(n));
    if (c.input.size() > kMaxInput) return false;
  }
  for (;;) {
    const size_t nl = c.input.find('\n');
    if (nl == std::string::npos) return true;
    json::Value header;
    if (!json::parse(c.input.substr(0, nl), header) || header.type != json::Value::Type::kObject) return false;
    const json::Value* dl = header.get("data_length");
    const json::Value* pl = header.get("payload_length");
    const size_t data_length = dl && dl->type == json::Value::Type::kNumber ? static_cast<size_t>(dl->number) : 0;
    const size_t payload_length = pl && pl->type == json::Value::Type::kNumber ? static_cast<size_t>(pl->number) : 0;
    if (data_length + payload_length > kMaxInput) return false;
    if (c.input.size() < nl + 1 + data_length + payload_length) return true;  // wait for the rest
    json::Value data;
    if (const json::Value* d = header.get("data"); d && d->type == json::Value::Type::kObject) data = *d;
    if (data_length > 0) {
      json::Value extra;
      if (!json::parse(c.input.substr(nl + 1, data_length), extra) || extra.type != json::Value::Type::kObject)
        return false;
      if (data.type != json::Value::Type::kObject) data.type = json::Value::Type::kObject;
      for (auto& kv : extra.object) data.object.push_back(kv);
    }
    c.input.erase(0, nl + 1 + data_length + payload_length);
    const json::Value* type = header.get("type");
    const std::string t = type && type->type == json::Value::Type::kString ? type->string : "";
    const uint64_t backlog = static_cast<uint64_t>(c.rate) * backlog_ms / 1000;
    if (t == "hushbox-auth") {
      const json::Value* tok = data.get("token");
      std::string token;
      if (!tok || tok->type != json::Value::Type::kString || !read_token(token_file, token) ||
          !same_token(tok->string, token)) {
        ++refused;
        return false;
      }
      if (!c.authorized) {
        c.authorized = true;
        start_stream(c, backlog);
      }
    } else if (t == "hushbox-format") {
      if (!c.authorized) return false;
      const json::Value* r = data.get("rate");
      const json::Value* f = data.get("format");
      const uint32_t rate = r && r->type == json::Value::Type::kNumber ? static_cast<uint32_t>(r->number) : c.rate;
      const std::string fmt = f && f->type == json::Value::Type::kString ? f->string : (c.width == 4 ? "f32" : "s16le");
      if ((rate != 16000 && rate != 48000) || (fmt != "s16le" && fmt != "f32")) return false;
      stop_stream(c, backlog);
      c.rate = rate;
      c.width = fmt == "f32" ? 4 : 2;
      c.position = 0;
      if (!configure(c, engine_rate)) return false;
      start_stream(c, backlog);
    } else if (!c.authorized) {
      ++refused;
      return false;  // on TCP the first event must be the token
    } else if (t == "describe") {
      // A Wyoming client asks what this service is: a mic, in the format it streams.
      char info[512];
      std::snprintf(info, sizeof info,
                    "{\"asr\": [], \"tts\": [], \"handle\": [], \"intent\": [], \"wake\": [], \"snd\": [], "
                    "\"mic\": [{\"name\": \"hushbox\", \"attribution\": {\"name\": \"hushbox\", \"url\": \"\"}, "
                    "\"installed\": true, \"description\": \"the box's audio stream\", \"version\": null, "
                    "\"mic_format\": {\"rate\": %u, \"width\": %u, \"channels\": 1}}]}",
                    c.rate, c.width);
      enqueue(c, encode_event("info", info, nullptr, 0), 0, backlog);
    }
  }
}

// Send what the socket takes; false when the client is gone.
bool flush(TapClientState& c, int64_t now) {
  while (!c.queue.empty()) {
    const std::string& front = c.queue.front();
    const ssize_t n = ::send(c.fd, front.data() + c.front_offset, front.size() - c.front_offset, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
      return false;
    }
    c.progress_ns = now;
    c.front_offset += static_cast<size_t>(n);
    if (c.front_offset < front.size()) return true;
    c.front_offset = 0;
    c.sent_frames += c.queue_frames.front();
    c.queued_frames -= c.queue_frames.front();
    c.queue.pop_front();
    c.queue_frames.pop_front();
  }
  c.progress_ns = now;
  return true;
}

}  // namespace

void Tap::thread_main() {
  pthread_setname_np(pthread_self(), "hb-tap");
  std::vector<pollfd> fds;
  int64_t next_publish = 0;
  while (!stop_.load(std::memory_order_relaxed)) {
    fds.clear();
    if (unix_fd_ >= 0) fds.push_back({unix_fd_, POLLIN, 0});
    if (tcp_fd_ >= 0) fds.push_back({tcp_fd_, POLLIN, 0});
    const size_t first_client = fds.size();
    for (auto& c : clients_) {
      const short ev = static_cast<short>(POLLIN | (c->queue.empty() ? 0 : POLLOUT));
      fds.push_back({c->fd, ev, 0});
    }
    ::poll(fds.data(), fds.size(), static_cast<int>(config_.poll_ms));
    const int64_t now = now_ns();

    // Clients first (indices into fds match clients_ before accepting new ones).
    uint64_t refused = 0;
    for (size_t i = clients_.size(); i-- > 0;) {
      TapClientState& c = *clients_[i];
      const short re = fds[first_client + i].revents;
      bool keep = true;
      if (re & (POLLIN | POLLHUP | POLLERR))
        keep = read_events(c, config_.token_file, engine_rate_, refused, config_.backlog_ms);
      if (keep && !c.authorized && now - c.connected_ns > kAuthTimeoutNs) {
        ++refused;
        keep = false;
      }
      if (!keep) close_client(i);
    }
    telemetry_.clients_refused += refused;
    for (size_t i = 0; i < first_client; ++i)
      if (fds[i].revents & POLLIN) accept_clients(fds[i].fd, fds[i].fd == tcp_fd_ ? 1 : 0);

    bool any = false;
    for (auto& c : clients_) any = any || (c->authorized && c->started);
    if (any != active_.load(std::memory_order_relaxed)) {
      if (!any) {  // nobody listens: the audio thread stops pushing; start afresh next time
        float sink[1024];
        while (ring_.pop(sink, 1024) > 0) {
        }
      }
      active_.store(any, std::memory_order_relaxed);
    }

    for (;;) {
      const uint32_t n = ring_.pop(pop_buffer_.data(), static_cast<uint32_t>(pop_buffer_.size()));
      if (n == 0) break;
      feed_clients(pop_buffer_.data(), n);
    }

    for (size_t i = clients_.size(); i-- > 0;) {
      TapClientState& c = *clients_[i];
      bool keep = flush(c, now);
      if (keep && !c.queue.empty() && now - c.progress_ns > static_cast<int64_t>(config_.stuck_ms) * 1'000'000) {
        ++telemetry_.clients_dropped_stuck;
        keep = false;
      }
      if (!keep) close_client(i);
    }
    if (now >= next_publish) {
      publish();
      next_publish = now + 50'000'000;
    }
  }
  // The engine stops: every client hears audio-stop (as far as its socket takes it).
  for (auto& c : clients_) {
    stop_stream(*c, UINT64_MAX);
    flush(*c, now_ns());
  }
  clients_.clear();
  active_.store(false);
  publish();
}

}  // namespace hushbox
