// System calls for the supervisor (see system.h). Every failure is a JS error
// with a `code` (the errno name, or ERR_INVALID_ARG).
#include "system.h"

#include <alsa/asoundlib.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace hushbox::addon {
namespace {

Napi::Error coded_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

Napi::Error errno_error(Napi::Env env, int err, const std::string& what) {
  const char* name = strerrorname_np(err);
  return coded_error(env, name ? name : "EUNKNOWN", what + ": " + std::strerror(err));
}

int int_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber())
    throw coded_error(info.Env(), "ERR_INVALID_ARG", std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

std::string string_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsString())
    throw coded_error(info.Env(), "ERR_INVALID_ARG", std::string(name) + " must be a string");
  return info[i].As<Napi::String>();
}

const char* policy_name(int policy) {
  switch (policy & ~SCHED_RESET_ON_FORK) {
    case SCHED_OTHER: return "other";
    case SCHED_FIFO: return "fifo";
    case SCHED_RR: return "rr";
    case SCHED_BATCH: return "batch";
    case SCHED_IDLE: return "idle";
  }
  return "unknown";
}

// setScheduler(pid, 'fifo'|'rr'|'other', priority): pid 0 is the calling thread.
Napi::Value SetScheduler(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int pid = int_arg(info, 0, "pid");
  const std::string policy = string_arg(info, 1, "policy");
  const int priority = int_arg(info, 2, "priority");
  int p = 0;
  if (policy == "fifo")
    p = SCHED_FIFO;
  else if (policy == "rr")
    p = SCHED_RR;
  else if (policy == "other")
    p = SCHED_OTHER;
  else
    throw coded_error(env, "ERR_INVALID_ARG", "policy must be fifo, rr or other, got '" + policy + "'");
  sched_param sp{};
  sp.sched_priority = priority;
  if (sched_setscheduler(pid, p, &sp) != 0)
    throw errno_error(
        env, errno,
        "sched_setscheduler(" + std::to_string(pid) + ", " + policy + ", " + std::to_string(priority) + ")");
  return env.Undefined();
}

// getScheduler(pid) -> { policy, priority }
Napi::Value GetScheduler(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int pid = int_arg(info, 0, "pid");
  const int policy = sched_getscheduler(pid);
  if (policy < 0) throw errno_error(env, errno, "sched_getscheduler(" + std::to_string(pid) + ")");
  sched_param sp{};
  if (sched_getparam(pid, &sp) != 0) throw errno_error(env, errno, "sched_getparam(" + std::to_string(pid) + ")");
  Napi::Object o = Napi::Object::New(env);
  o.Set("policy", policy_name(policy));
  o.Set("priority", sp.sched_priority);
  return o;
}

// setAffinity(pid, [cpu, ...])
Napi::Value SetAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int pid = int_arg(info, 0, "pid");
  if (info.Length() < 2 || !info[1].IsArray()) throw coded_error(env, "ERR_INVALID_ARG", "cpus must be an array");
  Napi::Array cpus = info[1].As<Napi::Array>();
  if (cpus.Length() == 0) throw coded_error(env, "ERR_INVALID_ARG", "cpus must not be empty");
  cpu_set_t set;
  CPU_ZERO(&set);
  for (uint32_t i = 0; i < cpus.Length(); ++i) {
    Napi::Value v = cpus.Get(i);
    const int cpu = v.IsNumber() ? v.As<Napi::Number>().Int32Value() : -1;
    if (cpu < 0 || cpu >= CPU_SETSIZE)
      throw coded_error(env, "ERR_INVALID_ARG", "cpu numbers must be 0.." + std::to_string(CPU_SETSIZE - 1));
    CPU_SET(cpu, &set);
  }
  if (sched_setaffinity(pid, sizeof set, &set) != 0)
    throw errno_error(env, errno, "sched_setaffinity(" + std::to_string(pid) + ")");
  return env.Undefined();
}

// getAffinity(pid) -> [cpu, ...]
Napi::Value GetAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int pid = int_arg(info, 0, "pid");
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(pid, sizeof set, &set) != 0)
    throw errno_error(env, errno, "sched_getaffinity(" + std::to_string(pid) + ")");
  Napi::Array a = Napi::Array::New(env);
  uint32_t n = 0;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) a.Set(n++, c);
  return a;
}

// lockMemory(): mlockall(MCL_CURRENT | MCL_FUTURE) for this process.
Napi::Value LockMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) throw errno_error(env, errno, "mlockall");
  return env.Undefined();
}

// flockExclusive(fd) -> true when this open file now holds the lock, false when another one does.
// The kernel drops the lock when the file is closed or its process dies, so it cannot go stale.
Napi::Value FlockExclusive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = int_arg(info, 0, "fd");
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
    throw errno_error(env, errno, "flock");
  }
  return Napi::Boolean::New(env, true);
}

