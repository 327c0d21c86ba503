// nettrace-dial --demo: Happy Eyeballs without a network. dual.test is pinned
// to a black-holed [::1] (127.0.0.2 where there is no IPv6 loopback) and a
// live 127.0.0.1 on one port, so the first attempt hangs, the second joins
// after the attempt delay and wins.
#pragma once

#include "loopback.hpp"

#include <nettrace/options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>

#include <memory>
#include <ostream>
#include <span>
#include <string>

namespace nettrace::tool {

class dial_session;

struct demo_peers {
    boost::asio::ip::address decoy;  // black-holed
    boost::asio::ip::address live = boost::asio::ip::address_v4::loopback();
    unsigned short port = 0;
    bool ipv6 = true;
    std::unique_ptr<nettrace::testing::black_hole> hole;
    std::unique_ptr<nettrace::testing::live_listener> listener;
};

/// Throws std::runtime_error when loopback will not take the peers.
demo_peers start_demo_peers(const boost::asio::any_io_executor& ex);

/// Points a dial at the peers: pins dual.test in `options` (and bounds the
/// dial unless --timeout did) and returns the address to dial.
std::string aim_at_demo(const demo_peers& d, nettrace::dial_options& options);

/// What the run is about to show, for a reader who has not read the code.
void print_demo_intro(std::ostream& out, const demo_peers& d, const nettrace::dial_options& o);

/// Whether every dial that connected reached the live listener; a race that
/// connected elsewhere is a bug, named on stderr.
bool demo_reached_live(const demo_peers& d, std::span<const std::unique_ptr<dial_session>> sessions);

}  // namespace nettrace::tool
