#include "engine/spsc_queue.h"

#include <thread>

#include "check.h"
#include "engine/link.h"

using hushbox::SpscQueue;
using hushbox::link::Command;
using hushbox::link::CommandType;

TEST("spsc queue: delivers in order and reports full and empty") {
  static SpscQueue<int, 4> q;
  q.init();
  int out = 0;
  CHECK(!q.pop(out));
  for (int i = 0; i < 4; ++i) CHECK(q.push(i));
  CHECK(!q.push(99));
  for (int i = 0; i < 4; ++i) {
    CHECK(q.pop(out));
    CHECK(out == i);
  }
  CHECK(!q.pop(out));
}

TEST("spsc queue: a batch that does not fit is refused whole") {
  static SpscQueue<int, 8> q;
  q.init();
  int items[6] = {1, 2, 3, 4, 5, 6};
  CHECK(q.push_batch(items, 6));
  CHECK(!q.push_batch(items, 3));
  CHECK(q.size() == 6);
  CHECK(q.push_batch(items, 2));
  CHECK(q.size() == 8);
}

TEST("spsc queue: a producer and a consumer thread exchange a million commands without loss") {
  static SpscQueue<Command, 1024> q;
  q.init();
  constexpr uint32_t kCount = 1'000'000;
  std::thread producer([] {
    for (uint32_t i = 1; i <= kCount;) {
      if (q.push(Command{CommandType::kSetParam, i, i % 7, static_cast<float>(i)})) ++i;
    }
  });
  uint32_t expected = 1;
  bool in_order = true;
  while (expected <= kCount) {
    Command c;
    if (q.pop(c)) {
      if (c.seq != expected || c.index != expected % 7) in_order = false;
      ++expected;
    }
  }
  producer.join();
  CHECK(in_order);
}
