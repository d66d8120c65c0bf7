// Chain::process makes no allocation, takes no lock and makes no system call.
// Allocations and locks: this test binary interposes malloc & co. and
// pthread_mutex_lock with per-thread counters. System calls: a forked child
// runs process() under a seccomp filter that kills it on any system call but
// exit.
#include <dlfcn.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "check.h"
#include "dsp/chain.h"
#include "dsp/noise_suppressor.h"
#include "dsp/params.h"

extern "C" {
void* __libc_malloc(size_t);
void __libc_free(void*);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
}

namespace {
thread_local bool t_counting = false;
thread_local uint64_t t_allocations = 0;
thread_local uint64_t t_locks = 0;
using LockFn = int (*)(pthread_mutex_t*);
LockFn real_lock = nullptr;
LockFn real_trylock = nullptr;

__attribute__((constructor)) void resolve_locks() {
  real_lock = reinterpret_cast<LockFn>(dlsym(RTLD_NEXT, "pthread_mutex_lock"));
  real_trylock = reinterpret_cast<LockFn>(dlsym(RTLD_NEXT, "pthread_mutex_trylock"));
}
}  // namespace

extern "C" {
void* malloc(size_t n) {
  if (t_counting) ++t_allocations;
  return __libc_malloc(n);
}
void free(void* p) {
  if (t_counting && p) ++t_allocations;
  __libc_free(p);
}
void* calloc(size_t n, size_t size) {
  if (t_counting) ++t_allocations;
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) {
  if (t_counting) ++t_allocations;
  return __libc_realloc(p, n);
}
void* aligned_alloc(size_t alignment, size_t n) {
  if (t_counting) ++t_allocations;
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, size_t alignment, size_t n) {
  if (t_counting) ++t_allocations;
  void* p = __libc_memalign(alignment, n);
  if (!p) return 12;  // ENOMEM
  *out = p;
  return 0;
}
int pthread_mutex_lock(pthread_mutex_t* m) {
  if (t_counting) ++t_locks;
  return real_lock ? real_lock(m) : 0;  // null only while the constructor resolves it
}
int pthread_mutex_trylock(pthread_mutex_t* m) {
  if (t_counting) ++t_locks;
  return real_trylock ? real_trylock(m) : 0;
}
}

using namespace hushbox::dsp;

namespace {

struct Rig {
  Chain chain;
  std::vector<std::vector<float>> buf;
  std::vector<float*> ptrs;
  uint64_t pos = 0;
  Rig(double rate, uint32_t channels, uint32_t frames) : buf(channels, std::vector<float>(frames)) {
    chain.prepare({rate, frames, channels});
    for (auto& b : buf) ptrs.push_back(b.data());
  }
  // [audio-like] Everything the audio thread does with the chain: blocks,
  // a whole preset, every bypass, master bypass on and off.
  void exercise(uint32_t blocks) {
    const auto frames = static_cast<uint32_t>(buf[0].size());
    const auto table = param_table();
    for (uint32_t b = 0; b < blocks; ++b) {
      for (auto& ch : buf) {
        for (uint32_t i = 0; i < frames; ++i) {
          const double t = static_cast<double>(pos + i) / 48000.0;
          ch[i] = static_cast<float>(0.3 * std::sin(2.0 * M_PI * 150.0 * t) + 0.02 * std::sin(2.0 * M_PI * 60.0 * t));
        }
      }
      pos += frames;
      if (b == blocks / 4) {
        for (uint32_t i = 0; i < kParamCount; ++i) chain.set_param(i, (table[i].min + table[i].max) / 2.0f);
        chain.set_param(kMasterBypass, 0.0f);
      }
      if (b == blocks / 2) {
        for (uint32_t i = 0; i < kParamCount; ++i) {
          if (table[i].scale == Scale::kBool) chain.set_param(i, 1.0f);
        }
      }
      if (b == 3 * blocks / 4) {
        for (uint32_t i = 0; i < kParamCount; ++i) chain.set_param(i, table[i].def);
      }
      AudioBlock block{ptrs.data(), static_cast<uint32_t>(ptrs.size()), frames};
      chain.process(block);
    }
  }
};

}  // namespace

