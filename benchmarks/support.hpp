// What the benchmark programs share: a loopback listener that accepts as
// fast as the kernel hands over connections, process counters (allocations,
// RSS, heap, listen-queue overflows), median/min/max summaries and the
// interleaved comparison of nettrace with raw Asio. Open
// descriptors are counted by the loopback peers' open_fd_count (peers/), as
// the tests count them. Everything here binds or connects to loopback
// addresses only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
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

/// "12.30 [11.90, 13.00]": a summary with `precision` decimals.
std::string show(const summary& s, int precision = 2);

/// Seconds of steady time since `t0`.
double seconds_since(std::chrono::steady_clock::time_point t0);

/// Runs `a` on the calling thread until it finishes; rethrows its
/// exception. Stops on completion rather than when the io_context runs out
/// of work, so idle I/O left behind (a DNS server's socket) cannot hold it up.
void run(boost::asio::io_context& ioc, boost::asio::awaitable<void> a);

/// The value of `--rounds=N` among the arguments (the last one given), or
/// `fallback`: the one option of tls-bench and proxy-bench.
int rounds_option(int argc, char** argv, int fallback);

/// nettrace against raw Asio doing the same by hand, summarised over the
/// rounds: nettrace's time over raw Asio's, each one's µs per operation,
/// and nettrace's allocations per operation.
struct comparison {
    summary ratio, raw_us, nt_us, allocs;
};

/// Runs `raw(n)` and `nettrace(n)` (each performs n operations, then
/// returns) once as a warm-up, then `rounds` rounds of `blocks` pairs of
/// blocks of `block` operations: the two alternate block by block, and which
/// goes first rotates with the block and the round, so that both meet the
/// machine's moods alike.
comparison compare_with_raw(int rounds, long block, int blocks, const std::function<void(long)>& raw,
                            const std::function<void(long)>& nettrace);

}  // namespace nettrace::bench
