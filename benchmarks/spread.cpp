#include "spread.hpp"

#include "loopback.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace nettrace::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::vector<asio::ip::address> loopback_addresses(int count, int first) {
    if (count < 1 || first < 1 || first + count - 1 > 254) throw std::invalid_argument("loopback_addresses");
    std::vector<asio::ip::address> out;
    for (int i = 0; i < count; ++i)
        out.push_back(asio::ip::address_v4((127u << 24) | static_cast<unsigned>(first + i)));
    return out;
}

namespace {

// A non-blocking listening socket on ep, or -1 with errno set.
int listen_on(const tcp::endpoint& ep) {
    if (!ep.address().is_loopback()) throw std::invalid_argument("loopback only: " + ep.address().to_string());
    const int fd = ::socket(ep.address().is_v6() ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    if (::bind(fd, ep.data(), static_cast<socklen_t>(ep.size())) != 0 || ::listen(fd, 4096) != 0) {
        const int saved = errno;
        ::close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

unsigned short port_of(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    return ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(ss).sin6_port
                                          : reinterpret_cast<sockaddr_in&>(ss).sin_port);
}

std::string read_proc(const char* path) {
    std::ifstream in(path);
    std::string s;
    std::getline(in, s);
    for (auto& c : s)
        if (c == '\t') c = ' ';
    return s.empty() ? "?" : s;
}

}  // namespace

bool has_sys_resource() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("CapEff:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> 24) & 1;  // CAP_SYS_RESOURCE
    return false;
}

sink_set::sink_set(const std::vector<asio::ip::address>& addrs, int ports) {
    if (addrs.empty() || ports < 1) throw std::invalid_argument("sink_set");
    std::vector<std::vector<int>> by_port;  // by_port[p][a]
    for (int p = 0; p < ports; ++p) {
        std::vector<int> fds;
        for (int tries = 0; fds.size() < addrs.size(); ++tries) {
            if (tries > 100) throw std::runtime_error("sink_set: no port free on every address");
            const unsigned short port = fds.empty() ? 0 : port_of(fds.front());
            const int fd = listen_on(tcp::endpoint(addrs[fds.size()], port));
            if (fd >= 0) {
                fds.push_back(fd);
                continue;
            }
            if (errno != EADDRINUSE) throw std::runtime_error(std::string("sink_set: ") + std::strerror(errno));
            for (int f : fds) ::close(f);  // that port is taken somewhere: another one
            fds.clear();
        }
        by_port.push_back(std::move(fds));
    }
    for (std::size_t a = 0; a < addrs.size(); ++a)
        for (int p = 0; p < ports; ++p) {
            fds_.push_back(by_port[p][a]);
            endpoints_.emplace_back(addrs[a], port_of(by_port[p][a]));
        }
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epoll_ < 0 || wake_ < 0) throw std::runtime_error("sink_set: epoll");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev);
    for (int fd : fds_) {
        ev.data.fd = fd;
        ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
    }
    thread_ = std::thread([this] { serve(); });
}

void sink_set::serve() {
    epoll_event events[256];
    for (;;) {
        const int n = ::epoll_wait(epoll_, events, 256, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return;
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == wake_) return;
            for (;;) {  // level-triggered: take everything queued now
                const int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
                if (c < 0) {
                    if (errno == EINTR || errno == ECONNABORTED) continue;
                    break;  // EAGAIN (or EMFILE: the next wakeup tries again)
                }
                ::close(c);
                accepted_.fetch_add(1, std::memory_order_release);
            }
        }
    }
}

bool sink_set::wait_accepted(std::uint64_t n, double timeout_s) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (accepted() < n) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::yield();
    }
    return true;
}

sink_set::~sink_set() {
    const std::uint64_t one = 1;
    if (wake_ >= 0 && ::write(wake_, &one, sizeof one) < 0) {
    }
    if (thread_.joinable()) thread_.join();
    for (int fd : fds_) ::close(fd);
    if (epoll_ >= 0) ::close(epoll_);
    if (wake_ >= 0) ::close(wake_);
}

hole_set::hole_set(const std::vector<asio::ip::address>& addrs, int ports) {
    if (addrs.empty() || ports < 1) throw std::invalid_argument("hole_set");
    std::vector<std::vector<std::unique_ptr<testing::black_hole>>> by_port;
    for (int p = 0; p < ports; ++p) {
        std::vector<std::unique_ptr<testing::black_hole>> holes;
        for (int tries = 0; holes.size() < addrs.size(); ++tries) {
            if (tries > 100) throw std::runtime_error("hole_set: no port free on every address");
            const unsigned short port = holes.empty() ? 0 : holes.front()->port();
            try {
                holes.push_back(std::make_unique<testing::black_hole>(addrs[holes.size()], port));
            } catch (const std::runtime_error&) {
                holes.clear();
            }
        }
        by_port.push_back(std::move(holes));
    }
    for (std::size_t a = 0; a < addrs.size(); ++a)
        for (int p = 0; p < ports; ++p) {
            endpoints_.emplace_back(addrs[a], by_port[p][a]->port());
            holes_.push_back(std::move(by_port[p][a]));
        }
}

hole_set::~hole_set() = default;

std::size_t raise_fd_limit_to(std::size_t want) {
    rlimit r{};
    ::getrlimit(RLIMIT_NOFILE, &r);
    if (r.rlim_max != RLIM_INFINITY && r.rlim_max < want) {
        std::size_t nr_open = 1 << 20;
        std::ifstream("/proc/sys/fs/nr_open") >> nr_open;
        const rlimit raised{std::min(want, nr_open), std::min(want, nr_open)};
        ::setrlimit(RLIMIT_NOFILE, &raised);  // fails without CAP_SYS_RESOURCE: then the hard limit stays
        ::getrlimit(RLIMIT_NOFILE, &r);
    }
    if (r.rlim_cur < want || r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &r);
        ::getrlimit(RLIMIT_NOFILE, &r);
    }
    return r.rlim_cur;
}

std::string describe_limits() {
    rlimit r{};
    ::getrlimit(RLIMIT_NOFILE, &r);
    std::string s;
    s += "- RLIMIT_NOFILE of this process: soft " + std::to_string(r.rlim_cur) + ", hard " +
         std::to_string(r.rlim_max) + "\n";
    s += "- fs.nr_open " + read_proc("/proc/sys/fs/nr_open") + ", fs.file-max " + read_proc("/proc/sys/fs/file-max") +
         "\n";
    s += "- net.core.somaxconn " + read_proc("/proc/sys/net/core/somaxconn") + ", net.ipv4.tcp_max_syn_backlog " +
         read_proc("/proc/sys/net/ipv4/tcp_max_syn_backlog") + ", tcp_syncookies " +
         read_proc("/proc/sys/net/ipv4/tcp_syncookies") + "\n";
    s += "- net.ipv4.ip_local_port_range " + read_proc("/proc/sys/net/ipv4/ip_local_port_range") + "\n";
    s += std::string("- CAP_SYS_RESOURCE (needed to raise the hard limit): ") +
         (has_sys_resource() ? "held" : "not held") + "\n";
    return s;
}

}  // namespace nettrace::bench
