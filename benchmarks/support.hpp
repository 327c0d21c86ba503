// What the benchmark programs share: a loopback listener that accepts as
// fast as the kernel hands over connections, process counters (allocations,
// RSS, heap, fds, listen-queue overflows) and median/min/max summaries.
// Everything here binds or connects to loopback addresses only.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

namespace nettrace::bench {

/// A TCP listener on a loopback address, served by its own threads with
/// blocking accept4() + close(). It never runs on the io_context under test,
/// so raw Asio and nettrace see the very same peer, and it keeps the accept
/// queue short: listen(4096) (the kernel caps it at net.core.somaxconn), and
/// each accepted connection is closed at once, so the listener holds no fds.
class sink_listener {
public:
    explicit sink_listener(const boost::asio::ip::address& addr, unsigned short port = 0, int threads = 1);
    ~sink_listener();
    sink_listener(const sink_listener&) = delete;
    sink_listener& operator=(const sink_listener&) = delete;

    unsigned short port() const noexcept { return port_; }
    boost::asio::ip::tcp::endpoint endpoint() const { return {addr_, port_}; }
    std::uint64_t accepted() const noexcept { return accepted_.load(std::memory_order_relaxed); }

private:
    boost::asio::ip::address addr_;
    int fd_ = -1;
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
/// Open file descriptors of this process.
std::size_t open_fds();
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
