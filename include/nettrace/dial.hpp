// nettrace/dial.hpp — resolve a name and connect, racing addresses with
// RFC 8305 Happy Eyeballs, traced through the context's client_trace.
#pragma once

#include <nettrace/address.hpp>
#include <nettrace/context.hpp>
#include <nettrace/options.hpp>
#include <nettrace/resolver.hpp>

#include <nettrace/detail/dial_initiation.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/system_executor.hpp>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace nettrace {

/// Dials with a fixed set of options. Cheap to copy (copies share the
/// immutable options); may be destroyed while its dials are in flight.
/// Constructing one copies and clamps the options (see options()); the
/// default constructor shares one process-wide default. Thread safety: a
/// dialer is never modified after construction; share it freely.
class dialer {
public:
    dialer() : state_(detail::default_dialer_state()) {}
    explicit dialer(dial_options options) : state_(detail::make_dialer_state(std::move(options))) {}

    /// The options in force, after clamping (attempt_delay >= 10 ms,
    /// first_family_count >= 1, resolver filled in).
    const dial_options& options() const noexcept { return detail::options_of(*state_); }

    /// Resolves `address` ("host:port", "[v6]:port", "[v6%zone]:port") and
    /// connects to it over `network` ("tcp", "tcp4", "tcp6"), racing the
    /// addresses with RFC 8305 Happy Eyeballs. An IP literal skips DNS (and
    /// its hooks). The trace's hooks run as docs/tracing.md says.
    ///
    /// Completion signature: void(error_code, tcp::socket). On success the
    /// socket is connected; on error it is closed. It uses the I/O executor.
    ///
    /// Executor: the I/O executor (sockets, timer, resolver callbacks) is `ex`
    /// when given, else the handler's associated executor (in a coroutine, the
    /// coroutine's); a handler with neither does not compile. Intermediate
    /// work and trace hooks run on a strand of it, so an io_context run by
    /// several threads is fine; with dial_options::single_threaded (the
    /// caller's promise that one thread runs it) there is no strand. The
    /// handler runs through its associated executor: dispatched once the dial
    /// has waited on anything, posted when it completes without waiting (bad
    /// input), so never inside the initiating function; that executor is
    /// kept busy (outstanding work) until the handler has run.
    ///
    /// Cancellation: terminal, partial and total per-operation cancellation
    /// all abandon the dial: every attempt is cancelled and closed, lookups
    /// are cancelled (a getaddrinfo call is abandoned, not waited for), and
    /// the operation completes promptly with boost::asio::error::
    /// operation_aborted. A signal that arrives after the race is decided has
    /// no effect. options().timeout bounds the whole dial the same way, and
    /// so does a deadline in `ctx` (with_deadline, with_timeout): whichever
    /// comes first.
    ///
    /// Thread safety: a dialer is immutable; distinct dials may start on it
    /// from any thread at once. `ctx`, `network` and `address` are copied
    /// before this returns.
    ///
    /// Errors:
    /// - a nettrace::error input error (unknown_network, missing_port,
    ///   invalid_port, invalid_host, ... as parse_network/parse_host_port
    ///   report), before any DNS query or connect;
    /// - error::no_suitable_address: the network (tcp4/tcp6) or the family
    ///   preference (ipv4_only/ipv6_only) excludes the literal's family, or
    ///   every family;
    /// - when no family yielded an address: the resolver's error, a real
    ///   failure over no_addresses (host_not_found, no_addresses,
    ///   dns_failure, dns_timeout, dns_refused, dns_malformed, no_resolver,
    ///   boost::asio::error::no_descriptors at the descriptor limit); a
    ///   resolver that throws counts as dns_failure;
    /// - when every attempt failed: the most telling attempt's error, one the
    ///   peer caused (connection_refused, timed_out, connection_reset, ...)
    ///   over a local one (network_unreachable, address_family_not_supported,
    ///   no_descriptors, error::no_local_address);
    /// - error::timeout: options().timeout or the context's deadline expired
    ///   before any attempt won (dial_done_info::cause says which);
    /// - boost::asio::error::operation_aborted: cancelled.
    /// The trace's dial_done (or with_dial_report) gets every (endpoint,
    /// error) pair and a Go-style description naming the failing step
    /// ("lookup db.test on 127.0.0.1:53: ...", "connect 127.0.0.1:5432:
    /// ..."). The throwing co_await form (the default token) throws Asio's
    /// system_error, which carries only the error_code: to log the
    /// description too, dial with `with_dial_report(ctx, report)` and read
    /// `report.description` in the catch block (context.hpp shows it).
    template <class Token = boost::asio::deferred_t>
    auto dial(const context& ctx, std::string_view network, std::string_view address, Token&& token = {}) const {
        return boost::asio::async_initiate<Token, dial_signature>(detail::initiate_dial{}, token,
                                                                  boost::asio::system_executor(), state_, ctx,
                                                                  std::string(network), std::string(address));
    }

    /// As above, with `ex` as the I/O executor (needed by completion handlers
    /// without an associated executor, such as a plain callback).
    template <detail::executor Executor, class Token = boost::asio::deferred_t>
    auto dial(const Executor& ex, const context& ctx, std::string_view network, std::string_view address,
              Token&& token = {}) const {
        return boost::asio::async_initiate<Token, dial_signature>(detail::initiate_dial{}, token,
                                                                  boost::asio::any_io_executor(ex), state_, ctx,
                                                                  std::string(network), std::string(address));
    }