// sdNotify(message[, socketPath]) -> false when there is no NOTIFY_SOCKET, true when sent.
// A path starting with '@' is an abstract socket, as systemd hands them out.
Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string message = string_arg(info, 0, "message");
  std::string path;
  if (info.Length() > 1 && info[1].IsString()) {
    path = info[1].As<Napi::String>();
  } else {
    const char* e = std::getenv("NOTIFY_SOCKET");
    if (!e || !*e) return Napi::Boolean::New(env, false);
    path = e;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw coded_error(env, "ERR_INVALID_ARG", "NOTIFY_SOCKET path too long");
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';
  const socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw errno_error(env, errno, "socket");
  const ssize_t sent =
      sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  const int err = errno;
  close(fd);
  if (sent < 0) throw errno_error(env, err, "sd_notify to " + path);
  return Napi::Boolean::New(env, true);
}

// ---- ALSA controls (the scarlett2 mixer driver's gain, Air, phantom power, monitor) ----

struct CtlCloser {
  void operator()(snd_ctl_t* c) const { snd_ctl_close(c); }
};
using Ctl = std::unique_ptr<snd_ctl_t, CtlCloser>;

Ctl open_ctl(Napi::Env env, const std::string& card) {
  snd_ctl_t* c = nullptr;
  const int err = snd_ctl_open(&c, card.c_str(), 0);
  if (err < 0) throw coded_error(env, "ECTL_OPEN", "cannot open controls of '" + card + "': " + snd_strerror(err));
  return Ctl(c);
}

const char* type_name(snd_ctl_elem_type_t t) {
  switch (t) {
    case SND_CTL_ELEM_TYPE_BOOLEAN: return "boolean";
    case SND_CTL_ELEM_TYPE_INTEGER: return "integer";
    case SND_CTL_ELEM_TYPE_ENUMERATED: return "enumerated";
    case SND_CTL_ELEM_TYPE_INTEGER64: return "integer64";
    case SND_CTL_ELEM_TYPE_BYTES: return "bytes";
    default: return "other";
  }
}

// ctlList(card) -> [{ numid, name, index, iface, type, count, min, max, step, items, values, writable }]
Napi::Value CtlList(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Ctl ctl = open_ctl(env, string_arg(info, 0, "card"));
  snd_ctl_elem_list_t* list = nullptr;
  snd_ctl_elem_list_alloca(&list);
  int err = snd_ctl_elem_list(ctl.get(), list);
  if (err >= 0) err = snd_ctl_elem_list_alloc_space(list, snd_ctl_elem_list_get_count(list));
  if (err >= 0) err = snd_ctl_elem_list(ctl.get(), list);
  if (err < 0) throw coded_error(env, "ECTL_LIST", std::string("cannot list controls: ") + snd_strerror(err));
  Napi::Array out = Napi::Array::New(env);
  const unsigned n = snd_ctl_elem_list_get_used(list);
  snd_ctl_elem_info_t* ei = nullptr;
  snd_ctl_elem_value_t* ev = nullptr;
  snd_ctl_elem_info_alloca(&ei);
  snd_ctl_elem_value_alloca(&ev);
  uint32_t o = 0;
  for (unsigned i = 0; i < n; ++i) {
    snd_ctl_elem_id_t* id = nullptr;
    snd_ctl_elem_id_alloca(&id);
    snd_ctl_elem_list_get_id(list, i, id);
    snd_ctl_elem_info_set_id(ei, id);
    if (snd_ctl_elem_info(ctl.get(), ei) < 0) continue;
    const snd_ctl_elem_type_t type = snd_ctl_elem_info_get_type(ei);
    const unsigned count = snd_ctl_elem_info_get_count(ei);
    Napi::Object c = Napi::Object::New(env);
    c.Set("numid", snd_ctl_elem_id_get_numid(id));
    c.Set("name", snd_ctl_elem_id_get_name(id));
    c.Set("index", snd_ctl_elem_id_get_index(id));
    c.Set("iface", snd_ctl_elem_iface_name(snd_ctl_elem_id_get_interface(id)));
    c.Set("type", type_name(type));
    c.Set("count", count);
    c.Set("writable", snd_ctl_elem_info_is_writable(ei) != 0);
    if (type == SND_CTL_ELEM_TYPE_INTEGER) {
      c.Set("min", static_cast<double>(snd_ctl_elem_info_get_min(ei)));
      c.Set("max", static_cast<double>(snd_ctl_elem_info_get_max(ei)));
      c.Set("step", static_cast<double>(snd_ctl_elem_info_get_step(ei)));
    }
    if (type == SND_CTL_ELEM_TYPE_ENUMERATED) {
      const unsigned items = snd_ctl_elem_info_get_items(ei);
      Napi::Array names = Napi::Array::New(env, items);
      for (unsigned k = 0; k < items; ++k) {
        snd_ctl_elem_info_set_item(ei, k);
        if (snd_ctl_elem_info(ctl.get(), ei) >= 0) names.Set(k, snd_ctl_elem_info_get_item_name(ei));
      }
      c.Set("items", names);
    }
    Napi::Array values = Napi::Array::New(env);
    snd_ctl_elem_value_set_id(ev, id);
    if (snd_ctl_elem_info_is_readable(ei) && snd_ctl_elem_read(ctl.get(), ev) >= 0) {
      for (unsigned k = 0; k < count && k < 128; ++k) {
        switch (type) {
          case SND_CTL_ELEM_TYPE_BOOLEAN: values.Set(k, snd_ctl_elem_value_get_boolean(ev, k) != 0); break;
          case SND_CTL_ELEM_TYPE_INTEGER:
            values.Set(k, static_cast<double>(snd_ctl_elem_value_get_integer(ev, k)));
            break;
          case SND_CTL_ELEM_TYPE_ENUMERATED: values.Set(k, snd_ctl_elem_value_get_enumerated(ev, k)); break;
          case SND_CTL_ELEM_TYPE_INTEGER64:
            values.Set(k, static_cast<double>(snd_ctl_elem_value_get_integer64(ev, k)));
            break;
          default: break;
        }
      }
    }
    c.Set("values", values);
    out.Set(o++, c);
  }
  snd_ctl_elem_list_free_space(list);
  return out;
}

