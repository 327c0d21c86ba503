#pragma once

#include <nettrace/context.hpp>

namespace nettrace::detail {

// One link of a context chain. The trace is stored already composed with the
// parent's, so lookups never walk the chain; `parent` is kept for the values
// contexts will carry besides traces.
struct context_node {
    std::shared_ptr<const context_node> parent;
    client_trace trace;
    bool has_trace = false;
};

}  // namespace nettrace::detail