    /// Connects to one of `endpoints` (service discovery's answer, such as
    /// Kubernetes endpoints or Envoy's EDS addresses: ports may differ),
    /// racing them with the same rules as a name's addresses: the families
    /// interleaved, IPv6 first, unless options().keep_endpoint_order keeps
    /// the given order. No DNS, and no DNS hooks; dial_start's address is
    /// the list, comma-separated. A repeated endpoint is tried once.
    ///
    /// Completion signature, executor, cancellation, thread safety: as
    /// dial() above; `endpoints` is copied before this returns.
    ///
    /// Errors: error::empty_endpoint_list (an empty list),
    /// no_suitable_address (the network or the family preference excludes
    /// every endpoint), unknown_network, before any connect; then as dial().
    template <class Token = boost::asio::deferred_t>
    auto dial(const context& ctx, std::string_view network, std::span<const boost::asio::ip::tcp::endpoint> endpoints,
              Token&& token = {}) const {
        return boost::asio::async_initiate<Token, dial_signature>(
            detail::initiate_dial_endpoints{}, token, boost::asio::system_executor(), state_, ctx,
            std::string(network), std::vector<boost::asio::ip::tcp::endpoint>(endpoints.begin(), endpoints.end()));
    }

    template <detail::executor Executor, class Token = boost::asio::deferred_t>
    auto dial(const Executor& ex, const context& ctx, std::string_view network,
              std::span<const boost::asio::ip::tcp::endpoint> endpoints, Token&& token = {}) const {
        return boost::asio::async_initiate<Token, dial_signature>(
            detail::initiate_dial_endpoints{}, token, boost::asio::any_io_executor(ex), state_, ctx,
            std::string(network), std::vector<boost::asio::ip::tcp::endpoint>(endpoints.begin(), endpoints.end()));
    }

    /// Looks up the addresses of `host` (a name or an IP literal, no port, no
    /// brackets) for both families, or the one the family preference allows,
    /// through options().resolver, firing dns_start, dns_answer and dns_done.
    /// An IP literal is returned as is, without DNS or hooks.
    ///
    /// Completion signature: void(error_code, std::vector<ip::address>):
    /// IPv6 addresses first (IPv4 first with prefer_ipv4); empty on error.
    /// It completes once every family asked for has answered.
    ///
    /// Executor: as for dial().
    ///
    /// Cancellation: terminal, partial and total cancel the lookups; the
    /// operation completes promptly with boost::asio::error::
    /// operation_aborted. options().timeout does not apply to resolve(); a
    /// deadline in `ctx` does (error::timeout), and so do the resolver's own
    /// timeouts (dns_resolver_options::timeout and tries).
    ///
    /// Thread safety: as for dial().
    ///
    /// Errors: error::missing_host (empty), host_too_long, invalid_host,
    /// before any lookup; when neither family yielded an address, the
    /// resolver's error as for dial(); error::timeout when the context's
    /// deadline passed (before any lookup, if it had already);
    /// boost::asio::error::operation_aborted when cancelled.
    template <class Token = boost::asio::deferred_t>
    auto resolve(const context& ctx, std::string_view host, Token&& token = {}) const {
        return boost::asio::async_initiate<Token, resolve_signature>(
            detail::initiate_resolve{}, token, boost::asio::system_executor(), state_, ctx, std::string(host));
    }

    template <detail::executor Executor, class Token = boost::asio::deferred_t>
    auto resolve(const Executor& ex, const context& ctx, std::string_view host, Token&& token = {}) const {
        return boost::asio::async_initiate<Token, resolve_signature>(
            detail::initiate_resolve{}, token, boost::asio::any_io_executor(ex), state_, ctx, std::string(host));
    }

private:
    friend struct detail::dialer_access;
    std::shared_ptr<const detail::dialer_state> state_;
};

namespace detail {
// How the other operations (dial_tls) reach a dialer's state.
struct dialer_access {
    static const std::shared_ptr<const dialer_state>& state(const dialer& d) noexcept { return d.state_; }
};
}  // namespace detail

/// dialer{}.dial(...): default options and the default resolver (c-ares when
/// built with it, else the system resolver). Everything else as dialer::dial.
template <class Token = boost::asio::deferred_t>
auto dial(const context& ctx, std::string_view network, std::string_view address, Token&& token = {}) {
    return dialer().dial(ctx, network, address, std::forward<Token>(token));
}

template <detail::executor Executor, class Token = boost::asio::deferred_t>
auto dial(const Executor& ex, const context& ctx, std::string_view network, std::string_view address,
          Token&& token = {}) {
    return dialer().dial(ex, ctx, network, address, std::forward<Token>(token));
}

/// dialer{}.dial(ctx, network, endpoints); as dialer::dial.
template <class Token = boost::asio::deferred_t>
auto dial(const context& ctx, std::string_view network, std::span<const boost::asio::ip::tcp::endpoint> endpoints,
          Token&& token = {}) {
    return dialer().dial(ctx, network, endpoints, std::forward<Token>(token));
}

/// dialer{}.resolve(...); as dialer::resolve.
template <class Token = boost::asio::deferred_t>
auto resolve(const context& ctx, std::string_view host, Token&& token = {}) {
    return dialer().resolve(ctx, host, std::forward<Token>(token));
}

template <detail::executor Executor, class Token = boost::asio::deferred_t>
auto resolve(const Executor& ex, const context& ctx, std::string_view host, Token&& token = {}) {
    return dialer().resolve(ex, ctx, host, std::forward<Token>(token));
}

}  // namespace nettrace
