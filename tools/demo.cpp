// nettrace-dial --demo (demo.hpp): its loopback peers, how a dial is aimed
// at them, and the check that the right one won.
#include "demo.hpp"

#include "session.hpp"
#include "text.hpp"

#include <nettrace/resolver.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <iostream>
#include <stdexcept>

namespace nettrace::tool {

namespace asio = boost::asio;
using ip_address = asio::ip::address;
using namespace std::chrono_literals;

namespace {

// The demo's black hole never answers: without a bound, a misbehaving race
// would hang for the kernel's SYN retry time (about two minutes).
constexpr auto demo_timeout = 5000ms;

}  // namespace

demo_peers start_demo_peers(const asio::any_io_executor& ex) {
    demo_peers d;
    d.ipv6 = nettrace::testing::ipv6_loopback_available();
    d.decoy = d.ipv6 ? ip_address(asio::ip::address_v6::loopback()) : asio::ip::make_address("127.0.0.2");
    std::string last_error;
    // The port is free when probed but another process may take it before
    // we bind; a fresh port on the next try fixes that.
    for (int attempt = 0; attempt < 5; ++attempt) {
        try {
            const unsigned short probe = d.ipv6 ? nettrace::testing::free_dual_stack_port() : 0;
            d.hole = std::make_unique<nettrace::testing::black_hole>(d.decoy, probe);
            d.port = d.hole->port();
            d.listener = std::make_unique<nettrace::testing::live_listener>(ex, d.live, d.port);
            return d;
        } catch (const std::exception& e) {
            last_error = e.what();
            d.hole.reset();
        }
    }
    throw std::runtime_error("demo: cannot set up the loopback peers: " + last_error);
}

std::string aim_at_demo(const demo_peers& d, nettrace::dial_options& options) {
    options.resolver = nettrace::make_static_resolver({{"dual.test", {d.decoy, d.live}}});
    if (options.timeout == options.timeout.zero()) options.timeout = demo_timeout;
    return "dual.test:" + std::to_string(d.port);
}

void print_demo_intro(std::ostream& out, const demo_peers& d, const nettrace::dial_options& o) {
    const std::string port = std::to_string(d.port);
    const std::string decoy = endpoint_text({d.decoy, d.port}), live = endpoint_text({d.live, d.port});
    if (!d.ipv6) out << "demo: no IPv6 loopback here, so 127.0.0.2 stands in for [::1].\n";
    out << "demo: dual.test:" << port << " is pinned to " << address_text(d.decoy) << " and " << address_text(d.live)
        << ", all on loopback.\n"
        << "      " << decoy << " is a black hole (drops SYNs); " << live << " accepts.\n"
        << "      " << address_text(d.decoy) << " is tried first; ";
    if (o.race)
        out << address_text(d.live) << " joins after the " << o.attempt_delay.count() << " ms attempt delay";
    else
        out << "with --no-race, " << address_text(d.live) << " waits for it to fail (timeout " << o.timeout.count()
            << " ms)";
    out << ".\n\n" << std::flush;
}

bool demo_reached_live(const demo_peers& d, std::span<const std::unique_ptr<dial_session>> sessions) {
    bool ok = true;
    const asio::ip::tcp::endpoint expected(d.live, d.port);
    for (const auto& s : sessions)
        if (s->ok() && s->result().endpoint != expected) {
            std::cerr << program << ": demo: connected to " << endpoint_text(s->result().endpoint)
                      << ", expected the live listener at " << endpoint_text(expected) << '\n';
            ok = false;
        }
    return ok;
}

}  // namespace nettrace::tool
