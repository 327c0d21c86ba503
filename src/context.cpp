#include <nettrace/context.hpp>

#include "detail/context_node.hpp"
#include "detail/saturate.hpp"

#include <exception>

namespace nettrace {
namespace {

// Newer hooks run first, then older ones, as Go's httptrace composes them:
// the layer closest to the operation sees each event first.
template <class Info>
std::function<void(const Info&)> compose(const std::function<void(const Info&)>& newer,
                                         const std::function<void(const Info&)>& older) {
    if (!newer) return older;
    if (!older) return newer;
    // One layer's throwing hook must not hide the event from the others:
    // the older hook still runs, then the exception goes on to the dial.
    return [newer, older](const Info& info) {
        std::exception_ptr thrown;
        try {
            newer(info);
        } catch (...) {
            thrown = std::current_exception();
        }
        older(info);
        if (thrown) std::rethrow_exception(thrown);
    };
}

}  // namespace

context with_client_trace(const context& parent, const client_trace& trace) {
    auto node = std::make_shared<detail::context_node>();
    if (const client_trace* old = context_client_trace(parent)) {
#define NETTRACE_COMPOSE(name, info) node->trace.name = compose(trace.name, old->name);
        NETTRACE_HOOKS(NETTRACE_COMPOSE)
#undef NETTRACE_COMPOSE
    } else {
        node->trace = trace;
    }
    node->has_trace = true;
    node->parent = parent.node_;
    if (parent.node_) node->deadline = parent.node_->deadline;
    return context(std::move(node));
}

context with_deadline(const context& parent, std::chrono::steady_clock::time_point deadline) {
    auto node = std::make_shared<detail::context_node>();
    if (parent.node_) {
        node->trace = parent.node_->trace;
        node->has_trace = parent.node_->has_trace;
        node->deadline = parent.node_->deadline;
    }
    if (!node->deadline || deadline < *node->deadline) node->deadline = deadline;
    node->parent = parent.node_;
    return context(std::move(node));
}

context with_timeout(const context& parent, std::chrono::steady_clock::duration timeout) {
    return with_deadline(parent, detail::saturating_add(std::chrono::steady_clock::now(), timeout));
}

std::optional<std::chrono::steady_clock::time_point> context_deadline(const context& ctx) noexcept {
    return ctx.node_ ? ctx.node_->deadline : std::nullopt;
}

context with_dial_report(const context& parent, dial_report& report) {
    client_trace t;
    t.dial_done = [&report](const dial_done_info& i) {
        report = {.error = i.error,
                  .remote = i.remote,
                  .local = i.local,
                  .attempts = {i.attempts.begin(), i.attempts.end()},
                  .elapsed = i.elapsed,
                  .description = i.describe()};
    };
    return with_client_trace(parent, t);
}

const client_trace* context_client_trace(const context& ctx) noexcept {
    return ctx.node_ && ctx.node_->has_trace ? &ctx.node_->trace : nullptr;
}

}  // namespace nettrace
