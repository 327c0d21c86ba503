// The one asynchronous-operation core that dial, resolve and dial_tls share:
// the completion handler and the work that keeps its executor busy, the
// cancellation-slot filter, the strand (or not), fire() for hooks, and one
// rule for completing.
//
// The rule for completing, Boost.MySQL's: an operation that completes before
// it ever waited on anything (bad input, a descriptor limit, a literal the
// network excludes) may still be inside its initiating function, so its
// handler is posted; once it has waited, it is dispatched. Every entry from
// an asynchronous wait calls resumed() first.
#pragma once

#include <nettrace/context.hpp>
#include <nettrace/trace.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/strand.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <utility>

namespace nettrace::detail {

/// Where an operation's own handlers run, one at a time. A strand over the
/// I/O executor, unless the caller promised (dial_options::single_threaded)
/// that one thread runs it: then that thread serialises them already. The
/// strand is made over the io_context's own executor when that is what was
/// given, which fits in place in an any_io_executor (a strand over the
/// type-erased executor would be a heap block).
inline boost::asio::any_io_executor operation_strand(const boost::asio::any_io_executor& ex, bool single_threaded) {
    if (single_threaded) return ex;
    if (const auto* io = ex.target<boost::asio::io_context::executor_type>()) return boost::asio::make_strand(*io);
    return boost::asio::make_strand(ex);
}

template <class Signature>
class operation : public std::enable_shared_from_this<operation<Signature>> {
public:
    using handler_type = boost::asio::any_completion_handler<Signature>;

    virtual ~operation() = default;

protected:
    /// `handler_ex` is the handler's associated executor, or empty when it
    /// is `ex` itself (looked up in the header, on the handler's own type:
    /// through the type-erased handler each lookup costs an allocation).
    operation(boost::asio::any_io_executor&& ex, bool single_threaded, context&& ctx, handler_type&& handler,
              boost::asio::any_completion_executor&& handler_ex)
        : ex_(std::move(ex)),
          strand_(operation_strand(ex_, single_threaded)),
          ctx_(std::move(ctx)),
          trace_(context_client_trace(ctx_)),
          handler_(std::move(handler)) {
        if (handler_ex)
            handler_work_.emplace(boost::asio::prefer(handler_ex, boost::asio::execution::outstanding_work.tracked));
    }

    /// Binds the handler's cancellation slot (on the initiating thread, so a
    /// signal emitted right after initiation is not lost), then runs `step`
    /// on the strand: inline when this thread may (a coroutine's
    /// io_context), else as soon as it can. Cancellation is always posted:
    /// emitted from inside a hook, it must not re-enter half-way through a
    /// step.
    template <class Derived, class Step>
    void initiate(Step step) {
        slot_ = boost::asio::get_associated_cancellation_slot(handler_);
        if (slot_.is_connected()) {
            slot_.assign([weak = this->weak_from_this()](boost::asio::cancellation_type type) {
                using ct = boost::asio::cancellation_type;
                if ((type & (ct::terminal | ct::partial | ct::total)) == ct::none) return;
                if (auto self = weak.lock())
                    boost::asio::post(self->strand_, [self] {
                        self->resumed();
                        self->on_cancel();
                    });
            });
        }
        with_concrete(strand_, [&](const auto& strand) {
            // What dispatch does on the io_context this thread runs (a
            // coroutine's), without wrapping the step in a handler: the
            // caller holds the operation, so no reference is taken either.
            if constexpr (std::is_same_v<std::decay_t<decltype(strand)>, boost::asio::io_context::executor_type>) {
                if (strand.running_in_this_thread()) return step(static_cast<Derived&>(*this));
            }
            boost::asio::dispatch(strand, [self = self<Derived>(), step = std::move(step)]() mutable { step(*self); });
        });
    }

    /// Calls f with `ex` as its concrete type when it is an io_context's
    /// executor or a strand of one (Asio's path through a type-erased
    /// executor costs a wrapper and a virtual call per handler), else as is.
    /// The one place where the executor's type is looked at.
    template <class F>
    static void with_concrete(const boost::asio::any_io_executor& ex, F&& f) {
        using io_executor = boost::asio::io_context::executor_type;
        if (const auto* io = ex.target<io_executor>())
            f(*io);
        else if (const auto* strand = ex.target<boost::asio::strand<io_executor>>())
            f(*strand);
        else
            f(ex);
    }

    template <class Derived>
    std::shared_ptr<Derived> self() {
        return std::static_pointer_cast<Derived>(this->shared_from_this());
    }

    /// Every handler of the operation calls this first (see the rule above).
    void resumed() noexcept { waited_ = true; }
    bool completed() const noexcept { return !handler_; }

    /// Calls a hook; what it throws does not break the operation or skip
    /// later hooks, and the first exception is kept for the done hook.
    template <class Hook, class Info>
    void fire(const Hook& hook, const Info& info) noexcept {
        if (!hook) return;
        try {
            hook(info);
        } catch (...) {
            if (!hook_exception_) hook_exception_ = std::current_exception();
        }
    }

    /// Invokes the handler with `args` through its associated executor,
    /// posted or dispatched as the rule says; the slot is cleared there too
    /// (cancellation slots are not thread safe, and the caller emits on that
    /// executor, not on our strand).
    template <class... Args>
    void complete(Args&&... args) {
        // What dispatch would do, without moving the handler and the
        // results through two wrappers: a handler whose executor is the
        // io_context this thread runs is invoked here and now.
        if (waited_ && !handler_work_) {
            if (const auto* io = ex_.target<boost::asio::io_context::executor_type>();
                io && io->running_in_this_thread()) {
                if (slot_.is_connected()) slot_.clear();
                auto handler = std::move(handler_);
                std::move(handler)(std::forward<Args>(args)...);
                return;
            }
        }
        std::optional<boost::asio::any_completion_executor> handler_ex = handler_work_;
        auto invoke = [handler = std::move(handler_), slot = slot_, work = std::move(handler_work_),
                       ... args = std::forward<Args>(args)]() mutable {
            if (slot.is_connected()) slot.clear();
            std::move(handler)(std::move(args)...);
        };
        if (!handler_ex) {
            with_concrete(ex_, [&](const auto& ex) {
                if (waited_)
                    boost::asio::dispatch(ex, std::move(invoke));
                else
                    boost::asio::post(ex, std::move(invoke));
            });
        } else if (waited_) {
            boost::asio::dispatch(*handler_ex, std::move(invoke));
        } else {
            // A completion executor cannot be posted to: leave the initiating
            // function through the I/O executor's queue, then dispatch.
            boost::asio::post(ex_, [ex = *handler_ex, invoke = std::move(invoke)]() mutable {
                boost::asio::dispatch(ex, std::move(invoke));
            });
        }
    }

    /// The caller cancelled (terminal, partial or total), on the strand.
    virtual void on_cancel() = 0;

    boost::asio::any_io_executor ex_;      // sockets, timers, resolver callbacks
    boost::asio::any_io_executor strand_;  // operation_strand(ex_)
    context ctx_;
    const client_trace* trace_;
    std::exception_ptr hook_exception_;

private:
    handler_type handler_;
    // Keeps the handler's executor busy when it is not ex_ (whose own work
    // the pending I/O keeps).
    std::optional<boost::asio::any_completion_executor> handler_work_;
    boost::asio::cancellation_slot slot_;
    bool waited_ = false;
};

}  // namespace nettrace::detail
