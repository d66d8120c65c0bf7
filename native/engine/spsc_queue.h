// Wait-free single-producer/single-consumer ring, safe to place in shared memory.
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

namespace hushbox {

template <typename T, uint32_t N>
class SpscQueue {
  static_assert(std::is_trivially_copyable_v<T>, "queue messages must be trivially copyable");
  static_assert((N & (N - 1)) == 0, "capacity must be a power of two");
  static_assert(std::atomic<uint32_t>::is_always_lock_free, "indices must be lock-free in shared memory");

 public:
  // [control] Zero the indices. Only before either side uses the queue.
  void init() noexcept {
    head_.store(0, std::memory_order_relaxed);
    tail_.store(0, std::memory_order_relaxed);
  }

  // [producer] Push one message; false when full.
  bool push(const T& item) noexcept { return push_batch(&item, 1); }

  // [producer] Push all of items or none: the consumer sees them together.
  bool push_batch(const T* items, uint32_t count) noexcept {
    const uint32_t tail = tail_.load(std::memory_order_relaxed);
    const uint32_t head = head_.load(std::memory_order_acquire);
    if (N - (tail - head) < count) return false;
    for (uint32_t i = 0; i < count; ++i) slots_[(tail + i) & (N - 1)] = items[i];
    tail_.store(tail + count, std::memory_order_release);
    return true;
  }

  // [consumer] Pop one message; false when empty.
  bool pop(T& out) noexcept {
    const uint32_t head = head_.load(std::memory_order_relaxed);
    const uint32_t tail = tail_.load(std::memory_order_acquire);
    if (head == tail) return false;
    out = slots_[head & (N - 1)];
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // [any] Messages waiting (a snapshot).
  uint32_t size() const noexcept {
    return tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_acquire);
  }

  static constexpr uint32_t capacity() noexcept { return N; }

 private:
  alignas(64) std::atomic<uint32_t> head_;  // written by the consumer only
  alignas(64) std::atomic<uint32_t> tail_;  // written by the producer only
  alignas(64) T slots_[N];
};

}  // namespace hushbox
