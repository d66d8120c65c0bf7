#include "engine/json.h"

#include <string>

#include "check.h"

TEST("json: a string with quotes, backslashes and control characters is written so that it reads back the same") {
  const std::string text = std::string("say \"hi\"\\ \n\t\r") + '\x01' + "end";
  std::string doc;
  hushbox::json::append_string(doc, text);
  hushbox::json::Value v;
  CHECK(hushbox::json::parse(doc, v).ok);
  CHECK(v.type == hushbox::json::Value::Type::kString);
  CHECK(v.string == text);
}
