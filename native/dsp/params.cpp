#include "params.h"

#include <array>
#include <cmath>

namespace hushbox::dsp {
namespace {

// One strip's parameters; S is the id prefix, N the name prefix. HPF, noise
// suppression and the EQ gains differ per strip (a voice wants more low cut,
// its room noise removed and a little presence; an instrument stays flat).
#define HB_STRIP(S, N, HPF, NSBYP, LOWG, P1G, P2G, HIGHG)                                                \
  {S ".trim.gain", N " input trim", "dB", Scale::kDecibel, -24.0f, 24.0f, 0.0f},                         \
      {S ".trim.polarity", N " polarity invert", "", Scale::kBool, 0.0f, 1.0f, 0.0f},                    \
      {S ".hpf.bypass", N " high-pass bypass", "", Scale::kBool, 0.0f, 1.0f, 0.0f},                      \
      {S ".hpf.freq", N " high-pass frequency", "Hz", Scale::kLog, 20.0f, 300.0f, HPF},                  \
      {S ".hpf.slope", N " high-pass slope", "dB/oct", Scale::kEnum, 12.0f, 48.0f, 24.0f, 12.0f},        \
      {S ".hum.bypass", N " hum removal bypass", "", Scale::kBool, 0.0f, 1.0f, 0.0f},                    \
      {S ".hum.mains", N " mains (0 auto, 1 50 Hz, 2 60 Hz)", "", Scale::kEnum, 0.0f, 2.0f, 0.0f},       \
      {S ".hum.harmonics", N " hum harmonics", "", Scale::kEnum, 1.0f, 10.0f, 4.0f},                     \
      {S ".ns.bypass", N " noise suppression bypass", "", Scale::kBool, 0.0f, 1.0f, NSBYP},              \
      {S ".ns.strength", N " noise suppression strength", "%", Scale::kLinear, 0.0f, 100.0f, 70.0f},     \
      {S ".ns.floor", N " noise suppression floor", "dB", Scale::kDecibel, -40.0f, 0.0f, -20.0f},        \
      {S ".gate.bypass", N " gate bypass", "", Scale::kBool, 0.0f, 1.0f, 0.0f},                          \
      {S ".gate.threshold", N " gate threshold", "dBFS", Scale::kDecibel, -80.0f, 0.0f, -55.0f},         \
      {S ".gate.range", N " gate range", "dB", Scale::kDecibel, 0.0f, 80.0f, 10.0f},                     \
      {S ".gate.attack", N " gate attack", "ms", Scale::kLog, 0.1f, 50.0f, 2.0f},                        \
      {S ".gate.hold", N " gate hold", "ms", Scale::kLinear, 0.0f, 500.0f, 100.0f},                      \
      {S ".gate.release", N " gate release", "ms", Scale::kLog, 5.0f, 2000.0f, 200.0f},                  \
      {S ".gate.hysteresis", N " gate hysteresis", "dB", Scale::kDecibel, 0.0f, 12.0f, 4.0f},            \
      {S ".comp.bypass", N " compressor bypass", "", Scale::kBool, 0.0f, 1.0f, 0.0f},                    \
      {S ".comp.threshold", N " compressor threshold", "dBFS", Scale::kDecibel, -60.0f, 0.0f, -22.0f},   \
      {S ".comp.ratio", N " compressor ratio", ":1", Scale::kLog, 1.0f, 20.0f, 2.5f},                    \
      {S ".comp.knee", N " compressor knee", "dB", Scale::kDecibel, 0.0f, 24.0f, 6.0f},                  \
      {S ".comp.attack", N " compressor attack", "ms", Scale::kLog, 0.1f, 200.0f, 10.0f},                \
      {S ".comp.release", N " compressor release", "ms", Scale::kLog, 10.0f, 2000.0f, 150.0f},           \
      {S ".comp.makeup", N " compressor makeup", "dB", Scale::kDecibel, 0.0f, 24.0f, 3.0f},              \
      {S ".eq.bypass", N " EQ bypass", "", Scale::kBool, 0.0f, 1.0f, 0.0f},                              \
      {S ".eq.low.freq", N " EQ low shelf frequency", "Hz", Scale::kLog, 20.0f, 500.0f, 100.0f},         \
      {S ".eq.low.gain", N " EQ low shelf gain", "dB", Scale::kDecibel, -15.0f, 15.0f, LOWG},            \
      {S ".eq.peak1.freq", N " EQ peak 1 frequency", "Hz", Scale::kLog, 20.0f, 20000.0f, 300.0f},        \
      {S ".eq.peak1.gain", N " EQ peak 1 gain", "dB", Scale::kDecibel, -15.0f, 15.0f, P1G},              \
      {S ".eq.peak1.q", N " EQ peak 1 Q", "", Scale::kLog, 0.1f, 10.0f, 1.0f},                           \
      {S ".eq.peak2.freq", N " EQ peak 2 frequency", "Hz", Scale::kLog, 20.0f, 20000.0f, 3500.0f},       \
      {S ".eq.peak2.gain", N " EQ peak 2 gain", "dB", Scale::kDecibel, -15.0f, 15.0f, P2G},              \
      {S ".eq.peak2.q", N " EQ peak 2 Q", "", Scale::kLog, 0.1f, 10.0f, 1.0f},                           \
      {S ".eq.high.freq", N " EQ high shelf frequency", "Hz", Scale::kLog, 1000.0f, 20000.0f, 10000.0f}, \
      {S ".eq.high.gain", N " EQ high shelf gain", "dB", Scale::kDecibel, -15.0f, 15.0f, HIGHG},         \
      {S ".limit.bypass", N " limiter bypass", "", Scale::kBool, 0.0f, 1.0f, 0.0f},                      \
      {S ".limit.ceiling", N " limiter ceiling", "dBFS", Scale::kDecibel, -12.0f, 0.0f, -1.0f},          \
      {S ".limit.release", N " limiter release", "ms", Scale::kLog, 1.0f, 1000.0f, 50.0f}, {             \
    S ".out.gain", N " output trim", "dB", Scale::kDecibel, -24.0f, 24.0f, 0.0f                          \
  }

constexpr std::array<ParamDef, kParamCount> kTable = {{
    HB_STRIP("mic", "Mic", 80.0f, 0.0f, 0.0f, -2.0f, 2.0f, 1.5f),
    HB_STRIP("inst", "Instrument", 40.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f),
    {"mix.mic.gain", "Mix: mic level", "dB", Scale::kDecibel, -60.0f, 12.0f, 0.0f},
    {"mix.mic.pan", "Mix: mic pan", "%", Scale::kLinear, -100.0f, 100.0f, 0.0f},
    {"mix.inst.gain", "Mix: instrument level", "dB", Scale::kDecibel, -60.0f, 12.0f, 0.0f},
    {"mix.inst.pan", "Mix: instrument pan", "%", Scale::kLinear, -100.0f, 100.0f, 0.0f},
    {"master.gain", "Master gain", "dB", Scale::kDecibel, -60.0f, 12.0f, 0.0f},
    {"master.bypass", "Master bypass", "", Scale::kBool, 0.0f, 1.0f, 0.0f},
    {"master.limit.bypass", "Master limiter bypass", "", Scale::kBool, 0.0f, 1.0f, 0.0f},
    {"master.limit.ceiling", "Master limiter ceiling", "dBFS", Scale::kDecibel, -12.0f, 0.0f, -1.0f},
    {"master.limit.release", "Master limiter release", "ms", Scale::kLog, 1.0f, 1000.0f, 50.0f},
}};
#undef HB_STRIP

}  // namespace

std::span<const ParamDef> param_table() noexcept { return {kTable.data(), kTable.size()}; }

int find_param(std::string_view id) noexcept {
  for (uint32_t i = 0; i < kTable.size(); ++i) {
    if (id == kTable[i].id) return static_cast<int>(i);
  }
  return -1;
}

float clamp_param(uint32_t index, float value) noexcept {
  if (index >= kTable.size()) return 0.0f;
  const ParamDef& d = kTable[index];
  if (!std::isfinite(value)) return d.def;
  float step = d.step;
  if (step <= 0.0f && (d.scale == Scale::kBool || d.scale == Scale::kEnum)) step = 1.0f;
  if (step > 0.0f) value = d.min + std::round((value - d.min) / step) * step;
  return value < d.min ? d.min : (value > d.max ? d.max : value);
}

}  // namespace hushbox::dsp
