// Command-line helpers shared by hushbox-engine's commands (run, process,
// bench, latency): one way to take an option's value and to read numbers,
// with errors that name the option and what it got.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace hushbox::cli {

// The value after args[i] (i moves onto it); false with "FLAG needs a value" at the end of the list.
inline bool take_value(const std::vector<std::string>& args, size_t& i, std::string& out, std::string& error) {
  if (i + 1 >= args.size()) {
    error = args[i] + " needs a value";
    return false;
  }
  out = args[++i];
  return true;
}

inline bool parse_uint(const std::string& flag, const std::string& text, uint32_t& out, std::string& error) {
  char* end = nullptr;
  errno = 0;
  const unsigned long v = std::strtoul(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v > 0xFFFFFFFFul || text[0] == '-') {
    error = flag + " expects a whole number, got '" + text + "'";
    return false;
  }
  out = static_cast<uint32_t>(v);
  return true;
}

}  // namespace hushbox::cli
