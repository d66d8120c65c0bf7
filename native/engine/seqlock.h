// Single-writer sequence lock: the writer never waits, readers retry.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace hushbox {

template <typename T>
class Seqlock {
  static_assert(std::is_trivially_copyable_v<T>, "seqlock payload must be trivially copyable");

 public:
  // [control] Before the writer starts.
  void init(const T& value) noexcept {
    seq_.store(0, std::memory_order_relaxed);
    std::memcpy(&value_, &value, sizeof(T));
  }

  // [writer] Publish a new value; wait-free.
  void store(const T& value) noexcept {
    const uint32_t s = seq_.load(std::memory_order_relaxed);
    seq_.store(s + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    std::memcpy(&value_, &value, sizeof(T));
    std::atomic_thread_fence(std::memory_order_release);
    seq_.store(s + 2, std::memory_order_relaxed);
  }

  // [reader] Copy a consistent value; false if the writer kept it busy for `tries` attempts.
  bool load(T& out, int tries = 1000) const noexcept {
    for (int i = 0; i < tries; ++i) {
      const uint32_t before = seq_.load(std::memory_order_acquire);
      if (before & 1u) continue;
      std::memcpy(&out, &value_, sizeof(T));
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq_.load(std::memory_order_relaxed) == before) return true;
    }
    return false;
  }

  // [any] Number of completed stores.
  uint32_t version() const noexcept { return seq_.load(std::memory_order_acquire) / 2; }

 private:
  alignas(64) std::atomic<uint32_t> seq_;
  T value_;
};

}  // namespace hushbox
