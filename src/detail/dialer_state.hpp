// A dialer's immutable state: its options, clamped, and the racer's
// configuration derived from them (src/dial.cpp makes it).
#pragma once

#include <nettrace/options.hpp>

#include "../racer.hpp"

namespace nettrace::detail {

struct dialer_state {
    dial_options options;
    racer_config racer;
};

}  // namespace nettrace::detail
