// NAT64 at dial time: the route probe and the prefix's discovery and cache.
#include "detail/nat64_probe.hpp"

#include "detail/dialer_state.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <netinet/in.h>

#include <cstring>
#include <mutex>

namespace nettrace::detail {

bool has_route(const boost::asio::ip::address& destination) {
    if (!destination.is_v4()) return true;
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return true;  // cannot tell: dial as usual
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(9);  // any port: a UDP connect only looks up the route
    const auto bytes = destination.to_v4().to_bytes();
    std::memcpy(&sa.sin_addr, bytes.data(), 4);
    const bool routed = ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0 ||
                        (errno != ENETUNREACH && errno != EHOSTUNREACH && errno != EADDRNOTAVAIL);
    ::close(fd);
    return routed;
}

bool has_route(const dialer_state& state, const boost::asio::ip::address& destination, clock::time_point now) {
    if (!destination.is_v4()) return true;
    const std::uint64_t v4 = destination.to_v4().to_uint();
    const auto second =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
    auto& slot = state.routed[(v4 ^ (v4 >> 8) ^ (v4 >> 16)) % state.routed.size()];
    const std::uint64_t seen = slot.load(std::memory_order_relaxed);
    if (seen >> 32 == v4 && (seen & 0xffffffffu) > (second & 0xffffffffu)) return true;
    if (!has_route(destination)) return false;
    slot.store(v4 << 32 | ((second + 1) & 0xffffffffu), std::memory_order_relaxed);
    return true;
}

std::optional<nat64_prefix> known_nat64_prefix(const dialer_state& state) {
    const auto& o = state.options.nat64;
    if (o.mode == nat64_mode::fixed) return o.prefix;
    if (o.mode == nat64_mode::off) return std::nullopt;
    std::lock_guard lock(state.nat64.mutex);
    if (state.nat64.prefix && clock::now() < state.nat64.expires) return state.nat64.prefix;
    return std::nullopt;
}

std::shared_ptr<pending_lookup> discover_nat64(const dialer_state& state, const boost::asio::any_io_executor& ex,
                                               std::function<void(std::optional<nat64_prefix>)> done) {
    // The cache outlives no dialer: the callback runs while the dial (which
    // holds the state) is alive.
    return state.options.resolver->lookup(
        ex, "ipv4only.arpa", address_family::ipv6, [&state, done = std::move(done)](lookup_result r) {
            std::optional<nat64_prefix> prefix;
            for (const auto& a : r.addrs)
                if (a.is_v6() && (prefix = discover_nat64_prefix(a.to_v6()))) break;
            if (prefix) {
                // RFC 7050 section 3: valid for the answer's TTL; a resolver
                // that does not say keeps it a minute.
                const auto ttl = r.ttl > std::chrono::seconds(0) ? r.ttl : std::chrono::seconds(60);
                std::lock_guard lock(state.nat64.mutex);
                state.nat64.prefix = prefix;
                state.nat64.expires = clock::now() + ttl;
            }
            done(prefix);
        });
}

}  // namespace nettrace::detail
