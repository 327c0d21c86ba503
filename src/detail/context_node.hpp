#pragma once

#include <nettrace/context.hpp>

#include <chrono>
#include <optional>

namespace nettrace::detail {

// One link of a context chain. The trace is stored already composed with the
// parent's, and the deadline already the earliest along the chain, so
// lookups never walk it; `parent` is kept for values still to come.
struct context_node {
    std::shared_ptr<const context_node> parent;
    client_trace trace;
    bool has_trace = false;
    std::optional<std::chrono::steady_clock::time_point> deadline;
};

}  // namespace nettrace::detail
