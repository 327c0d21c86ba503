// The c-ares resolver. c-ares owns the DNS protocol; this file gives it an
// event loop: each c-ares socket is watched with an Asio descriptor wait, its
// timeouts with an Asio timer, all on one strand per io_context, so there
// are no threads and no locks on the lookup path.
#include <nettrace/address.hpp>
#include <nettrace/dns_resolver.hpp>
#include <nettrace/error.hpp>

#include "detail/resolver_support.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/system_error.hpp>

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace nettrace {

bool dns_resolver_available() noexcept { return true; }

namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using clock = std::chrono::steady_clock;

error_code from_ares_status(int status) {
    switch (status) {
        case ARES_ENOTFOUND:
            return make_error_code(error::host_not_found);
        case ARES_ENODATA:
            return make_error_code(error::no_addresses);
        case ARES_ETIMEOUT:
            return make_error_code(error::dns_timeout);
        case ARES_EREFUSED:
            return make_error_code(error::dns_refused);
        case ARES_EBADRESP:
        case ARES_EFORMERR:
            return make_error_code(error::dns_malformed);
        case ARES_EBADNAME:
            return make_error_code(error::invalid_host);
        case ARES_ECANCELLED:
        case ARES_EDESTRUCTION:
            return asio::error::operation_aborted;
        case ARES_ENOMEM:
            return asio::error::no_memory;
        default:
            return make_error_code(error::dns_failure);  // SERVFAIL, ECONNREFUSED, and with
                                                         // several servers, REFUSED too
    }
}

// Name -> addresses from a hosts file, read once when the resolver is made.
using hosts_table = std::unordered_map<std::string, std::vector<asio::ip::address>>;

hosts_table read_hosts(const std::string& path) {
    hosts_table table;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        line = line.substr(0, line.find('#'));
        std::istringstream words(line);
        std::string addr_text, name;
        if (!(words >> addr_text)) continue;
        error_code ec;
        const auto addr = asio::ip::make_address(addr_text, ec);
        if (ec) continue;
        while (words >> name) {
            auto& addrs = table[detail::canonical_name(name)];
            if (std::find(addrs.begin(), addrs.end(), addr) == addrs.end()) addrs.push_back(addr);
        }
    }
    return table;
}

