// The loopback peers (loopback.hpp), on plain POSIX sockets where the kernel's
// behaviour is the point.
#include "loopback.hpp"

#include <nettrace/dial.hpp>

#include <boost/asio/steady_timer.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace nettrace::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

// `addr`, which must be a loopback address.
const asio::ip::address& require_loopback(const asio::ip::address& addr) {
    if (!addr.is_loopback()) throw std::invalid_argument("loopback only: " + addr.to_string());
    return addr;
}

// A plain POSIX socket bound to addr:port, so the kernel behaviour under test
// (backlog, RST) is not hidden behind any library.
int bound_socket(const asio::ip::address& addr, unsigned short port, unsigned short& bound_port) {
    require_loopback(addr);
    tcp::endpoint ep(addr, port);
    const int fd = ::socket(addr.is_v6() ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket");
    if (::bind(fd, ep.data(), static_cast<socklen_t>(ep.size())) != 0) {
        ::close(fd);
        fail("bind " + addr.to_string() + ":" + std::to_string(port));
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    bound_port = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(ss).sin6_port
                                                : reinterpret_cast<sockaddr_in&>(ss).sin_port);
    return fd;
}

}  // namespace

struct live_listener::state : std::enable_shared_from_this<state> {
    explicit state(const asio::any_io_executor& ex) : acceptor(ex) {}
    tcp::acceptor acceptor;
    std::vector<tcp::socket> connections;

    void accept() {
        acceptor.async_accept([self = shared_from_this()](boost::system::error_code ec, tcp::socket s) {
            if (ec) return;  // closed
            self->connections.push_back(std::move(s));
            self->accept();
        });
    }
};

live_listener::live_listener(const asio::any_io_executor& ex, const asio::ip::address& addr, unsigned short port)
    : live_listener(any_address{}, ex, require_loopback(addr), port) {}

live_listener::live_listener(any_address, const asio::any_io_executor& ex, const asio::ip::address& addr,
                             unsigned short port)
    : state_(std::make_shared<state>(ex)) {
    tcp::endpoint ep(addr, port);
    state_->acceptor.open(ep.protocol());
    if (addr.is_v6()) state_->acceptor.set_option(asio::ip::v6_only(true));
    state_->acceptor.bind(ep);
    state_->acceptor.listen();
    port_ = state_->acceptor.local_endpoint().port();
    state_->accept();
}

live_listener::~live_listener() {
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
}

std::size_t live_listener::accepted() const noexcept { return state_->connections.size(); }
std::vector<tcp::socket>& live_listener::connections() noexcept { return state_->connections; }

black_hole::black_hole(const asio::ip::address& addr, unsigned short port) {
    listener_ = bound_socket(addr, port, port_);
    // Backlog 0 admits one connection to the accept queue; once it is there
    // and never accepted, Linux drops every further SYN.
    if (::listen(listener_, 0) != 0) fail("listen");
    unsigned short unused;
    filler_ = bound_socket(addr, 0, unused);
    tcp::endpoint ep(addr, port_);
    if (::connect(filler_, ep.data(), static_cast<socklen_t>(ep.size())) != 0) fail("connect filler");
}

black_hole::~black_hole() {
    ::close(filler_);
    ::close(listener_);
}

refused_port::refused_port(const asio::ip::address& addr, unsigned short port) {
    fd_ = bound_socket(addr, port, port_);
}

refused_port::~refused_port() { ::close(fd_); }

std::size_t open_fd_count() {
    std::size_t n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (const dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') ++n;
        ::closedir(d);
        --n;  // the directory stream itself
    }
    return n;
}

bool ipv6_loopback_available() {
    const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    tcp::endpoint ep(asio::ip::address_v6::loopback(), 0);
    const bool ok = ::bind(fd, ep.data(), static_cast<socklen_t>(ep.size())) == 0;
    ::close(fd);
    return ok;
}

unsigned short free_dual_stack_port() {
    for (int tries = 0; tries < 100; ++tries) {
        unsigned short port;
        const int v4 = bound_socket(asio::ip::address_v4::loopback(), 0, port);
        unsigned short same;
        int v6 = -1;
        try {
            v6 = bound_socket(asio::ip::address_v6::loopback(), port, same);
        } catch (const std::exception&) {}
        ::close(v4);
        if (v6 >= 0) {
            ::close(v6);
            return port;
        }
    }
    throw std::runtime_error("no port free on both 127.0.0.1 and ::1");
}

void open_reactor(boost::asio::io_context& ioc) {
    boost::asio::steady_timer warm(ioc);
    const nettrace::dialer made;  // the first dialer makes the spare reactor
    (void)made;
}

}  // namespace nettrace::testing
