// c-ares on an Asio strand (src/detail/ares_loop.hpp): c-ares says which of
// its sockets it wants watched, and for what; each becomes an Asio
// descriptor wait, and its timeouts an Asio timer.
#include "detail/ares_loop.hpp"

#include <nettrace/address.hpp>
#include <nettrace/error.hpp>

#include "detail/resolver_support.hpp"

#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/system/system_error.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace nettrace::detail {

namespace {

namespace asio = boost::asio;
using boost::system::error_code;

struct ares_library {
    ares_library() {
        if (int rc = ares_library_init(ARES_LIB_INIT_ALL); rc != ARES_SUCCESS)
            throw boost::system::system_error(make_error_code(error::dns_failure),
                                              std::string("c-ares init: ") + ares_strerror(rc));
    }
};

asio::any_io_executor base_executor(const asio::any_io_executor& ex) {
    if (const auto* s = ex.target<asio::strand<asio::any_io_executor>>()) return base_executor(s->get_inner_executor());
    if (const auto* s = ex.target<asio::strand<asio::io_context::executor_type>>()) return s->get_inner_executor();
    return asio::prefer(ex, asio::execution::outstanding_work.untracked);
}

}  // namespace

void ensure_ares_library() { static const ares_library library; }

ares_loop::ares_loop(std::shared_ptr<const dns_config> config, const asio::any_io_executor& ex)
    : config_(std::move(config)), strand_(asio::make_strand(base_executor(ex))), timer_(strand_) {}

ares_loop::~ares_loop() {
    if (ares_) ares_destroy(ares_);
}

void ares_loop::init() {
    ares_options opts{};
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
    opts.sock_state_cb = &ares_loop::on_sock_state;
    opts.sock_state_cb_data = this;
    opts.timeout = static_cast<int>(config_->options.timeout.count());
    opts.tries = std::max(1, config_->options.tries);
    opts.lookups = const_cast<char*>("b");  // DNS only: the hosts file is ours
    if (!config_->servers_csv.empty()) {
        // Leave /etc/resolv.conf out entirely; c-ares reads it unless told
        // to read another file.
        mask |= ARES_OPT_RESOLVCONF;
        opts.resolvconf_path = const_cast<char*>("/dev/null");
    }
    if (config_->options.nameservers.size() == 1) {
        // With one server there is no other to fail over to, so let
        // SERVFAIL and REFUSED through as themselves rather than retrying
        // the same server and reporting a generic failure.
        mask |= ARES_OPT_FLAGS;
        opts.flags = ARES_FLAG_NOCHECKRESP;
    }
    if (int rc = ares_init_options(&ares_, &opts, mask); rc != ARES_SUCCESS)
        throw boost::system::system_error(make_error_code(error::dns_failure),
                                          std::string("c-ares: ") + ares_strerror(rc));
    ares_set_socket_functions(ares_, &socket_functions, this);
    if (!config_->servers_csv.empty())
        if (int rc = ares_set_servers_ports_csv(ares_, config_->servers_csv.c_str()); rc != ARES_SUCCESS)
            throw boost::system::system_error(make_error_code(error::dns_failure),
                                              std::string("c-ares servers: ") + ares_strerror(rc));
    // The names c-ares may put in the question: the name itself and the
    // name under each search domain (resolv.conf's search/domain).
    ares_options saved{};
    int saved_mask = 0;
    if (ares_save_options(ares_, &saved, &saved_mask) == ARES_SUCCESS) {
        for (int i = 0; i < saved.ndomains; ++i) search_domains_.push_back(canonical_name(saved.domains[i]));
        ares_destroy_options(&saved);
    }
    servers_ = server_list();
}

void ares_loop::shutdown() {
    if (ares_) ares_destroy(ares_);
    ares_ = nullptr;
    watchers_.clear();
}

