// The engine core reports failure by value, never by exception.
#pragma once

#include <string>
#include <utility>

namespace hushbox {

struct Status {
  bool ok = true;
  std::string message;

  static Status success() { return {}; }
  static Status error(std::string message) { return {false, std::move(message)}; }
  explicit operator bool() const { return ok; }
};

}  // namespace hushbox
