// A dialer's state: its options, clamped, and the racer's configuration
// derived from them (src/dial.cpp makes it), immutable; and what its dials
// learn and share, behind a lock (the NAT64 prefix discovered).
#pragma once

#include <nettrace/nat64.hpp>
#include <nettrace/options.hpp>

#include "../racer.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>

namespace nettrace::detail {

struct dialer_state {
    dial_options options;
    racer_config racer;

    struct nat64_cache {
        std::mutex mutex;
        std::optional<nat64_prefix> prefix;
        clock::time_point expires{};
    };
    mutable nat64_cache nat64;

    // IPv4 destinations recently probed routable (has_route), so that a
    // dial of one pays no probe more than once a second: each slot holds
    // the address (high half) and the second its answer expires (low
    // half), direct-mapped by address. Lock-free: a dial reads one atomic.
    mutable std::array<std::atomic<std::uint64_t>, 16> routed{};
};

}  // namespace nettrace::detail
