// What a dial asks about NAT64 (nat64.hpp): whether the host has a route to
// an IPv4 destination, and the prefix to synthesize with, configured or
// discovered (RFC 7050) and cached in the dialer for the answer's TTL.
#pragma once

#include <nettrace/nat64.hpp>
#include <nettrace/resolver.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>

#include "../racer.hpp"

#include <functional>
#include <memory>
#include <optional>

namespace nettrace::detail {

struct dialer_state;

/// Asks the kernel, as getaddrinfo does for RFC 6724: a UDP socket
/// connected to `destination` (which sends nothing) fails with
/// ENETUNREACH when no route leads there.
bool has_route(const boost::asio::ip::address& destination);

/// has_route, remembered for a second per destination in `state` (only
/// "routable" is remembered: no route is NAT64's slow path anyway).
bool has_route(const dialer_state& state, const boost::asio::ip::address& destination, clock::time_point now);

/// The configured prefix (nat64_mode::fixed), or the discovered one while
/// its TTL lasts.
std::optional<nat64_prefix> known_nat64_prefix(const dialer_state& state);

/// Looks up ipv4only.arpa's AAAA through the dialer's resolver and calls
/// `done` (on `ex`) with the prefix it reveals, caching it in `state`.
std::shared_ptr<pending_lookup> discover_nat64(const dialer_state& state, const boost::asio::any_io_executor& ex,
                                               std::function<void(std::optional<nat64_prefix>)> done);

}  // namespace nettrace::detail
