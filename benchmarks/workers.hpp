// The dial loops that the in-flight benchmarks (nettrace-bench's case 4,
// scale-bench) run as many coroutines at once: each dials over and over,
// closing every connection with an RST, until a budget shared by all of
// them is spent. Raw Asio and nettrace written the way a user would.
#pragma once

#include <nettrace/dial.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <string>

namespace nettrace::bench {

boost::asio::awaitable<void> raw_worker(boost::asio::ip::tcp::endpoint ep, std::atomic<long>& budget);

boost::asio::awaitable<void> dial_worker(const nettrace::dialer& d, const std::string& address,
                                         std::atomic<long>& budget);

}  // namespace nettrace::bench
