#include "rt.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace hushbox {
namespace {

void add_problem(RtReport& r, const std::string& p) {
  if (!r.problems.empty()) r.problems += "; ";
  r.problems += p;
}

void prefault_stack() {
  volatile char stack[256 * 1024];
  for (size_t i = 0; i < sizeof(stack); i += 4096) stack[i] = 0;
}

}  // namespace

DmaLatencyHold::~DmaLatencyHold() {
  if (fd_ >= 0) ::close(fd_);
}

bool DmaLatencyHold::hold(std::string& error, const char* path) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    error = std::string(path) + ": " + std::strerror(errno);
    return false;
  }
  const int32_t zero = 0;
  if (::write(fd, &zero, sizeof zero) != static_cast<ssize_t>(sizeof zero)) {
    error = std::string(path) + ": write: " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  return true;
}

bool start_thread(pthread_t& thread, void* (*fn)(void*), void* arg) {
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) return false;
  pthread_attr_setstacksize(&attr, 1024 * 1024);
  const int rc = pthread_create(&thread, &attr, fn, arg);
  pthread_attr_destroy(&attr);
  return rc == 0;
}

bool lock_memory(std::string& error) {
  if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
    error = std::string("mlockall: ") + std::strerror(errno);
    return false;
  }
  prefault_stack();
  return true;
}

bool flush_denormals() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_setcsr(_mm_getcsr() | 0x8040);  // FTZ | DAZ
  return (_mm_getcsr() & 0x8040) == 0x8040;
#elif defined(__aarch64__)
  uint64_t fpcr;
  asm volatile("mrs %0, fpcr" : "=r"(fpcr));
  fpcr |= (1ull << 24);  // FZ
  asm volatile("msr fpcr, %0" ::"r"(fpcr));
  return true;
#else
  return false;
#endif
}

RtReport setup_realtime_thread(const RtConfig& config, bool memory_locked) {
  RtReport r;
  r.memory_locked = memory_locked;
  if (config.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(config.cpu, &set);
    const int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    if (rc == 0) {
      r.cpu = config.cpu;
    } else {
      add_problem(r, "cannot pin to CPU " + std::to_string(config.cpu) + ": " + std::strerror(rc));
    }
  }
  if (config.priority > 0) {
    sched_param p{};
    p.sched_priority = config.priority;
    const int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &p);
    if (rc == 0) {
      r.fifo = true;
      r.priority = config.priority;
    } else {
      add_problem(r, "SCHED_FIFO " + std::to_string(config.priority) + ": " + std::strerror(rc) +
                         " (needs root, CAP_SYS_NICE or an rtprio limit)");
    }
  }
  r.denormals_flushed = flush_denormals();
  prefault_stack();
  return r;
}

int64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

void sleep_until_ns(int64_t deadline_ns) noexcept {
  timespec ts;
  ts.tv_sec = static_cast<time_t>(deadline_ns / 1000000000LL);
  ts.tv_nsec = static_cast<long>(deadline_ns % 1000000000LL);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

}  // namespace hushbox
