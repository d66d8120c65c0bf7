#include "engine/seqlock.h"

#include <atomic>
#include <thread>

#include "check.h"

namespace {
struct Pair {
  uint64_t a;
  uint64_t b;  // always equal to a when consistent
  char pad[200];
};
}  // namespace

TEST("seqlock: a reader never sees a torn snapshot while the writer races") {
  static hushbox::Seqlock<Pair> lock;
  lock.init(Pair{0, 0, {}});
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (uint64_t i = 1; i < 2'000'000; ++i) lock.store(Pair{i, i, {}});
    done = true;
  });
  uint64_t reads = 0, torn = 0, last = 0;
  bool monotonic = true;
  while (!done) {
    Pair p;
    if (lock.load(p)) {
      ++reads;
      if (p.a != p.b) ++torn;
      if (p.a < last) monotonic = false;
      last = p.a;
    }
  }
  writer.join();
  CHECK(reads > 0);
  CHECK(torn == 0);
  CHECK(monotonic);
}