// c-ares' own socket calls, plus a note of why the last socket could not be
// made.
ares_socket_t ares_loop::open_socket(int domain, int type, int protocol, void* self) {
    const int fd = ::socket(domain, type, protocol);
    static_cast<ares_loop*>(self)->socket_errno_ = fd < 0 ? errno : 0;
    return fd < 0 ? ARES_SOCKET_BAD : fd;
}
int ares_loop::close_socket(ares_socket_t fd, void*) { return ::close(fd); }
int ares_loop::connect_socket(ares_socket_t fd, const sockaddr* sa, ares_socklen_t len, void*) {
    return ::connect(fd, sa, len);
}
ares_ssize_t ares_loop::receive(ares_socket_t fd, void* buf, size_t len, int flags, sockaddr* from,
                                ares_socklen_t* from_len, void*) {
    return ::recvfrom(fd, buf, len, flags, from, from_len);
}
ares_ssize_t ares_loop::send_vector(ares_socket_t fd, const iovec* iov, int count, void*) {
    return ::writev(fd, iov, count);
}
const ares_socket_functions ares_loop::socket_functions{&open_socket, &close_socket, &connect_socket, &receive,
                                                        &send_vector};

// The servers the channel asks, as a person would write them.
std::string ares_loop::server_list() const {
    std::string out;
    ares_addr_port_node* servers = nullptr;
    if (ares_get_servers_ports(ares_, &servers) != ARES_SUCCESS) return out;
    for (auto* n = servers; n; n = n->next) {
        char text[INET6_ADDRSTRLEN] = {};
        ::inet_ntop(n->family, &n->addr, text, sizeof text);
        const int port = n->udp_port ? n->udp_port : 53;
        if (!out.empty()) out += ", ";
        out += join_host_port(text, static_cast<std::uint16_t>(port));
    }
    ares_free_data(servers);
    return out;
}

void ares_loop::on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<ares_loop*>(data)->watch(fd, readable != 0, writable != 0);
}

void ares_loop::watch(int fd, bool read, bool write) {
    auto it = watchers_.find(fd);
    if (!read && !write) {
        if (it != watchers_.end()) {
            it->second->descriptor.release();  // c-ares closes it, not Asio
            watchers_.erase(it);
        }
        return;
    }
    if (it == watchers_.end())
        it = watchers_.emplace(fd, std::make_unique<watcher>(watcher{{strand_, fd}, ++generation_})).first;
    it->second->want_read = read;
    it->second->want_write = write;
    arm(fd, *it->second);
}

void ares_loop::arm(int fd, watcher& w) {
    const auto wait = [this, fd, gen = w.generation](asio::posix::descriptor_base::wait_type type) {
        return [self = shared_from_this(), fd, gen, type](const error_code& ec) { self->on_ready(fd, gen, type, ec); };
    };
    if (w.want_read && !w.reading) {
        w.reading = true;
        w.descriptor.async_wait(asio::posix::descriptor_base::wait_read, wait(asio::posix::descriptor_base::wait_read));
    }
    if (w.want_write && !w.writing) {
        w.writing = true;
        w.descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                                wait(asio::posix::descriptor_base::wait_write));
    }
}

void ares_loop::on_ready(int fd, std::uint64_t gen, asio::posix::descriptor_base::wait_type type,
                         const error_code& ec) {
    auto it = watchers_.find(fd);
    // A released descriptor's wait, or one whose number c-ares has reused.
    if (it == watchers_.end() || it->second->generation != gen || !ares_) return;
    const bool is_read = type == asio::posix::descriptor_base::wait_read;
    (is_read ? it->second->reading : it->second->writing) = false;
    if (ec) return;
    ares_process_fd(ares_, is_read ? fd : ARES_SOCKET_BAD, is_read ? ARES_SOCKET_BAD : fd);
    it = watchers_.find(fd);
    if (it != watchers_.end() && it->second->generation == gen) arm(fd, *it->second);
    rearm_timer();
}

void ares_loop::rearm_timer() {
    if (!ares_) return;
    timeval tv{};
    if (!ares_timeout(ares_, nullptr, &tv)) {
        timer_.cancel();
        return;
    }
    timer_.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
        if (ec || !self->ares_) return;
        ares_process_fd(self->ares_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        self->rearm_timer();
    });
}

}  // namespace nettrace::detail
