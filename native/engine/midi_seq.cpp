#include "midi_seq.h"

#include <cerrno>

#include "rt.h"

namespace hushbox::midi {

int AlsaSequencer::open(const char*& what) noexcept {
  close();
  int err = snd_seq_open(&seq_, "default", SND_SEQ_OPEN_DUPLEX, SND_SEQ_NONBLOCK);
  if (err < 0) {
    seq_ = nullptr;
    what = "cannot open the ALSA sequencer";
    return err;
  }
  snd_seq_set_client_name(seq_, "hushbox");
  // Room for a burst: the kernel holds this many events for us before it drops (and counts) them.
  snd_seq_set_client_pool_input(seq_, 4096);
  snd_seq_set_input_buffer_size(seq_, 65536);
  client_ = snd_seq_client_id(seq_);
  port_ = snd_seq_create_simple_port(seq_, "hushbox MIDI in", SND_SEQ_PORT_CAP_WRITE | SND_SEQ_PORT_CAP_SUBS_WRITE,
                                     SND_SEQ_PORT_TYPE_MIDI_GENERIC | SND_SEQ_PORT_TYPE_APPLICATION);
  if (port_ < 0) {
    err = port_;
    what = "cannot create the sequencer port";
    close();
    return err;
  }
  // New ports are announced on the system client's announce port.
  snd_seq_connect_from(seq_, port_, SND_SEQ_CLIENT_SYSTEM, SND_SEQ_PORT_SYSTEM_ANNOUNCE);
  nfds_ = snd_seq_poll_descriptors(seq_, fds_, 8, POLLIN);
  return 0;
}

void AlsaSequencer::close() noexcept {
  if (seq_) snd_seq_close(seq_);
  seq_ = nullptr;
  client_ = port_ = -1;
  nfds_ = 0;
}

uint32_t AlsaSequencer::ports(PortAddr* out, uint32_t max) noexcept {
  uint32_t n = 0;
  snd_seq_client_info_t* cinfo;
  snd_seq_port_info_t* pinfo;
  snd_seq_client_info_alloca(&cinfo);
  snd_seq_port_info_alloca(&pinfo);
  snd_seq_client_info_set_client(cinfo, -1);
  while (n < max && snd_seq_query_next_client(seq_, cinfo) >= 0) {
    const int client = snd_seq_client_info_get_client(cinfo);
    snd_seq_port_info_set_client(pinfo, client);
    snd_seq_port_info_set_port(pinfo, -1);
    while (n < max && snd_seq_query_next_port(seq_, pinfo) >= 0) out[n++] = {client, snd_seq_port_info_get_port(pinfo)};
  }
  return n;
}

bool AlsaSequencer::readable(PortAddr a) noexcept {
  snd_seq_port_info_t* info;
  snd_seq_port_info_alloca(&info);
  if (snd_seq_get_any_port_info(seq_, a.client, a.port, info) < 0) return false;
  const unsigned caps = snd_seq_port_info_get_capability(info);
  const unsigned want = SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ;
  return (caps & want) == want && !(caps & SND_SEQ_PORT_CAP_NO_EXPORT);
}

int AlsaSequencer::connect_from(PortAddr a) noexcept { return snd_seq_connect_from(seq_, port_, a.client, a.port); }

int AlsaSequencer::wait(int timeout_ms) noexcept {
  // Events alsa-lib already read from the kernel do not wake poll().
  if (snd_seq_event_input_pending(seq_, 0) > 0) return 1;
  const int r = poll(fds_, static_cast<nfds_t>(nfds_), timeout_ms);
  return r < 0 ? -errno : r;
}

int AlsaSequencer::read(const snd_seq_event_t*& ev) noexcept {
  snd_seq_event_t* e = nullptr;
  const int err = snd_seq_event_input(seq_, &e);
  if (err >= 0 && !e) return -EAGAIN;
  ev = e;
  return err;
}

uint64_t AlsaSequencer::lost() noexcept {
  snd_seq_client_info_t* self;
  snd_seq_client_info_alloca(&self);
  if (snd_seq_get_client_info(seq_, self) < 0) return 0;
  return static_cast<uint64_t>(snd_seq_client_info_get_event_lost(self));
}

bool from_seq_event(const snd_seq_event_t& ev, int64_t time_ns, Message& m) noexcept {
  m = Message{time_ns, Kind::kNone, 0, 0, 0};
  switch (ev.type) {
    case SND_SEQ_EVENT_CONTROLLER:
      m.kind = Kind::kControl;
      m.channel = ev.data.control.channel & 0x0F;
      m.number = static_cast<uint8_t>(ev.data.control.param & 0x7F);
      m.value = static_cast<uint8_t>(ev.data.control.value & 0x7F);
      return true;
    case SND_SEQ_EVENT_PGMCHANGE:
      m.kind = Kind::kProgram;
      m.channel = ev.data.control.channel & 0x0F;
      m.number = static_cast<uint8_t>(ev.data.control.value & 0x7F);
      return true;
    case SND_SEQ_EVENT_NOTEON:
    case SND_SEQ_EVENT_NOTEOFF:
      m.kind = ev.type == SND_SEQ_EVENT_NOTEON && ev.data.note.velocity ? Kind::kNoteOn : Kind::kNoteOff;
      m.channel = ev.data.note.channel & 0x0F;
      m.number = ev.data.note.note & 0x7F;
      m.value = ev.data.note.velocity & 0x7F;
      return true;
    default: return false;
  }
}

void SeqReader::start() noexcept {
  me_ = seq_.client_id();
  count_ = 0;
  lost_before_ = seq_.lost();
  PortAddr found[kMaxSubscriptions];
  const uint32_t n = seq_.ports(found, kMaxSubscriptions);
  for (uint32_t i = 0; i < n; ++i) subscribe(found[i]);
  counters_.ports.store(count_, std::memory_order_relaxed);
}

bool SeqReader::subscribed(PortAddr a) const noexcept {
  for (uint32_t i = 0; i < count_; ++i)
    if (subscribed_[i].client == a.client && subscribed_[i].port == a.port) return true;
  return false;
}

void SeqReader::subscribe(PortAddr a) noexcept {
  if (a.client == me_ || a.client == SND_SEQ_CLIENT_SYSTEM || count_ >= kMaxSubscriptions) return;
  if (subscribed(a) || !seq_.readable(a)) return;
  if (seq_.connect_from(a) == 0) subscribed_[count_++] = a;
}

void SeqReader::unsubscribed(int client, int port) noexcept {
  for (uint32_t i = 0; i < count_; ++i)
    if (subscribed_[i].client == client && (port < 0 || subscribed_[i].port == port))
      subscribed_[i--] = subscribed_[--count_];
}

void SeqReader::count_lost() noexcept {
  const uint64_t lost = seq_.lost();
  if (lost > lost_before_) counters_.dropped.fetch_add(lost - lost_before_, std::memory_order_relaxed);
  lost_before_ = lost;
}

void SeqReader::handle(const snd_seq_event_t& ev) noexcept {
  Message m;
  if (from_seq_event(ev, now_ns(), m)) {
    counters_.received.fetch_add(1, std::memory_order_relaxed);
    if (!queue_.push(m)) counters_.dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  switch (ev.type) {
    case SND_SEQ_EVENT_PORT_START: subscribe({ev.data.addr.client, ev.data.addr.port}); break;
    case SND_SEQ_EVENT_PORT_EXIT: unsubscribed(ev.data.addr.client, ev.data.addr.port); break;
    case SND_SEQ_EVENT_CLIENT_EXIT: unsubscribed(ev.data.addr.client, -1); break;
    // Port and client changes, subscriptions made or gone: announcements, not MIDI.
    case SND_SEQ_EVENT_CLIENT_START:
    case SND_SEQ_EVENT_CLIENT_CHANGE:
    case SND_SEQ_EVENT_PORT_CHANGE:
    case SND_SEQ_EVENT_PORT_SUBSCRIBED:
    case SND_SEQ_EVENT_PORT_UNSUBSCRIBED: break;
    default: counters_.ignored.fetch_add(1, std::memory_order_relaxed); break;
  }
  counters_.ports.store(count_, std::memory_order_relaxed);
}

int SeqReader::pump(uint32_t max) noexcept {
  for (uint32_t n = 0; n < max; ++n) {
    const snd_seq_event_t* ev = nullptr;
    const int err = seq_.read(ev);
    if (err == -EAGAIN) return 0;
    if (err == -ENOSPC) {  // the kernel's queue for us overran: events are lost
      counters_.overruns.fetch_add(1, std::memory_order_relaxed);
      count_lost();
      continue;
    }
    if (err < 0) return err;
    if (!ev) return 0;
    handle(*ev);
  }
  return 0;
}

}  // namespace hushbox::midi
