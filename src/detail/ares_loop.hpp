// c-ares on an Asio strand: one ares_channel whose sockets are watched with
// Asio descriptor waits and whose timeouts run on an Asio timer, all on one
// strand, so there are no threads and no locks on the lookup path. It knows
// nothing of lookups: the resolver's front (src/dns_resolver.cpp) sends
// queries on handle() and is called back by c-ares from inside this loop.
#pragma once

#include "dns_config.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <ares.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace nettrace::detail {

/// Initialises c-ares once per process (ares_library_init); throws
/// boost::system::system_error (error::dns_failure) when it cannot.
void ensure_ares_library();

/// Every member but the constructor runs on strand().
class ares_loop : public std::enable_shared_from_this<ares_loop> {
public:
    /// The loop runs on a strand of `ex`'s underlying executor: not the
    /// caller's strand (which would tie every lookup to that dial) and not
    /// tracking work (which would keep the io_context running for ever).
    ares_loop(std::shared_ptr<const dns_config> config, const boost::asio::any_io_executor& ex);
    ~ares_loop();
    ares_loop(const ares_loop&) = delete;
    ares_loop& operator=(const ares_loop&) = delete;

    /// Makes the channel: the options' timeout, tries and servers
    /// (resolv.conf's when none), DNS only (the hosts file is the front's).
    /// Throws boost::system::system_error (error::dns_failure).
    void init();

    /// The channel to send queries on; null once shut down.
    ares_channel handle() const noexcept { return ares_; }
    const boost::asio::strand<boost::asio::any_io_executor>& strand() const noexcept { return strand_; }

    /// Call after each call into c-ares that may start or end a query:
    /// c-ares' next timeout may have moved.
    void rearm_timer();

    /// Destroys the channel: c-ares fails every query with
    /// ARES_EDESTRUCTION, from inside this call.
    void shutdown();

    /// Why the last socket() c-ares asked for failed; 0 when it worked.
    /// c-ares reports that only as "could not contact the server", and at
    /// the descriptor limit the caller should hear EMFILE.
    int socket_errno() const noexcept { return socket_errno_; }
    /// The servers asked, as a person writes them ("127.0.0.1:53, [::1]:53").
    const std::string& servers() const noexcept { return servers_; }
    /// The search domains c-ares may append (resolv.conf's search/domain).
    const std::vector<std::string>& search_domains() const noexcept { return search_domains_; }

private:
    struct watcher {
        boost::asio::posix::stream_descriptor descriptor;
        std::uint64_t generation;
        bool want_read = false, want_write = false, reading = false, writing = false;
    };

    static ares_socket_t open_socket(int domain, int type, int protocol, void* self);
    static int close_socket(ares_socket_t fd, void*);
    static int connect_socket(ares_socket_t fd, const sockaddr* sa, ares_socklen_t len, void*);
    static ares_ssize_t receive(ares_socket_t fd, void* buf, size_t len, int flags, sockaddr* from,
                                ares_socklen_t* from_len, void*);
    static ares_ssize_t send_vector(ares_socket_t fd, const iovec* iov, int count, void*);
    static const ares_socket_functions socket_functions;

    static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable);
    void watch(int fd, bool read, bool write);
    void arm(int fd, watcher& w);
    void on_ready(int fd, std::uint64_t gen, boost::asio::posix::descriptor_base::wait_type type,
                  const boost::system::error_code& ec);
    std::string server_list() const;

    std::shared_ptr<const dns_config> config_;
    boost::asio::strand<boost::asio::any_io_executor> strand_;
    boost::asio::steady_timer timer_;
    ares_channel ares_ = nullptr;
    std::unordered_map<int, std::unique_ptr<watcher>> watchers_;
    std::uint64_t generation_ = 0;
    int socket_errno_ = 0;
    std::vector<std::string> search_domains_;
    std::string servers_;
};

}  // namespace nettrace::detail
