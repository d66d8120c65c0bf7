#include "strip.h"

namespace hushbox::dsp {

void Strip::prepare(const ProcessSpec& spec) {
  trim.prepare(spec);
  hpf.prepare(spec);
  hum.prepare(spec);
  ns.prepare(spec);
  ns_fade.prepare(spec.rate, ns.latency_samples());
  ns_warmup_samples_ = ns.latency_samples() + static_cast<uint32_t>(spec.rate * 0.1);
  ns_warmup_ = 0;
  gate.prepare(spec);
  comp.prepare(spec);
  eq.prepare(spec);
  limiter.prepare(spec);
  out.prepare(spec);
}

void Strip::reset() noexcept {
  trim.reset();
  hpf.reset();
  hum.reset();
  ns.reset();
  if (ns_warmup_ > 0) {  // a reset is not mid-signal: come back at once
    ns_warmup_ = 0;
    ns_fade.set_bypass(false);
  }
  ns_fade.snap();
  gate.reset();
  comp.reset();
  eq.reset();
  limiter.reset();
  out.reset();
}

void Strip::set_param(StripParam p, float v) noexcept {
  const bool on = v >= 0.5f;
  switch (p) {
    case kTrimGain: trim.set_gain_db(v); break;
    case kTrimPolarity: trim.set_polarity(on); break;
    case kHpfBypass: hpf.set_bypass(on); break;
    case kHpfFreq: hpf.set_freq(v); break;
    case kHpfSlope: hpf.set_slope(v); break;
    case kHumBypass: hum.set_bypass(on); break;
    case kHumMains: hum.set_mains(static_cast<int>(v)); break;
    case kHumHarmonics: hum.set_harmonics(static_cast<int>(v)); break;
    case kNsBypass:
      if (!on && ns_fade.settled_bypassed()) {
        ns.reset();
        ns_warmup_ = ns_warmup_samples_;
      } else {
        ns_warmup_ = 0;
        ns_fade.set_bypass(on);
      }
      break;
    case kNsStrength: ns.set_strength(v / 100.0f); break;
    case kNsFloor: ns.set_floor_db(v); break;
    case kGateBypass: gate.set_bypass(on); break;
    case kGateThreshold: gate.set_threshold_db(v); break;
    case kGateRange: gate.set_range_db(v); break;
    case kGateAttack: gate.set_attack_ms(v); break;
    case kGateHold: gate.set_hold_ms(v); break;
    case kGateRelease: gate.set_release_ms(v); break;
    case kGateHysteresis: gate.set_hysteresis_db(v); break;
    case kCompBypass: comp.set_bypass(on); break;
    case kCompThreshold: comp.set_threshold_db(v); break;
    case kCompRatio: comp.set_ratio(v); break;
    case kCompKnee: comp.set_knee_db(v); break;
    case kCompAttack: comp.set_attack_ms(v); break;
    case kCompRelease: comp.set_release_ms(v); break;
    case kCompMakeup: comp.set_makeup_db(v); break;
    case kEqBypass: eq.set_bypass(on); break;
    case kEqLowFreq: eq.set_freq(Equalizer::kLow, v); break;
    case kEqLowGain: eq.set_gain_db(Equalizer::kLow, v); break;
    case kEqPeak1Freq: eq.set_freq(Equalizer::kPeak1, v); break;
    case kEqPeak1Gain: eq.set_gain_db(Equalizer::kPeak1, v); break;
    case kEqPeak1Q: eq.set_q(Equalizer::kPeak1, v); break;
    case kEqPeak2Freq: eq.set_freq(Equalizer::kPeak2, v); break;
    case kEqPeak2Gain: eq.set_gain_db(Equalizer::kPeak2, v); break;
    case kEqPeak2Q: eq.set_q(Equalizer::kPeak2, v); break;
    case kEqHighFreq: eq.set_freq(Equalizer::kHigh, v); break;
    case kEqHighGain: eq.set_gain_db(Equalizer::kHigh, v); break;
    case kLimitBypass: limiter.set_bypass(on); break;
    case kLimitCeiling: limiter.set_ceiling_db(v); break;
    case kLimitRelease: limiter.set_release_ms(v); break;
    case kOutGain: out.set_gain_db(v); break;
    case kStripParamCount: break;
  }
}

void Strip::control() noexcept {
  hpf.control();
  hum.control();
  gate.control();
  comp.control();
  eq.control();
  limiter.control();
}

void Strip::process(float* x, uint32_t n) noexcept {
  trim.process(x, n);
  hpf.process(x, n);
  hum.process(x, n);
  if (ns_warmup_ > 0) {
    // Turned back on: the suppressor starts afresh on a copy while the output stays
    // dry, and fades in only once its buffers are full and its noise estimate has
    // settled. Bypassed, it costs nothing; coming back, it does not click.
    float copy[kControlInterval];
    for (uint32_t i = 0; i < n; ++i) copy[i] = x[i];
    ns.process(copy, n);
    ns_warmup_ = ns_warmup_ > n ? ns_warmup_ - n : 0;
    if (ns_warmup_ == 0) ns_fade.set_bypass(false);
  }
  ns_fade.run(
      x, n, [this](float* y, uint32_t m) { ns.process(y, m); }, [this] { ns.reset(); });
  gate.process(x, n);
  comp.process(x, n);
  eq.process(x, n);
  limiter.process(x, n);
  out.process(x, n);
}

StripMeters Strip::meters() const noexcept {
  StripMeters m{gate.gain_reduction_db(), comp.gain_reduction_db(), limiter.gain_reduction_db(),
                static_cast<float>(hum.tracked_hz()), ns_fade.settled_bypassed() ? 0.0f : ns.gain_reduction_db()};
  if (!ns_fade.settled_bypassed() && ns_warmup_ == 0) {
    const TonalRemover& t = ns.tonal();
    m.tone_count = t.tone_count();
    for (uint32_t i = 0; i < m.tone_count; ++i) m.tones_hz[i] = static_cast<float>(t.tone_hz(i));
  }
  return m;
}

}  // namespace hushbox::dsp