TEST("realtime: the allocation and lock counters see a deliberate allocation and lock") {
  t_allocations = t_locks = 0;
  t_counting = true;
  void* volatile p = malloc(64);
  free(p);
  std::vector<int>* v = new std::vector<int>(100);
  delete v;
  std::mutex m;
  m.lock();
  m.unlock();
  t_counting = false;
  CHECK(t_allocations >= 4);
  CHECK(t_locks >= 1);
}

TEST("realtime: Chain::process allocates nothing and takes no lock") {
  for (double rate : {48000.0, 192000.0}) {
    for (uint32_t channels : {1u, 2u}) {
      Rig rig(rate, channels, 64);
      t_allocations = t_locks = 0;
      t_counting = true;
      rig.exercise(static_cast<uint32_t>(rate * 2.0 / 64));  // two seconds: hum detection, windows, ramps
      t_counting = false;
      CHECK(t_allocations == 0);
      CHECK(t_locks == 0);
    }
  }
}

namespace {
// Runs `body` in a child under a seccomp filter that allows only exit();
// returns the child's wait status.
template <class Body>
int under_seccomp(Body&& body) {
  const pid_t pid = fork();
  if (pid == 0) {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    };
    struct sock_fprog prog = {static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(3);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) _exit(4);
    body();
    syscall(SYS_exit, 0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}
}  // namespace

TEST("realtime: Chain::process makes no system call (seccomp allows only exit)") {
  // The filter works: a child that asks for its pid is killed.
  const int control = under_seccomp([] { syscall(SYS_getpid); });
  CHECK(WIFSIGNALED(control) && WTERMSIG(control) == SIGSYS);
  for (double rate : {48000.0, 96000.0}) {
    Rig rig(rate, 2, 128);
    rig.exercise(8);  // warm up outside the filter (lazy binding of libm)
    const int status = under_seccomp([&] { rig.exercise(static_cast<uint32_t>(rate * 2.0 / 128)); });
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
}

namespace {
// [audio-like] The noise suppressor on a noisy tone, cut into uneven blocks,
// with its parameters moved and a reset() in between.
void exercise_noise_suppressor(NoiseSuppressor& ns, std::vector<float>& x, uint32_t seconds) {
  uint32_t seed = 1;
  uint64_t pos = 0;
  for (uint32_t s = 0; s < seconds; ++s) {
    for (auto& v : x) {
      seed = seed * 1664525u + 1013904223u;
      v = 0.1f * std::sin(static_cast<float>(pos++) * 0.02f) +
          0.01f * (static_cast<float>(seed >> 8) / 8388608.0f - 1.0f);
    }
    for (size_t i = 0; i < x.size();) {
      const auto n = static_cast<uint32_t>(std::min<size_t>(1 + (i * 7) % 256, x.size() - i));
      ns.process(x.data() + i, n);
      i += n;
    }
    ns.set_strength(s % 2 ? 0.3f : 1.0f);
    ns.set_floor_db(s % 2 ? -12.0f : -40.0f);
    if (s == 1) ns.reset();
  }
}
}  // namespace

TEST("realtime: NoiseSuppressor::process allocates nothing, takes no lock and makes no system call") {
  for (double rate : {48000.0, 192000.0}) {
    NoiseSuppressor ns;
    CHECK(ns.prepare({rate, 256, 1}));
    std::vector<float> x(static_cast<size_t>(rate));
    t_allocations = t_locks = 0;
    t_counting = true;
    exercise_noise_suppressor(ns, x, 3);
    t_counting = false;
    CHECK(t_allocations == 0);
    CHECK(t_locks == 0);
    CHECK(ns.tonal().tone_count() == 1);  // the tone was found and notched: that path ran too
    const int status = under_seccomp([&] { exercise_noise_suppressor(ns, x, 2); });
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
}
