#include <cstdio>
#include <cstring>

#include "check.h"

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int run = 0, failed = 0;
  for (const auto& c : hushbox::test::registry()) {
    if (filter && !std::strstr(c.name, filter)) continue;
    const int before = hushbox::test::failures();
    c.fn();
    ++run;
    const bool ok = hushbox::test::failures() == before;
    if (!ok) ++failed;
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", c.name);
  }
  std::printf("%d passed, %d failed\n", run - failed, failed);
  return failed == 0 && run > 0 ? 0 : 1;
}
