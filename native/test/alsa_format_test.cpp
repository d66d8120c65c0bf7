#include <cstdint>
#include <cstring>
#include <vector>

#include "check.h"
#include "engine/alsa_backend.h"

using hushbox::alsa_decode;
using hushbox::alsa_encode;

TEST("alsa S32_LE round trip is bit-exact for 24-bit values and maps 4 device channels onto 2") {
  // Device: 4 capture channels (Scarlett: 2 analogue + 2 loopback); chain: 2.
  const int32_t dev[2 * 4] = {0x40000000, -0x40000000, 7, 9, 0x00000100, -0x00000100, 1, 2};
  std::vector<float> chain(2 * 2);
  alsa_decode(SND_PCM_FORMAT_S32_LE, reinterpret_cast<const uint8_t*>(dev), 4, chain.data(), 2, 2);
  CHECK(chain[0] == 0.5f);
  CHECK(chain[1] == -0.5f);
  std::vector<int32_t> back(2 * 2);
  alsa_encode(SND_PCM_FORMAT_S32_LE, chain.data(), 2, reinterpret_cast<uint8_t*>(back.data()), 2, 2);
  CHECK(back[0] == 0x40000000);
  CHECK(back[1] == -0x40000000);
  CHECK(back[2] == 0x100);
  CHECK(back[3] == -0x100);
}

TEST("alsa encode clips at full scale and fills device channels the chain lacks with silence") {
  const float chain[2] = {2.0f, -2.0f};
  int32_t s32[2 * 3];
  std::memset(s32, 0x55, sizeof s32);
  alsa_encode(SND_PCM_FORMAT_S32_LE, chain, 1, reinterpret_cast<uint8_t*>(s32), 3, 2);
  CHECK(s32[0] == 2147483647);
  CHECK(s32[1] == 0);
  CHECK(s32[2] == 0);
  CHECK(s32[3] == -2147483647 - 1);
  int16_t s16[2];
  alsa_encode(SND_PCM_FORMAT_S16_LE, chain, 1, reinterpret_cast<uint8_t*>(s16), 1, 2);
  CHECK(s16[0] == 32767);
  CHECK(s16[1] == -32768);
}

TEST("alsa S24_3LE and S16_LE and FLOAT_LE decode to the same float and back") {
  const float x[3] = {0.25f, -0.75f, 0.0f};
  for (snd_pcm_format_t f : {SND_PCM_FORMAT_S24_3LE, SND_PCM_FORMAT_S16_LE, SND_PCM_FORMAT_FLOAT_LE}) {
    uint8_t raw[3 * 4] = {};
    float y[3] = {1, 1, 1};
    alsa_encode(f, x, 1, raw, 1, 3);
    alsa_decode(f, raw, 1, y, 1, 3);
    CHECK(y[0] == 0.25f);
    CHECK(y[1] == -0.75f);
    CHECK(y[2] == 0.0f);
  }
  // A device with fewer channels than the chain: the extra chain channel is silent.
  const int16_t mono[2] = {16384, -16384};
  float st[4] = {9, 9, 9, 9};
  alsa_decode(SND_PCM_FORMAT_S16_LE, reinterpret_cast<const uint8_t*>(mono), 1, st, 2, 2);
  CHECK(st[0] == 0.5f);
  CHECK(st[1] == 0.0f);
  CHECK(st[2] == -0.5f);
  CHECK(st[3] == 0.0f);
}
