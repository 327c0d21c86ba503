// What the exporters (src/export_json.cpp, export_chrome.cpp, export_svg.cpp)
// share: how a record's spans are timed and placed, and the wording they
// have in common. Endpoints are written by nettrace::join_host_port
// (address.hpp), durations by number_text.hpp, text by json_text.hpp.
#pragma once

#include <nettrace/recorder.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace nettrace::detail {

/// Each address as Asio writes it, "192.0.2.1", "2001:db8::1".
std::vector<std::string> address_strings(const std::vector<boost::asio::ip::address>& addrs);

/// Where the span that `done` ends begins: its start event's time when that
/// was recorded, else `done.at - done.elapsed` (not below 0). The dialer
/// measures `elapsed` from just before it fires the start hook, so
/// `at - elapsed` would put the span a little before its own start event.
std::chrono::steady_clock::duration span_start(const recorded_event* start, const recorded_event& done);

/// The earliest `started` of the records that have events: the origin of a
/// shared time axis (the epoch when none has).
std::chrono::steady_clock::time_point earliest_start(std::span<const dial_record> dials);

/// What a record is, for its heading: "dial tcp example.com:443" (from its
/// dial_done, else its opening dial_start), "resolve example.com" (a
/// resolve), or "dial".
std::string record_title(const dial_record& r);

/// An attempt's name: "#1 192.0.2.1:443".
std::string attempt_label(std::size_t attempt, const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace nettrace::detail
