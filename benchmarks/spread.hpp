// Peers spread over many loopback addresses and ports, for the benchmarks
// that hold more connections than one destination's ephemeral ports allow
// (scale-bench's 100,000 dials in flight, the soak's thousands of distinct
// endpoints): a set of sink listeners served by one epoll thread, a set of
// black holes, and the process limits that bound such runs. Loopback only:
// 127.0.0.0/8 is routed to `lo` as a whole, so every address in it can be
// bound without configuring anything.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace nettrace::testing {
class black_hole;
}

namespace nettrace::bench {

/// 127.0.0.`first` .. 127.0.0.`first + count - 1` (count <= 254).
std::vector<boost::asio::ip::address> loopback_addresses(int count, int first = 1);

/// Listeners on every address of `addrs` times `ports` port numbers (the
/// same numbers on every address), each with listen(4096) (capped by
/// net.core.somaxconn): addrs.size() x ports accept queues. One thread
/// waits on all of them with epoll and accepts and closes whatever is
/// queued, so the set holds no accepted descriptor once accepted() has
/// caught up with the connections made.
class sink_set {
public:
    sink_set(const std::vector<boost::asio::ip::address>& addrs, int ports);
    ~sink_set();
    sink_set(const sink_set&) = delete;
    sink_set& operator=(const sink_set&) = delete;

    /// Address-major: every port of the first address, then the next one's.
    const std::vector<boost::asio::ip::tcp::endpoint>& endpoints() const noexcept { return endpoints_; }
    std::uint64_t accepted() const noexcept { return accepted_.load(std::memory_order_acquire); }
    /// Waits (yielding, not sleeping) until accepted() >= n; false after
    /// `timeout_s` seconds.
    bool wait_accepted(std::uint64_t n, double timeout_s = 30) const;

private:
    void serve();

    std::vector<int> fds_;
    std::vector<boost::asio::ip::tcp::endpoint> endpoints_;
    int epoll_ = -1, wake_ = -1;
    std::atomic<std::uint64_t> accepted_{0};
    std::thread thread_;
};

/// A black hole (peers/loopback.hpp: a listener whose accept queue is full,
/// so SYNs are dropped and a connect stays in SYN_SENT) on every address of
/// `addrs` times `ports` port numbers.
class hole_set {
public:
    hole_set(const std::vector<boost::asio::ip::address>& addrs, int ports);
    ~hole_set();
    const std::vector<boost::asio::ip::tcp::endpoint>& endpoints() const noexcept { return endpoints_; }

private:
    std::vector<std::unique_ptr<nettrace::testing::black_hole>> holes_;
    std::vector<boost::asio::ip::tcp::endpoint> endpoints_;
};

/// Raises RLIMIT_NOFILE to at least `want` descriptors when it can: the soft
/// limit up to the hard one, and, with CAP_SYS_RESOURCE (root), the hard
/// limit too, up to /proc/sys/fs/nr_open. A per-process limit: no sysctl is
/// changed. Returns the soft limit in force afterwards.
std::size_t raise_fd_limit_to(std::size_t want);

/// Whether this process holds CAP_SYS_RESOURCE (/proc/self/status CapEff),
/// without which the hard RLIMIT_NOFILE cannot be raised.
bool has_sys_resource();

/// The limits that bound many connections at once, as one Markdown list
/// line each: RLIMIT_NOFILE (soft/hard), fs.nr_open, fs.file-max,
/// net.core.somaxconn, net.ipv4.tcp_max_syn_backlog, tcp_syncookies,
/// ip_local_port_range, and whether CAP_SYS_RESOURCE is held.
std::string describe_limits();

}  // namespace nettrace::bench
