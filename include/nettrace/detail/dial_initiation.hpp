// The initiation half of dial() and resolve() that must live in headers:
// finding the I/O executor for a token at compile time, and handing the
// type-erased handler to the operations compiled in src/. Not API.
#pragma once

#include <nettrace/context.hpp>
#include <nettrace/options.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution/blocking.hpp>
#include <boost/asio/execution/executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/is_executor.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/system_executor.hpp>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace nettrace {

using dial_signature = void(boost::system::error_code, boost::asio::ip::tcp::socket);
using resolve_signature = void(boost::system::error_code, std::vector<boost::asio::ip::address>);

class dialer;

namespace detail {

struct dialer_state;
struct dialer_access;

using dial_handler = boost::asio::any_completion_handler<void(boost::system::error_code, boost::asio::ip::tcp::socket)>;
using resolve_handler =
    boost::asio::any_completion_handler<void(boost::system::error_code, std::vector<boost::asio::ip::address>)>;

// Compiled in src/: the type-erased operations behind every token.
// `handler_ex` is the handler's executor, or empty when it is `ex`.
// Taken by rvalue reference: the arguments are moved once, from the
// initiation's own copies into the operation (each layer's by-value
// parameter cost a move of every string and executor per dial).
void start_dial(std::shared_ptr<const dialer_state>&& state, context&& ctx, std::string&& network,
                std::string&& address, boost::asio::any_io_executor&& ex,
                boost::asio::any_completion_executor&& handler_ex, dial_handler&& handler);
void start_dial_endpoints(std::shared_ptr<const dialer_state> state, context ctx, std::string network,
                          std::vector<boost::asio::ip::tcp::endpoint> endpoints, boost::asio::any_io_executor ex,
                          boost::asio::any_completion_executor handler_ex, dial_handler handler);
void start_resolve(std::shared_ptr<const dialer_state> state, context ctx, std::string host,
                   boost::asio::any_io_executor ex, boost::asio::any_completion_executor handler_ex,
                   resolve_handler handler);

std::shared_ptr<const dialer_state> make_dialer_state(dial_options options);
const std::shared_ptr<const dialer_state>& default_dialer_state();
const dial_options& options_of(const dialer_state& state) noexcept;

template <class Executor>
concept executor = boost::asio::execution::executor<Executor> || boost::asio::is_executor<Executor>::value;

// Whether an executor can run I/O objects. One whose blocking property is a
// compile-time constant has no I/O context of its own: the system_executor
// (what a bare callback gets) and use_future's promise executor, which would
// run the dial's sockets on the system_context. An io_context's executor, a
// strand, a thread pool's and any_io_executor report blocking at run time.
template <class Executor>
constexpr bool has_io_context() {
    using blocking = boost::asio::execution::blocking_t;
    if constexpr (boost::asio::can_query<const Executor&, blocking>::value)
        return std::is_same_v<std::decay_t<typename boost::asio::query_result<const Executor&, blocking>::type>,
                              blocking>;
    else
        return true;  // a Networking TS executor: its own to vouch for
}

// The executor the operation's sockets and timers use: the one given, else
// the handler's associated executor (in a coroutine, the coroutine's). A bare
// callback or use_future has no I/O executor: refuse it at compile time.
template <class Handler, class Given>
boost::asio::any_io_executor io_executor(const Handler& handler, const Given& given) {
    if constexpr (std::is_same_v<Given, boost::asio::system_executor>) {
        auto ex = boost::asio::get_associated_executor(handler);
        static_assert(has_io_context<decltype(ex)>(),
                      "nettrace: this completion handler has no associated executor; "
                      "pass an executor as the first argument of dial()/resolve()");
        return ex;
    } else {
        return given;
    }
}

// The handler's executor, or an empty one when it is `io_ex` itself (in a
// coroutine: the coroutine's executor does the I/O and runs the handler).
// Looked up here, on the handler's own type: through the type-erased
// handler, each lookup and each work guard costs a heap allocation.
template <class Handler, class Given>
boost::asio::any_completion_executor handler_executor(const Handler& handler, const Given&,
                                                      const boost::asio::any_io_executor& io_ex) {
    // No executor given: io_executor() took the handler's own, so there is
    // nothing to look up or compare.
    if constexpr (std::is_same_v<Given, boost::asio::system_executor>) {
        return {};
    } else {
        auto ex = boost::asio::get_associated_executor(handler, io_ex);
        using executor_type = decltype(ex);
        if constexpr (std::is_same_v<executor_type, boost::asio::any_io_executor>) {
            if (ex == io_ex) return {};
        } else if (const auto* target = io_ex.template target<executor_type>(); target && *target == ex) {
            return {};
        }
        return boost::asio::any_completion_executor(std::move(ex));
    }
}

struct initiate_dial {
    template <class Handler, class Given>
    void operator()(Handler&& handler, const Given& given, std::shared_ptr<const dialer_state> state, context ctx,
                    std::string&& network, std::string&& address) const {
        auto ex = io_executor(handler, given);
        auto handler_ex = handler_executor(handler, given, ex);
        start_dial(std::move(state), std::move(ctx), std::move(network), std::move(address), std::move(ex),
                   std::move(handler_ex), dial_handler(std::forward<Handler>(handler)));
    }
};

struct initiate_dial_endpoints {
    template <class Handler, class Given>
    void operator()(Handler&& handler, const Given& given, std::shared_ptr<const dialer_state> state, context ctx,
                    std::string network, std::vector<boost::asio::ip::tcp::endpoint> endpoints) const {
        auto ex = io_executor(handler, given);
        auto handler_ex = handler_executor(handler, given, ex);
        start_dial_endpoints(std::move(state), std::move(ctx), std::move(network), std::move(endpoints),
                             std::move(ex), std::move(handler_ex), dial_handler(std::forward<Handler>(handler)));
    }
};

struct initiate_resolve {
    template <class Handler, class Given>
    void operator()(Handler&& handler, const Given& given, std::shared_ptr<const dialer_state> state, context ctx,
                    std::string host) const {
        auto ex = io_executor(handler, given);
        auto handler_ex = handler_executor(handler, given, ex);
        start_resolve(std::move(state), std::move(ctx), std::move(host), std::move(ex), std::move(handler_ex),
                      resolve_handler(std::forward<Handler>(handler)));
    }
};

}  // namespace detail

}  // namespace nettrace
