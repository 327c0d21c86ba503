// What a dial through a proxy keeps beside the race (dial_op.hpp): which
// proxy, where the tunnel goes, and each attempt's tunnel. The decisions
// that need no socket live here, in src/proxy_tunnel.cpp, compiled once.
#pragma once

#include <nettrace/options.hpp>

#include "proxy_tunnel.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

#include <forward_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nettrace::detail {

struct proxy_route {
    const proxy* via = nullptr;  // points into the dialer's options, which the dial holds
    std::string text;            // via->redacted(): what the trace shows
    proxy_target target;
    std::string target_text;  // "host:port" as asked of the proxy
    bool want_ipv6 = false, want_ipv4 = false;
    bool target_lookup = false;                          // socks5://: the target's own lookup runs first
    boost::system::error_code target_error;              // that lookup was cancelled or timed out
    std::vector<std::unique_ptr<proxy_tunnel>> tunnels;  // by attempt

    /// Starts a route through `p` to host:port (ip set for a literal).
    void begin(const proxy& p, const std::string& host, std::uint16_t port,
               const std::optional<boost::asio::ip::address>& ip, bool ipv6, bool ipv4);

    /// socks5://: the address to send, from the target's answers (the
    /// preferred family's first: the proxy connects, so there is no race);
    /// false when there is none.
    bool choose_target(std::span<const boost::asio::ip::address> v6, std::span<const boost::asio::ip::address> v4,
                       family_preference preference);

    /// Fixes target_text once the target's address (if any) is known.
    void target_known();

    proxy_tunnel& add_tunnel(std::size_t attempt);

    /// For dial_done's description when attempt's tunnel failed: the step
    /// ("proxy CONNECT", "socks5 handshake") and the cause ("403
    /// Forbidden"), which lives as long as the route.
    std::string_view step_name() const noexcept;
    std::string_view cause_of(const proxy_tunnel& t);

private:
    // Views of them are kept: a list, which (unlike std::deque) allocates
    // nothing while empty, as on every dial that has no proxy.
    std::forward_list<std::string> causes_;
};

}  // namespace nettrace::detail
