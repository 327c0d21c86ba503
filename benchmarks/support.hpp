// What the benchmark programs share: a loopback listener that accepts as
// fast as the kernel hands over connections, process counters (allocations,
// RSS, heap, listen-queue overflows) and median/min/max summaries. Open
// descriptors are counted by the loopback peers' open_fd_count (peers/), as
// the tests count them. Everything here binds or connects to loopback
// addresses only.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

namespace nettrace::bench {

/// A TCP listener on a loopback address that accepts as fast as the kernel
/// hands connections over, outside the io_context under test, so raw Asio and
/// nettrace meet the very same peer. `queues` sockets share the port
/// (SO_REUSEPORT: the kernel spreads connections over their accept queues),
/// each with listen(4096) (capped by net.core.somaxconn) and a thread of its
/// own in blocking accept4() + close(): a connection is closed the moment it
/// is accepted, so the listener holds no fds, and three queues hold 10,000
/// handshakes even if their threads fall behind.
class sink_listener {
public:
    explicit sink_listener(const boost::asio::ip::address& addr, unsigned short port = 0, int queues = 1);
    ~sink_listener();
    sink_listener(const sink_listener&) = delete;
    sink_listener& operator=(const sink_listener&) = delete;

    unsigned short port() const noexcept { return port_; }
    boost::asio::ip::tcp::endpoint endpoint() const { return {addr_, port_}; }
    std::uint64_t accepted() const noexcept { return accepted_.load(std::memory_order_relaxed); }

private:
    void stop() noexcept;

    boost::asio::ip::address addr_;
    std::vector<int> fds_;
    unsigned short port_ = 0;
    std::atomic<std::uint64_t> accepted_{0};
    std::vector<std::thread> threads_;
};

/// Closes with SO_LINGER 0 (an RST): no TIME_WAIT is left behind, so tens of
/// thousands of dials to one port never run out of ephemeral ports.
void close_now(boost::asio::ip::tcp::socket& s);

/// Raises RLIMIT_NOFILE to its hard limit; returns the new soft limit.
std::size_t raise_fd_limit();

/// Resident set size (/proc/self/statm), in bytes.
std::size_t rss_bytes();
/// Bytes malloc has handed out and not yet got back (mallinfo2).
std::size_t heap_bytes();
/// Gives free heap pages back to the kernel, so RSS growth measures new use.
void trim_heap();
/// TcpExt ListenOverflows: SYNs dropped because an accept queue was full.
std::uint64_t listen_overflows();

/// Heap allocations so far: operator new (every form) plus aligned_alloc,
/// which Asio's recycling allocator uses for handlers and coroutine frames.
/// Counted by alloc_counter.cpp, linked into each benchmark program.
std::uint64_t allocations() noexcept;

struct summary {
    double median = 0, min = 0, max = 0;
};
summary summarize(std::vector<double> values);

}  // namespace nettrace::bench
