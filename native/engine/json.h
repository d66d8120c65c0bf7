// A small JSON reader for preset files: the whole document into a tree.
// [control] only (it allocates).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "status.h"

namespace hushbox::json {

struct Value {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject } type = Type::kNull;
  bool boolean = false;
  double number = 0.0;
  std::string string;
  std::vector<Value> array;
  // Members in document order (duplicate keys: the parser refuses them).
  std::vector<std::pair<std::string, Value>> object;

  const Value* get(const std::string& key) const;
  static const char* type_name(Type t);
};

// Parse `text`; on error the message names the line and column.
Status parse(const std::string& text, Value& out);

// [control] Append `s` as a JSON string literal, quotes included, every
// character that needs it escaped (so the output always parses).
void append_string(std::string& out, std::string_view s);

}  // namespace hushbox::json
