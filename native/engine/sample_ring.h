// SPSC ring of float samples between the audio thread and housekeeping
// (recordings). Storage is allocated once, before the audio thread starts.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

namespace hushbox {

class SampleRing {
 public:
  // [control] Capacity rounded up to a power of two.
  void allocate(uint32_t min_capacity) {
    uint32_t cap = 1;
    while (cap < min_capacity) cap <<= 1;
    data_.assign(cap, 0.0f);
    mask_ = cap - 1;
    head_.store(0);
    tail_.store(0);
  }
  // [audio] Write all or nothing; false (and nothing written) when full.
  bool push(const float* samples, uint32_t count) noexcept {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    const uint64_t head = head_.load(std::memory_order_acquire);
    if (data_.size() - (tail - head) < count) return false;
    for (uint32_t i = 0; i < count; ++i) data_[(tail + i) & mask_] = samples[i];
    tail_.store(tail + count, std::memory_order_release);
    return true;
  }
  // [audio] Whether `count` samples fit now (only the consumer frees room, so a push right after succeeds).
  bool has_room(uint32_t count) const noexcept {
    return data_.size() - (tail_.load(std::memory_order_relaxed) - head_.load(std::memory_order_acquire)) >= count;
  }
  // [housekeeping] Samples waiting (what a pop right after can take at least).
  uint64_t available() const noexcept {
    return tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_relaxed);
  }
  // [any] Capacity in samples.
  uint64_t capacity() const noexcept { return data_.size(); }
  // [housekeeping] Copy up to `max` samples out; returns how many.
  uint32_t pop(float* out, uint32_t max) noexcept {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    const uint64_t tail = tail_.load(std::memory_order_acquire);
    uint64_t n = tail - head;
    if (n > max) n = max;
    for (uint64_t i = 0; i < n; ++i) out[i] = data_[(head + i) & mask_];
    head_.store(head + n, std::memory_order_release);
    return static_cast<uint32_t>(n);
  }

 private:
  std::vector<float> data_;
  uint64_t mask_ = 0;
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
};

}  // namespace hushbox
