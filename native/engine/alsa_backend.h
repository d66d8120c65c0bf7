// The ALSA backend (alsa_backend.cpp) and its sample conversions, exposed for tests.
#pragma once

#include <alsa/asoundlib.h>

#include <cstdint>
#include <memory>

#include "backend.h"

namespace hushbox {

// [control] A backend over `hw:` devices (IoConfig::device, IoConfig::capture_device).
std::unique_ptr<Backend> make_alsa_backend();

// [any] Interleaved device samples (`dev_ch` channels) to interleaved float (`chain_ch`
// channels): channel i to channel i, chain channels the device lacks get silence.
void alsa_decode(snd_pcm_format_t fmt, const uint8_t* src, uint32_t dev_ch, float* dst, uint32_t chain_ch,
                 uint32_t frames) noexcept;
// [any] The reverse; device channels the chain lacks get silence.
void alsa_encode(snd_pcm_format_t fmt, const float* src, uint32_t chain_ch, uint8_t* dst, uint32_t dev_ch,
                 uint32_t frames) noexcept;

}  // namespace hushbox
