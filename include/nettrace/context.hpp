// nettrace/context.hpp — an immutable, cheaply copyable carrier of request
// values, like Go's context.Context. Today it carries the client_trace.
#pragma once

#include <nettrace/trace.hpp>

#include <memory>

namespace nettrace {

namespace detail { struct context_node; }

/// An immutable value; copies share state. A default-constructed context is
/// the empty background context. Safe to use from several threads at once.
class context {
public:
    context() noexcept = default;

private:
    explicit context(std::shared_ptr<const detail::context_node> node) noexcept : node_(std::move(node)) {}
    std::shared_ptr<const detail::context_node> node_;

    friend context with_client_trace(const context& parent, const client_trace& trace);
    friend const client_trace* context_client_trace(const context& ctx) noexcept;
};

/// A new context whose trace runs `trace`'s hooks first, then those already
/// in `parent`'s trace. `trace` is copied, never modified; attaching the same
/// trace twice calls its hooks twice. Composition happens here, once, so a
/// traced dial pays one std::function call per hook.
context with_client_trace(const context& parent, const client_trace& trace);

/// The composed trace `ctx` carries, or nullptr when it carries none. The
/// pointer is valid as long as some copy of `ctx` is.
const client_trace* context_client_trace(const context& ctx) noexcept;

}  // namespace nettrace