// The name server as written, safe to put in a message: control bytes
// (a NUL, say) shown as \xNN.
std::string printable(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

[[noreturn]] void bad_server(error e, std::string_view text, std::string_view why) {
    throw boost::system::system_error(make_error_code(e),
                                      "nameserver \"" + printable(text) + "\": " + std::string(why));
}

// "1.2.3.4", "1.2.3.4:53", "::1", "[::1]", "[::1]:53" -> the one form c-ares
// 1.18 takes for every server, "addr:port" or "[v6]:port", through the same
// literal parser as dial(). An IPv6 address without brackets carries no
// port ("::1:53" is an address); the default port is 53.
std::string to_ares_server(const std::string& text) {
    std::string address = text;
    const bool bracketed = !text.empty() && text.front() == '[';
    const auto colons = std::count(text.begin(), text.end(), ':');
    if (bracketed ? text.back() == ']' : colons == 0)
        address += ":53";
    else if (!bracketed && colons > 1)
        address = "[" + text + "]:53";
    error_code ec;
    const auto hp = parse_host_port(address, ec);
    if (!hp) {
        if (ec == error::invalid_port && !text.empty() && text.back() == ':')
            bad_server(error::invalid_port, text, "the port after ':' is empty");
        bad_server(static_cast<error>(ec.value()), text, ec.message());
    }
    if (!hp->ip) bad_server(error::invalid_host, text, "an IP address is required, not a name");
    if (hp->port == 0) bad_server(error::invalid_port, text, "port 0 is no server's port");
    // c-ares 1.18 keeps no scope id for a server: a link-local server would
    // be asked on whichever interface the kernel picks.
    if (!hp->zone.empty())
        bad_server(error::invalid_zone, text, "c-ares cannot use a zone (%" + printable(hp->zone) + ") for a server");
    return join_host_port(hp->ip->to_string(), hp->port);
}

struct ares_library {
    ares_library() {
        if (int rc = ares_library_init(ARES_LIB_INIT_ALL); rc != ARES_SUCCESS)
            throw boost::system::system_error(make_error_code(error::dns_failure),
                                              std::string("c-ares init: ") + ares_strerror(rc));
    }
};

// What every io_context's channel shares: the options, the hosts table.
struct dns_config {
    dns_resolver_options options;
    hosts_table hosts;
    std::string servers_csv;
    std::uint64_t id;
};

class channel;

// One caller of a lookup. Exactly one of the answer and the cancellation
// takes `done`; both run on the channel's strand, which is where every
// member but the immutable ones is touched.
struct waiter final : pending_lookup, std::enable_shared_from_this<waiter> {
    waiter(asio::any_io_executor e, resolver::callback d, std::shared_ptr<channel> c, std::string n, address_family f)
        : ex(std::move(e)), done(std::move(d)), owner(std::move(c)), name(std::move(n)), family(f) {}

    const asio::any_io_executor ex;
    resolver::callback done;
    const std::weak_ptr<channel> owner;
    const std::string name;
    const address_family family;
    bool coalesced = false;

    void deliver(lookup_result r) {
        if (!done) return;
        r.coalesced = coalesced;
        asio::post(ex, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
        done = nullptr;
    }
    void cancel() noexcept override;
};

// The channel must not inherit the first caller's strand (it would tie all
// lookups to that dial) nor its work tracking (it would keep the io_context
// running forever).
asio::any_io_executor base_executor(const asio::any_io_executor& ex) {
    if (const auto* s = ex.target<asio::strand<asio::any_io_executor>>()) return base_executor(s->get_inner_executor());
    if (const auto* s = ex.target<asio::strand<asio::io_context::executor_type>>()) return s->get_inner_executor();
    return asio::prefer(ex, asio::execution::outstanding_work.untracked);
}

// The c-ares channel of one io_context, its cache and in-flight queries.
class channel : public std::enable_shared_from_this<channel> {
public:
    channel(std::shared_ptr<const dns_config> config, const asio::any_io_executor& ex)
        : config_(std::move(config)), strand_(asio::make_strand(base_executor(ex))), timer_(strand_) {}

    ~channel() {
        if (ares_) ares_destroy(ares_);
    }

    void init() {
        ares_options opts{};
        int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
        opts.sock_state_cb = &channel::on_sock_state;
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
            for (int i = 0; i < saved.ndomains; ++i)
                search_domains_.push_back(detail::canonical_name(saved.domains[i]));
            ares_destroy_options(&saved);
        }
        servers_ = server_list();
    }

    void lookup(const std::shared_ptr<waiter>& w) {
        asio::dispatch(strand_, [self = shared_from_this(), w] { self->start(w); });
    }

    void cancel(const std::shared_ptr<waiter>& w) {
        asio::dispatch(strand_, [self = shared_from_this(), w] { self->drop(w); });
    }

    // io_context shutdown: c-ares fails every query with ARES_EDESTRUCTION.
    void shutdown() {
        if (ares_) ares_destroy(ares_);
        ares_ = nullptr;
        watchers_.clear();
    }

private:
    using key = std::pair<std::string, address_family>;

    struct cache_entry {
        lookup_result result;
        clock::time_point expires;
    };

    struct query {
        channel* owner;
        key k;
        std::vector<std::shared_ptr<waiter>> waiters;
    };

    struct watcher {
        asio::posix::stream_descriptor descriptor;
        std::uint64_t generation;
        bool want_read = false, want_write = false, reading = false, writing = false;
    };

    void start(const std::shared_ptr<waiter>& w) {
        if (!w->done) return;  // cancelled before it got here
        key k{w->name, w->family};
        if (config_->options.cache) {
            auto it = cache_.find(k);
            if (it != cache_.end() && clock::now() < it->second.expires) {
                lookup_result r = it->second.result;
                r.source = dns_source::cache;
                return w->deliver(std::move(r));
            }
            if (it != cache_.end()) cache_.erase(it);
        }
        auto q = inflight_.find(k);
        const bool joins = q != inflight_.end();
        if (!joins) q = inflight_.emplace(k, std::make_unique<query>(query{this, k, {}})).first;
        w->coalesced = joins;
        q->second->waiters.push_back(w);
        if (joins) return;
        ares_addrinfo_hints hints{};
        hints.ai_family = w->family == address_family::ipv6 ? AF_INET6 : AF_INET;
        hints.ai_socktype = SOCK_STREAM;
        ares_getaddrinfo(ares_, w->name.c_str(), nullptr, &hints, &channel::on_answer, q->second.get());
        rearm_timer();
    }

    // A cancelled caller leaves; the query goes on for the others (and the
    // cache). When nobody waits for any query any more, c-ares is told to
    // stop: its retries would otherwise keep the io_context's run() busy
    // for seconds on answers nobody wants. c-ares 1.18 can only cancel a
    // whole channel, hence "any query".
    void drop(const std::shared_ptr<waiter>& w) {
        if (!w->done) return;
        auto q = inflight_.find(key{w->name, w->family});
        if (q != inflight_.end()) std::erase(q->second->waiters, w);
        lookup_result aborted;
        aborted.error = asio::error::operation_aborted;
        w->deliver(std::move(aborted));
        const bool nobody_waits = std::all_of(inflight_.begin(), inflight_.end(),
                                              [](const auto& entry) { return entry.second->waiters.empty(); });
        if (ares_ && !inflight_.empty() && nobody_waits) {
            ares_cancel(ares_);  // fails each query with ARES_ECANCELLED, from inside this call
            rearm_timer();
        }
    }

    // c-ares' own socket calls, plus a note of why the last socket could not
    // be made: c-ares reports that only as "could not contact the server",
    // and at the descriptor limit the caller should hear EMFILE.
    static ares_socket_t open_socket(int domain, int type, int protocol, void* self) {
        const int fd = ::socket(domain, type, protocol);
        static_cast<channel*>(self)->socket_errno_ = fd < 0 ? errno : 0;
        return fd < 0 ? ARES_SOCKET_BAD : fd;
    }
    static int close_socket(ares_socket_t fd, void*) { return ::close(fd); }
    static int connect_socket(ares_socket_t fd, const sockaddr* sa, ares_socklen_t len, void*) {
        return ::connect(fd, sa, len);
    }
    static ares_ssize_t receive(ares_socket_t fd, void* buf, size_t len, int flags, sockaddr* from,
                                ares_socklen_t* from_len, void*) {
        return ::recvfrom(fd, buf, len, flags, from, from_len);
    }
    static ares_ssize_t send_vector(ares_socket_t fd, const iovec* iov, int count, void*) {
        return ::writev(fd, iov, count);
    }
    static constexpr ares_socket_functions socket_functions{&open_socket, &close_socket, &connect_socket, &receive,
                                                            &send_vector};

    static void on_answer(void* arg, int status, int timeouts, ares_addrinfo* info) {
        auto* q = static_cast<query*>(arg);
        q->owner->finish(*q, status, timeouts, info);
        if (info) ares_freeaddrinfo(info);
    }

    void finish(query& q, int status, int timeouts, const ares_addrinfo* info) {
        lookup_result r;
        r.source = dns_source::dns;
        int ttl = static_cast<int>(config_->options.max_ttl.count());
        if (status == ARES_SUCCESS && info) {
            for (auto* n = info->nodes; n; n = n->ai_next) {
                const auto a = detail::to_address(n->ai_addr);
                // Never hand the racer an address of the other family, whatever the server sent.
                if (!a || a->is_v6() != (q.k.second == address_family::ipv6)) continue;
                if (std::find(r.addrs.begin(), r.addrs.end(), *a) == r.addrs.end()) r.addrs.push_back(*a);
                ttl = std::min(ttl, std::max(n->ai_ttl, 0));
            }
            for (auto* c = info->cnames; c; c = c->next) ttl = std::min(ttl, std::max(c->ttl, 0));
            if (!cname_chain_from(q.k.first, info->cnames)) {
                r.addrs.clear();
                r.error = make_error_code(error::dns_malformed);
            } else if (r.addrs.empty()) {
                r.error = make_error_code(error::no_addresses);
            }
        } else {
            r.error = from_ares_status(status);
            if (status != ARES_ENOTFOUND && status != ARES_ENODATA &&
                (socket_errno_ == EMFILE || socket_errno_ == ENFILE))
                r.error = asio::error::no_descriptors;
            r.servers = servers_;
            r.cause = cause_of(status, timeouts);
            ttl = static_cast<int>(config_->options.negative_ttl.count());
        }
        const bool cacheable =
            !r.error || status == ARES_ENOTFOUND || status == ARES_ENODATA || r.error == error::no_addresses;
        if (config_->options.cache && cacheable && ttl > 0 && status != ARES_EDESTRUCTION)
            cache_[q.k] = {r, clock::now() + std::chrono::seconds(ttl)};
        auto node = inflight_.extract(q.k);  // keeps q alive until the end of this function
        for (auto& w : q.waiters) w->deliver(r);
    }

    // c-ares 1.18 follows every CNAME record of an answer in order, whoever
    // owns it: "other.test CNAME evil.test" plus "evil.test A x" would answer
    // a query for "good.test" with x. Accept addresses only when the aliases
    // form one chain that starts at the name asked for (RFC 1034 3.6.2);
    // otherwise the answer is not for our question, and c-ares has already
    // thrown away the records that were. Found by fuzz/dns_answer_fuzzer.
    bool cname_chain_from(std::string_view name, const ares_addrinfo_cname* c) const {
        if (!c) return true;
        const auto same = [](std::string_view a, std::string_view b) {
            return detail::canonical_name(a) == detail::canonical_name(b);
        };
        if (!c->alias) return false;
        bool asked = same(c->alias, name);
        for (const auto& domain : search_domains_) asked = asked || same(c->alias, std::string(name) + "." + domain);
        if (!asked) return false;
        for (; c; c = c->next) {
            // An alias of the root name is no host: addresses "for" it would
            // be whatever records the answer has under the root.
            if (!c->name || !*c->name) return false;
            if (c->next && (!c->next->alias || !same(c->next->alias, c->name))) return false;
        }
        return true;
    }

    // The servers the channel asks, as a person would write them.
    std::string server_list() const {
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

    // What a failure's error code does not say by itself.
    static std::string cause_of(int status, int timeouts) {
        switch (status) {
            case ARES_ECONNREFUSED:
                return "nothing listens there: connection refused";
            case ARES_ESERVFAIL:
                return "the server answered SERVFAIL";
            case ARES_ETIMEOUT:
                return "no answer after " + std::to_string(timeouts) + (timeouts == 1 ? " try" : " tries");
            case ARES_EBADRESP:
                return "the answer could not be parsed";
            case ARES_EFORMERR:
                return "the server could not parse the query (FORMERR)";
            case ARES_ENOTIMP:
                return "the server does not implement the query (NOTIMP)";
            default:
                return {};
        }
    }

    // c-ares says which of its sockets it wants watched, and for what.
    static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
        static_cast<channel*>(data)->watch(fd, readable != 0, writable != 0);
    }

    void watch(int fd, bool read, bool write) {
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

    void arm(int fd, watcher& w) {
        const auto wait = [this, fd, gen = w.generation](asio::posix::descriptor_base::wait_type type) {
            return
                [self = shared_from_this(), fd, gen, type](const error_code& ec) { self->on_ready(fd, gen, type, ec); };
        };
        if (w.want_read && !w.reading) {
            w.reading = true;
            w.descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                                    wait(asio::posix::descriptor_base::wait_read));
        }
        if (w.want_write && !w.writing) {
            w.writing = true;
            w.descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                                    wait(asio::posix::descriptor_base::wait_write));
        }
    }

    void on_ready(int fd, std::uint64_t gen, asio::posix::descriptor_base::wait_type type, const error_code& ec) {
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

    void rearm_timer() {
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

    std::shared_ptr<const dns_config> config_;
    asio::strand<asio::any_io_executor> strand_;
    asio::steady_timer timer_;
    ares_channel ares_ = nullptr;
    std::map<key, std::unique_ptr<query>> inflight_;
    std::map<key, cache_entry> cache_;
    std::unordered_map<int, std::unique_ptr<watcher>> watchers_;
    std::uint64_t generation_ = 0;
    int socket_errno_ = 0;  // why the last socket() failed, 0 when it worked
    std::vector<std::string> search_domains_;
    std::string servers_;  // server_list(), for failures' descriptions
};

// The channels of one io_context, one per resolver; shut down with it.
class dns_service final : public asio::execution_context::service {
public:
    using key_type = dns_service;
    static inline asio::execution_context::id id;

    explicit dns_service(asio::execution_context& ctx) : asio::execution_context::service(ctx) {}

    std::shared_ptr<channel> get(const std::shared_ptr<const dns_config>& config, const asio::any_io_executor& ex) {
        std::lock_guard lock(mutex_);
        if (auto it = channels_.find(config->id); it != channels_.end()) return it->second;
        // Stored only once it has started: a channel whose start failed
        // (c-ares refused a server, no descriptor left) is not kept, and
        // the next lookup tries again.
        auto made = std::make_shared<channel>(config, ex);
        made->init();
        channels_.emplace(config->id, made);
        return made;
    }

private:
    void shutdown() override {
        std::map<std::uint64_t, std::shared_ptr<channel>> channels;
        {
            std::lock_guard lock(mutex_);
            channels.swap(channels_);
        }
        for (auto& [_, c] : channels) c->shutdown();
    }

    std::mutex mutex_;
    std::map<std::uint64_t, std::shared_ptr<channel>> channels_;
};

void waiter::cancel() noexcept {
    if (auto c = owner.lock()) c->cancel(shared_from_this());
}

class dns_resolver final : public resolver {
public:
    explicit dns_resolver(std::shared_ptr<const dns_config> config) : config_(std::move(config)) {}

    std::shared_ptr<pending_lookup> lookup(const asio::any_io_executor& ex, std::string_view host,
                                           address_family family, callback done) override {
        std::string name = detail::canonical_name(host);
        if (config_->options.use_hosts_file) {
            if (auto it = config_->hosts.find(name); it != config_->hosts.end()) {
                lookup_result r;
                r.source = dns_source::hosts;
                for (const auto& a : it->second)
                    if (a.is_v6() == (family == address_family::ipv6)) r.addrs.push_back(a);
                if (r.addrs.empty()) r.error = make_error_code(error::no_addresses);
                asio::post(ex, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
                return detail::answered_lookup();
            }
        }
        auto& service = asio::use_service<dns_service>(asio::query(ex, asio::execution::context));
        auto c = service.get(config_, ex);
        auto w = std::make_shared<waiter>(ex, std::move(done), c, std::move(name), family);
        c->lookup(w);
        return w;
    }

private:
    std::shared_ptr<const dns_config> config_;
};

}  // namespace

std::shared_ptr<resolver> make_dns_resolver(dns_resolver_options options) {
    static const ares_library library;
    static std::atomic<std::uint64_t> next_id{1};
    auto config = std::make_shared<dns_config>();
    for (const auto& s : options.nameservers)
        config->servers_csv += (config->servers_csv.empty() ? "" : ",") + to_ares_server(s);
    if (options.use_hosts_file) config->hosts = read_hosts(options.hosts_file);
    config->options = std::move(options);
    config->id = next_id++;
    return std::make_shared<dns_resolver>(std::move(config));
}

}  // namespace nettrace
