// proxy-bench: a dial through an HTTP CONNECT proxy and through a SOCKS5
// proxy against raw Asio doing the same exchange by hand (connect, write the
// request, read the reply), on loopback, in one process: the two alternate
// in blocks, round after round, and the median of the per-round ratios is
// printed with its min and max, as tls-bench does. A direct nettrace dial of
// the proxy's port shows what the tunnel stage itself costs.
//
//   proxy-bench [--rounds=N]
//
// The proxies are minimal and in-process (a thread each, blocking I/O): they
// answer the handshake and close, so both variants meet the same peer and
// the numbers are the client's, not a real proxy's.
#include <nettrace/dial.hpp>

#include "support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// A listener on 127.0.0.1 whose thread answers each connection's handshake
// (HTTP CONNECT or SOCKS5 without authentication) with success and closes.
class fake_proxy {
public:
    explicit fake_proxy(bool socks) : socks_(socks) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 4096) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::runtime_error("fake proxy: cannot listen");
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~fake_proxy() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
        ::close(fd_);
    }
    unsigned short port() const { return port_; }

private:
    void serve() {
        char buf[512];
        while (!stop_) {
            const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            if (socks_) {
                // greeting (3) -> method; request (10 for IPv4) -> reply.
                if (read_n(c, buf, 3) && write_all(c, "\x05\x00", 2) && read_n(c, buf, 10))
                    write_all(c, "\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x09", 10);
            } else {
                std::string req;
                while (req.find("\r\n\r\n") == std::string::npos) {
                    const auto n = ::read(c, buf, sizeof buf);
                    if (n <= 0) break;
                    req.append(buf, static_cast<std::size_t>(n));
                }
                const char reply[] = "HTTP/1.1 200 Connection established\r\n\r\n";
                write_all(c, reply, sizeof reply - 1);
            }
            ::close(c);
        }
    }
    static bool read_n(int fd, char* buf, std::size_t n) {
        for (std::size_t got = 0; got < n;) {
            const auto r = ::read(fd, buf + got, n - got);
            if (r <= 0) return false;
            got += static_cast<std::size_t>(r);
        }
        return true;
    }
    static bool write_all(int fd, const char* p, std::size_t n) { return ::write(fd, p, n) == static_cast<ssize_t>(n); }

    bool socks_;
    int fd_ = -1;
    unsigned short port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

asio::awaitable<void> raw_loop(tcp::endpoint proxy, bool socks, long n) {
    const auto ex = co_await asio::this_coro::executor;
    const std::string http = "CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n";
    for (long i = 0; i < n; ++i) {
        tcp::socket s(ex);
        auto [ec] = co_await s.async_connect(proxy, asio::as_tuple(asio::use_awaitable));
        if (ec) throw std::runtime_error("raw connect: " + ec.message());
        if (socks) {
            char reply[10];
            co_await asio::async_write(s, asio::buffer("\x05\x01\x00", 3), asio::use_awaitable);
            co_await asio::async_read(s, asio::buffer(reply, 2), asio::use_awaitable);
            co_await asio::async_write(s, asio::buffer("\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x09", 10),
                                       asio::use_awaitable);
            co_await asio::async_read(s, asio::buffer(reply, 10), asio::use_awaitable);
        } else {
            asio::streambuf in;
            co_await asio::async_write(s, asio::buffer(http), asio::use_awaitable);
            co_await asio::async_read_until(s, in, "\r\n\r\n", asio::use_awaitable);
        }
    }
}

asio::awaitable<void> nettrace_loop(const nettrace::dialer& d, std::string address, long n) {
    const nettrace::context none;  // named: see tls_bench.cpp (GCC 12)
    for (long i = 0; i < n; ++i) {
        auto [ec, s] = co_await d.dial(none, "tcp", address, asio::as_tuple(asio::use_awaitable));
        if (ec) throw std::runtime_error("dial " + address + ": " + ec.message());
    }
}

void run(asio::io_context& ioc, asio::awaitable<void> loop) {
    std::exception_ptr failed;
    asio::co_spawn(ioc, std::move(loop), [&](std::exception_ptr e) { failed = e; });
    ioc.restart();
    ioc.run();
    if (failed) std::rethrow_exception(failed);
}

// Blocks of 50 dials, 10 pairs of blocks a round (support.hpp).
template <class Raw, class Nettrace>
nettrace::bench::comparison compare(asio::io_context& ioc, int rounds, Raw raw_loop_of, Nettrace nt_loop_of) {
    return nettrace::bench::compare_with_raw(
        rounds, 50, 10, [&](long n) { run(ioc, raw_loop_of(n)); }, [&](long n) { run(ioc, nt_loop_of(n)); });
}

}  // namespace

int main(int argc, char** argv) try {
    const int rounds = nettrace::bench::rounds_option(argc, argv, 11);
    nettrace::bench::raise_fd_limit();
    asio::io_context ioc(1);
    for (const bool socks : {false, true}) {
        const fake_proxy proxy(socks);
        const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), proxy.port());
        nettrace::dial_options o;
        o.single_threaded = true;
        const nettrace::dialer direct(o);
        o.proxy =
            nettrace::proxy(std::string(socks ? "socks5h" : "http") + "://127.0.0.1:" + std::to_string(proxy.port()));
        const nettrace::dialer via(o);
        const auto m = compare(
            ioc, rounds, [&](long n) { return raw_loop(ep, socks, n); },
            [&](long n) { return nettrace_loop(via, "127.0.0.1:9", n); });
        // The tunnel's own cost: the same dial without it (a plain connect
        // of the proxy's port, which the fake proxy then closes).
        const auto d = compare(
            ioc, rounds, [&](long n) { return raw_loop(ep, socks, n); },
            [&](long n) { return nettrace_loop(direct, "127.0.0.1:" + std::to_string(proxy.port()), n); });
        const char* name = socks ? "SOCKS5 (socks5h)" : "HTTP CONNECT";
        std::printf(
            "| %s | raw Asio by hand %.1f µs | nettrace %.1f µs | ratio **%.3f** [%.3f, %.3f] | "
            "%.1f allocations/dial | direct connect, no tunnel: %.1f µs |\n",
            name, m.raw_us.median, m.nt_us.median, m.ratio.median, m.ratio.min, m.ratio.max, m.allocs.median,
            d.nt_us.median);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "proxy-bench: %s\n", e.what());
    return 1;
}
