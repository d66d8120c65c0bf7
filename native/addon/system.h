// System calls the supervisor needs and Node cannot make: scheduling, affinity,
// memory lock, sd_notify, ALSA controls. Registered into the addon's exports.
#pragma once

#include <napi.h>

namespace hushbox::addon {

void register_system(Napi::Env env, Napi::Object exports);

}  // namespace hushbox::addon
