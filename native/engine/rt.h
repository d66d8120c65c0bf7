// Real-time setup of the calling thread, and the clock.
#pragma once

#include <pthread.h>

#include <cstdint>
#include <string>

namespace hushbox {

struct RtConfig {
  int priority = 70;  // SCHED_FIFO priority; 0 keeps SCHED_OTHER
  int cpu = -1;       // pin to this CPU; -1 leaves affinity alone
  bool lock_memory = true;
  bool hold_dma_latency = true;  // keep /dev/cpu_dma_latency at 0 while running
};

struct RtReport {
  bool fifo = false;
  int priority = 0;
  int cpu = -1;
  bool memory_locked = false;
  bool denormals_flushed = false;
  std::string problems;  // why something above did not happen, "; "-separated
};

// [control] Holds /dev/cpu_dma_latency at 0 us for its lifetime (the kernel
// honours the request only while the file stays open).
class DmaLatencyHold {
 public:
  DmaLatencyHold() = default;
  DmaLatencyHold(const DmaLatencyHold&) = delete;
  DmaLatencyHold& operator=(const DmaLatencyHold&) = delete;
  ~DmaLatencyHold();
  bool hold(std::string& error, const char* path = "/dev/cpu_dma_latency");

 private:
  int fd_ = -1;
};

// [control] pthread_create with a 1 MiB stack (the audio thread pre-faults 256 KiB of it).
bool start_thread(pthread_t& thread, void* (*fn)(void*), void* arg);

// [control] mlockall(current and future) and pre-fault some stack. Call before threads start.
bool lock_memory(std::string& error);

// [audio] SCHED_FIFO, affinity and denormal flushing for the calling thread.
RtReport setup_realtime_thread(const RtConfig& config, bool memory_locked);

// [audio] Set FTZ/DAZ on this thread.
bool flush_denormals() noexcept;

// [any] CLOCK_MONOTONIC in nanoseconds.
int64_t now_ns() noexcept;

// [any] Sleep until an absolute CLOCK_MONOTONIC time; returns on EINTR too.
void sleep_until_ns(int64_t deadline_ns) noexcept;

}  // namespace hushbox
