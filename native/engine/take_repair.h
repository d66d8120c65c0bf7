// A FLAC take cut by a power loss (or a killed engine) has no length or MD5
// in its STREAMINFO (libFLAC writes them when the stream is finished) and may
// end in a torn frame; libsndfile cannot append to it. Repair re-encodes the
// whole frames (libsndfile reads such a stream to its last whole frame) into a
// fresh FLAC beside it, synced, and renames it over the take, so the take is
// either the cut file or the finished one, never half of each.
#pragma once

#include <cstdint>
#include <string>

#include "status.h"

namespace hushbox {

struct TakeRepair {
  bool repaired = false;  // false: the take was finished already (nothing done)
  uint64_t frames = 0;    // frames in the take now
  uint32_t rate = 0;
  uint32_t channels = 0;
};

// [control] Repair `path` (a FLAC take) if it was cut.
Status repair_flac_take(const std::string& path, TakeRepair& result);

// `hushbox-engine repair-take FILE.flac [--json]`
int cmd_repair_take(int argc_rest, const std::string* args);

}  // namespace hushbox