// ctlSet(card, numid, [value, ...]): booleans, integers or enumerated item indexes.
Napi::Value CtlSet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Ctl ctl = open_ctl(env, string_arg(info, 0, "card"));
  const int numid = int_arg(info, 1, "numid");
  if (info.Length() < 3 || !info[2].IsArray()) throw coded_error(env, "ERR_INVALID_ARG", "values must be an array");
  Napi::Array values = info[2].As<Napi::Array>();
  snd_ctl_elem_info_t* ei = nullptr;
  snd_ctl_elem_value_t* ev = nullptr;
  snd_ctl_elem_info_alloca(&ei);
  snd_ctl_elem_value_alloca(&ev);
  snd_ctl_elem_info_set_numid(ei, static_cast<unsigned>(numid));
  int err = snd_ctl_elem_info(ctl.get(), ei);
  if (err < 0)
    throw coded_error(env, "ECTL_NOENT", "no control numid " + std::to_string(numid) + ": " + snd_strerror(err));
  const snd_ctl_elem_type_t type = snd_ctl_elem_info_get_type(ei);
  const unsigned count = snd_ctl_elem_info_get_count(ei);
  if (values.Length() != count)
    throw coded_error(env, "ERR_INVALID_ARG",
                      "control numid " + std::to_string(numid) + " takes " + std::to_string(count) + " values, got " +
                          std::to_string(values.Length()));
  snd_ctl_elem_value_set_numid(ev, static_cast<unsigned>(numid));
  for (unsigned k = 0; k < count; ++k) {
    Napi::Value v = values.Get(k);
    const double d = v.IsBoolean() ? (v.As<Napi::Boolean>().Value() ? 1 : 0) : v.ToNumber().DoubleValue();
    switch (type) {
      case SND_CTL_ELEM_TYPE_BOOLEAN: snd_ctl_elem_value_set_boolean(ev, k, d != 0); break;
      case SND_CTL_ELEM_TYPE_INTEGER: snd_ctl_elem_value_set_integer(ev, k, static_cast<long>(d)); break;
      case SND_CTL_ELEM_TYPE_ENUMERATED: snd_ctl_elem_value_set_enumerated(ev, k, static_cast<unsigned>(d)); break;
      case SND_CTL_ELEM_TYPE_INTEGER64: snd_ctl_elem_value_set_integer64(ev, k, static_cast<long long>(d)); break;
      default: throw coded_error(env, "ERR_INVALID_ARG", "control numid " + std::to_string(numid) + " is not settable");
    }
  }
  err = snd_ctl_elem_write(ctl.get(), ev);
  if (err < 0)
    throw coded_error(env, "ECTL_WRITE",
                      "cannot set control numid " + std::to_string(numid) + ": " + snd_strerror(err));
  return env.Undefined();
}

// alsa-lib prints its own errors to stderr; ours carry them in the JS error instead.
void quiet_alsa(const char*, int, const char*, int, const char*, ...) {}

}  // namespace

void register_system(Napi::Env env, Napi::Object exports) {
  snd_lib_error_set_handler(quiet_alsa);
  exports.Set("setScheduler", Napi::Function::New(env, SetScheduler));
  exports.Set("getScheduler", Napi::Function::New(env, GetScheduler));
  exports.Set("setAffinity", Napi::Function::New(env, SetAffinity));
  exports.Set("getAffinity", Napi::Function::New(env, GetAffinity));
  exports.Set("lockMemory", Napi::Function::New(env, LockMemory));
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify));
  exports.Set("flockExclusive", Napi::Function::New(env, FlockExclusive));
  exports.Set("ctlList", Napi::Function::New(env, CtlList));
  exports.Set("ctlSet", Napi::Function::New(env, CtlSet));
}

}  // namespace hushbox::addon
