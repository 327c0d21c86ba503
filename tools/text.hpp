// How nettrace-dial spells things: its name in messages, durations,
// addresses and padding. One place, so that an address reads the same in an
// error, the demo's introduction and a row of the timeline. Inline: they are
// one-liners that every part of the tool calls.
#pragma once

// The library's own formatters (not installed: the tool builds in the
// tree, and libnettrace exports them), so that a duration reads the same
// here as in the exporters.
#include "../src/detail/number_text.hpp"

#include <nettrace/address.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace nettrace::tool {

inline constexpr std::string_view program = "nettrace-dial";

using nettrace::detail::to_ms;
// `value` with `decimals` digits after the point, whatever the locale.
using nettrace::detail::fixed;
// "0.042 ms", "250.3 ms": loopback connects take tens of microseconds, and
// one decimal would show them all as "0.0 ms" (duration_style::span).
using nettrace::detail::duration_text;

inline std::string pad_right(std::string s, std::size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}

inline std::string pad_left(std::string s, std::size_t width) {
    if (s.size() < width) s.insert(0, width - s.size(), ' ');
    return s;
}

// ASCII only: option values and locale names, never text to show.
inline std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// The next two append to their opening character rather than write
// "'" + std::string(s): inserting at the front of a string draws a false
// -Wrestrict from GCC 12 at -O3.
inline std::string quoted(std::string_view s) { return std::string("'").append(s).append("'"); }

// "[::1]" in text, the way the address appears in "[::1]:443".
inline std::string address_text(const boost::asio::ip::address& a) {
    return a.is_v6() ? std::string("[").append(a.to_string()).append("]") : a.to_string();
}

inline std::string endpoint_text(const boost::asio::ip::tcp::endpoint& ep) { return nettrace::join_host_port(ep); }

inline std::string plural(std::size_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

}  // namespace nettrace::tool
