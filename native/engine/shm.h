// A named POSIX shared-memory segment (/dev/shm/NAME).
#pragma once

#include <cstddef>
#include <string>

#include "status.h"

namespace hushbox {

class SharedSegment {
 public:
  SharedSegment() = default;
  SharedSegment(const SharedSegment&) = delete;
  SharedSegment& operator=(const SharedSegment&) = delete;
  ~SharedSegment() { close(); }

  // [control] Create (exclusive) and map read-write, zero-filled.
  Status create(const std::string& name, size_t size);
  // [control] Map an existing segment read-write; its size must be at least `min_size`.
  Status open(const std::string& name, size_t min_size);
  // [control] Unmap; the name stays until unlink().
  void close();
  // [control] Remove a name; true if it existed.
  static bool unlink(const std::string& name);
  // [any] A valid name: one path component, [A-Za-z0-9._-], at most 200 characters.
  static bool valid_name(const std::string& name);

  void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace hushbox
