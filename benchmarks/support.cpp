#include "support.hpp"

#include <boost/asio/co_spawn.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <malloc.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace nettrace::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

sink_listener::sink_listener(const asio::ip::address& addr, unsigned short port, int queues) : addr_(addr) {
    if (!addr.is_loopback()) throw std::invalid_argument("loopback only: " + addr.to_string());
    for (int i = 0; i < queues; ++i) {
        tcp::endpoint ep(addr, port);
        const int fd = ::socket(addr.is_v6() ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int on = 1;
        if (fd < 0 || ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0 ||
            ::bind(fd, ep.data(), static_cast<socklen_t>(ep.size())) != 0 || ::listen(fd, 4096) != 0) {
            const int saved = errno;
            if (fd >= 0) ::close(fd);
            stop();
            throw std::runtime_error(std::string("sink_listener: ") + std::strerror(saved));
        }
        fds_.push_back(fd);
        if (port == 0) {  // the others join the port the first one got
            sockaddr_storage ss{};
            socklen_t len = sizeof ss;
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
            tcp::endpoint bound;
            std::memcpy(bound.data(), &ss, len);
            port = port_ = bound.port();
        }
        port_ = port;
        threads_.emplace_back([this, fd] {
            for (;;) {
                const int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
                if (c >= 0) {
                    ::close(c);
                    accepted_.fetch_add(1, std::memory_order_relaxed);
                } else if (errno != EINTR && errno != ECONNABORTED && errno != EMFILE && errno != ENFILE) {
                    return;  // shut down
                }
            }
        });
    }
}

sink_listener::~sink_listener() { stop(); }

void sink_listener::stop() noexcept {
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);  // wakes a blocked accept4() with EINVAL
    for (auto& t : threads_) t.join();
    for (int fd : fds_) ::close(fd);
    fds_.clear();
    threads_.clear();
}

void close_now(tcp::socket& s) {
    boost::system::error_code ignored;
    s.set_option(asio::socket_base::linger(true, 0), ignored);
    s.close(ignored);
}

std::size_t raise_fd_limit() {
    rlimit r{};
    ::getrlimit(RLIMIT_NOFILE, &r);
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
    ::getrlimit(RLIMIT_NOFILE, &r);
    return r.rlim_cur;
}

std::size_t rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

std::size_t heap_bytes() {
    const auto m = ::mallinfo2();
    return m.uordblks + m.hblkhd;
}

void trim_heap() { ::malloc_trim(0); }

// /proc/net/netstat holds pairs of lines: "TcpExt: Name Name ..." then
// "TcpExt: value value ...".
std::uint64_t listen_overflows() {
    std::ifstream in("/proc/net/netstat");
    std::string names, values;
    while (std::getline(in, names) && std::getline(in, values)) {
        if (names.rfind("TcpExt:", 0) != 0) continue;
        std::istringstream n(names), v(values);
        std::string name, value;
        while (n >> name && v >> value)
            if (name == "ListenOverflows") return std::stoull(value);
    }
    return 0;
}

summary summarize(std::vector<double> values) {
    if (values.empty()) return {};
    std::sort(values.begin(), values.end());
    const auto n = values.size();
    const double median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    return {median, values.front(), values.back()};
}

int rounds_option(int argc, char** argv, int fallback) {
    int rounds = fallback;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a.starts_with("--rounds=")) rounds = std::stoi(a.substr(9));
    }
    return rounds;
}

comparison compare_with_raw(int rounds, long block, int blocks, const std::function<void(long)>& raw,
                            const std::function<void(long)>& nettrace) {
    using steady = std::chrono::steady_clock;
    raw(block);  // warm up: services, caches
    nettrace(block);
    std::vector<double> ratios, raw_us, nt_us, allocs;
    for (int r = 0; r < rounds; ++r) {
        double raw_s = 0, nt_s = 0;
        std::uint64_t nt_allocs = 0;
        for (int b = 0; b < blocks; ++b) {
            const bool raw_first = (b + r) % 2 == 0;
            for (int k = 0; k < 2; ++k) {
                const bool is_raw = (k == 0) == raw_first;
                const auto a0 = allocations();
                const auto t0 = steady::now();
                (is_raw ? raw : nettrace)(block);
                (is_raw ? raw_s : nt_s) += std::chrono::duration<double>(steady::now() - t0).count();
                if (!is_raw) nt_allocs += allocations() - a0;
            }
        }
        const double n = double(block) * blocks;
        ratios.push_back(nt_s / raw_s);
        raw_us.push_back(raw_s / n * 1e6);
        nt_us.push_back(nt_s / n * 1e6);
        allocs.push_back(double(nt_allocs) / n);
    }
    return {summarize(ratios), summarize(raw_us), summarize(nt_us), summarize(allocs)};
}

std::string show(const summary& s, int precision) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.*f [%.*f, %.*f]", precision, s.median, precision, s.min, precision, s.max);
    return buf;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void run(asio::io_context& ioc, asio::awaitable<void> a) {
    bool done = false;
    std::exception_ptr error;
    ioc.restart();
    asio::co_spawn(ioc, std::move(a), [&](std::exception_ptr e) {
        error = e;
        done = true;
    });
    while (!done) ioc.run_one();
    if (error) std::rethrow_exception(error);
}

}  // namespace nettrace::bench
