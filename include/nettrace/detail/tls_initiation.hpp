// The initiation half of dial_tls that must live in headers (see
// dial_initiation.hpp), and the types it shares with tls.hpp. Not API.
#pragma once

#include <nettrace/context.hpp>
#include <nettrace/detail/dial_initiation.hpp>
#include <nettrace/tls_options.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace nettrace {

namespace detail {

using tls_dial_handler = boost::asio::any_completion_handler<tls_dial_signature>;

// Compiled in src/tls.cpp: the type-erased operation behind every token.
void start_dial_tls(std::shared_ptr<const dialer_state> state, context ctx, std::string network, std::string address,
                    boost::asio::ssl::context& ssl_ctx, tls_options options, boost::asio::any_io_executor ex,
                    boost::asio::any_completion_executor handler_ex, tls_dial_handler handler,
                    std::optional<std::vector<boost::asio::ip::tcp::endpoint>> endpoints = std::nullopt);

template <class Token>
concept tls_token = !std::is_same_v<std::decay_t<Token>, tls_options>;

struct initiate_dial_tls {
    template <class Handler, class Given>
    void operator()(Handler&& handler, const Given& given, std::shared_ptr<const dialer_state> state, context ctx,
                    std::string network, std::string address, boost::asio::ssl::context* ssl_ctx,
                    tls_options options,
                    std::optional<std::vector<boost::asio::ip::tcp::endpoint>> endpoints = std::nullopt) const {
        auto ex = io_executor(handler, given);
        auto handler_ex = handler_executor(handler, given, ex);
        start_dial_tls(std::move(state), std::move(ctx), std::move(network), std::move(address), *ssl_ctx,
                       std::move(options), std::move(ex), std::move(handler_ex),
                       tls_dial_handler(std::forward<Handler>(handler)), std::move(endpoints));
    }
};

// dialer_access, named through a template so that dialer need not be
// complete here (dial.hpp defines both).
template <class Dialer>
using access = std::conditional_t<true, dialer_access, Dialer>;

template <class Token, class Given, class Dialer>
auto async_dial_tls(const Given& given, const Dialer& d, const context& ctx, std::string_view network,
                    std::string_view address, boost::asio::ssl::context& ssl_ctx, tls_options options, Token& token) {
    return boost::asio::async_initiate<Token, tls_dial_signature>(initiate_dial_tls{}, token, given,
                                                                  access<Dialer>::state(d), ctx, std::string(network),
                                                                  std::string(address), &ssl_ctx, std::move(options));
}

template <class Token, class Given, class Dialer>
auto async_dial_tls_endpoints(const Given& given, const Dialer& d, const context& ctx, std::string_view network,
                              std::span<const boost::asio::ip::tcp::endpoint> endpoints,
                              boost::asio::ssl::context& ssl_ctx, tls_options options, Token& token) {
    return boost::asio::async_initiate<Token, tls_dial_signature>(
        initiate_dial_tls{}, token, given, access<Dialer>::state(d), ctx, std::string(network), std::string(),
        &ssl_ctx, std::move(options),
        std::optional<std::vector<boost::asio::ip::tcp::endpoint>>(std::in_place, endpoints.begin(), endpoints.end()));
}

}  // namespace detail

}  // namespace nettrace
