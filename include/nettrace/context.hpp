// nettrace/context.hpp — an immutable, cheaply copyable carrier of request
// values, like Go's context.Context: the client_trace and a deadline.
#pragma once

#include <nettrace/trace.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace nettrace {

namespace detail {
struct context_node;
}

/// An immutable value; copies share state. A default-constructed context is
/// the empty background context. Safe to use from several threads at once.
class context {
public:
    context() noexcept = default;

private:
    explicit context(std::shared_ptr<const detail::context_node> node) noexcept : node_(std::move(node)) {}
    std::shared_ptr<const detail::context_node> node_;

    friend context with_client_trace(const context& parent, const client_trace& trace);
    friend context with_deadline(const context& parent, std::chrono::steady_clock::time_point deadline);
    friend const client_trace* context_client_trace(const context& ctx) noexcept;
    friend std::optional<std::chrono::steady_clock::time_point> context_deadline(const context& ctx) noexcept;
};

/// A new context whose trace runs `trace`'s hooks first, then those already
/// in `parent`'s trace. `trace` is copied, never modified; attaching the same
/// trace twice calls its hooks twice. Composition happens here, once, so a
/// traced dial pays one std::function call per hook.
///
/// Thread safety: `parent` is not modified; any thread, at any time. The
/// hooks themselves run on the strand of each operation given the context
/// (never concurrently within one operation; concurrently across
/// operations, so hooks shared by concurrent dials must synchronise).
///
/// Errors: none; throws only std::bad_alloc.
context with_client_trace(const context& parent, const client_trace& trace);

/// A context whose trace fills `report` when a dial given it completes,
/// before the completion handler runs: the Go-style description and every
/// (endpoint, error) pair, also when the dial's error is all the completion
/// carries (an exception from co_await). `report` must outlive the dial.
/// Thread safety: `report` is written on the dial's strand, before its
/// handler runs; give one report to one dial at a time.
///
///     nettrace::dial_report report;
///     auto [ec, s] = co_await nettrace::dial(nettrace::with_dial_report(ctx, report), "tcp", addr,
///                                            asio::as_tuple(asio::deferred));
///     if (ec) log(report.description);  // "dial tcp db:5432: ... (2 attempts: ...)"
context with_dial_report(const context& parent, dial_report& report);

/// A child context with a deadline, as Go's context.WithDeadline: every
/// dial, dial_tls and resolve given it (or a context derived from it) fails
/// with error::timeout once `deadline` passes, whichever comes first of it
/// and the dialer's own dial_options::timeout (dial_done_info::cause says
/// which expired). The earliest deadline along the chain wins: a child
/// cannot extend its parent's. A deadline already past fails the operation
/// at once (its hooks still pair). A context without one costs a dial
/// nothing.
///
/// Thread safety: as with_client_trace. Errors: none; throws only
/// std::bad_alloc.
context with_deadline(const context& parent, std::chrono::steady_clock::time_point deadline);

/// with_deadline(parent, now + timeout), as Go's context.WithTimeout; a
/// timeout beyond what the clock holds means no deadline of its own.
context with_timeout(const context& parent, std::chrono::steady_clock::duration timeout);

/// The earliest deadline along `ctx`'s chain, if any. Thread safe.
std::optional<std::chrono::steady_clock::time_point> context_deadline(const context& ctx) noexcept;

/// The composed trace `ctx` carries, or nullptr when it carries none. The
/// pointer is valid as long as some copy of `ctx` is. Thread safe.
const client_trace* context_client_trace(const context& ctx) noexcept;

}  // namespace nettrace
