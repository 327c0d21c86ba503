// The loopback peers: live, refusing and black-holed listeners on
// 127.0.0.0/8 and ::1, and descriptor counting, for the tests, the benchmarks
// and nettrace-dial's --demo. Nothing here talks to any other address.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <memory>
#include <vector>

namespace nettrace::testing {

/// Accepts every connection and keeps it open, so a test can see what the
/// dialer left behind (a loser closed, a winner alive).
class live_listener {
public:
    live_listener(const boost::asio::any_io_executor& ex, const boost::asio::ip::address& addr,
                  unsigned short port = 0);
    ~live_listener();
    unsigned short port() const noexcept { return port_; }
    std::size_t accepted() const noexcept;
    /// The accepted connections, in order.
    std::vector<boost::asio::ip::tcp::socket>& connections() noexcept;

protected:
    /// For a listener that checks its address its own way: test/support's
    /// lab_listener, inside a network namespace of the test's own.
    struct any_address {};
    live_listener(any_address, const boost::asio::any_io_executor& ex, const boost::asio::ip::address& addr,
                  unsigned short port);

private:
    struct state;
    std::shared_ptr<state> state_;
    unsigned short port_ = 0;
};

/// A listener whose accept queue is full (backlog 0, one connection never
/// accepted): the kernel drops further SYNs, so a connect to it hangs until
/// the caller gives up — a black hole on loopback.
class black_hole {
public:
    explicit black_hole(const boost::asio::ip::address& addr, unsigned short port = 0);
    unsigned short port() const noexcept { return port_; }

    ~black_hole();
    black_hole(const black_hole&) = delete;
    black_hole& operator=(const black_hole&) = delete;

private:
    int listener_ = -1, filler_ = -1;
    unsigned short port_ = 0;
};

/// A port with a bound but non-listening socket: connects are refused (RST)
/// at once, and no other program can take the port meanwhile.
class refused_port {
public:
    explicit refused_port(const boost::asio::ip::address& addr, unsigned short port = 0);
    ~refused_port();
    unsigned short port() const noexcept { return port_; }
    refused_port(const refused_port&) = delete;
    refused_port& operator=(const refused_port&) = delete;

private:
    int fd_ = -1;
    unsigned short port_ = 0;
};

/// Open file descriptors of this process (entries of /proc/self/fd).
std::size_t open_fd_count();

/// Opens the descriptors that, once opened, stay open for as long as their
/// owner lives, so that counting descriptors before and after a dial sees
/// only the dial's: `ioc`'s reactor (Asio makes it with the first I/O
/// object) and nettrace's spare reactor (made with the process's first
/// dialer; see src/detail/spare_socket.hpp).
void open_reactor(boost::asio::io_context& ioc);

/// Whether ::1 can be bound here (some sandboxes have no IPv6 loopback).
bool ipv6_loopback_available();

/// A port free on both 127.0.0.1 and ::1 at the time of the call.
unsigned short free_dual_stack_port();

}  // namespace nettrace::testing
