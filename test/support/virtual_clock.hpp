// The vocabulary of the tests that drive the sans-I/O racer (src/racer.hpp)
// on a virtual clock: its types under short names, the virtual epoch, times
// as milliseconds from it, and addresses from text. Shared by
// history_test.cpp, racer_services_test.cpp and racer_sim.hpp.
#pragma once

#include "racer.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>

namespace nettrace::testing::virtual_clock {

using namespace std::chrono_literals;
using nettrace::address_family;
using nettrace::detail::clock;
using nettrace::detail::racer;
using nettrace::detail::racer_action;
using nettrace::detail::racer_config;
using address = boost::asio::ip::address;
using endpoint = boost::asio::ip::tcp::endpoint;
using act = racer_action::type;

/// Virtual time 0, an hour into the clock so that times before it exist.
inline const clock::time_point epoch = clock::time_point{} + 1h;
/// Virtual time `t` ms.
inline clock::time_point at_ms(long t) { return epoch + std::chrono::milliseconds(t); }
/// Milliseconds since the epoch. A time before it (a deadline that wrapped
/// into the past) is -1, so it fails every "later than now" check instead
/// of wrapping back around.
inline long ms_of(clock::time_point t) {
    if (t < epoch) return -1;
    return std::chrono::duration_cast<std::chrono::milliseconds>(t - epoch).count();
}
inline address ip(const char* s) { return boost::asio::ip::make_address(s); }

}  // namespace nettrace::testing::virtual_clock
