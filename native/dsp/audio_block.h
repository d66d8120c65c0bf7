// Planar audio buffers and the spec a DSP unit is prepared with.
#pragma once

#include <cstdint>

namespace hushbox::dsp {

struct ProcessSpec {
  double rate = 48000.0;
  uint32_t max_frames = 1024;
  uint32_t channels = 2;
};

// Non-owning view of planar float audio, processed in place.
struct AudioBlock {
  float* const* channels = nullptr;
  uint32_t num_channels = 0;
  uint32_t frames = 0;
};

}  // namespace hushbox::dsp
