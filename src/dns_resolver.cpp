// The c-ares resolver's front. c-ares owns the DNS protocol and runs on an
// Asio strand per io_context (src/detail/ares_loop.hpp); this file gives
// each io_context a channel with the answers' cache and the queries in
// flight, which concurrent callers of one (name, kind) share, and turns
// c-ares' answers into lookup_result and service_result. Addresses come from
// ares_getaddrinfo; HTTPS records from a raw type-65 query whose answer
// src/svcb.cpp parses (c-ares 1.18 has no HTTPS parser).
#include <nettrace/dns_resolver.hpp>
#include <nettrace/error.hpp>

#include "detail/ares_loop.hpp"
#include "detail/dns_config.hpp"
#include "detail/resolver_support.hpp"
#include "detail/svcb.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>

#include <ares.h>
#include <sys/socket.h>

#include <cerrno>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nettrace {

bool dns_resolver_available() noexcept { return true; }

namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using clock = std::chrono::steady_clock;
using detail::dns_config;

constexpr int class_in = 1, type_https = 65;

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

// What a failure's error code does not say by itself.
std::string cause_of(int status, int timeouts) {
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

// What one query asks: a family's addresses or the HTTPS records. Part of
// the cache and in-flight keys, so that no kind of query ever answers another.
enum class query_kind : std::uint8_t { ipv6, ipv4, https };
using key = std::pair<std::string, query_kind>;

class channel;

// One caller of a lookup (Result: lookup_result or service_result). Exactly
// one of the answer and the cancellation takes `done`; both run on the
// channel's strand, which is where every member but the immutable ones is
// touched.
template <class Result>
struct waiter final : pending_lookup, std::enable_shared_from_this<waiter<Result>> {
    waiter(asio::any_io_executor e, std::function<void(Result)> d, std::shared_ptr<channel> c, key k_)
        : ex(std::move(e)), done(std::move(d)), owner(std::move(c)), k(std::move(k_)) {}

    const asio::any_io_executor ex;
    std::function<void(Result)> done;
    const std::weak_ptr<channel> owner;
    const key k;
    bool coalesced = false;

    void deliver(Result r) {
        if (!done) return;
        r.coalesced = coalesced;
        asio::post(ex, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
        done = nullptr;
    }
    void cancel() noexcept override;
};

template <class Result>
struct query {
    channel* owner;
    key k;
    std::vector<std::shared_ptr<waiter<Result>>> waiters;
};

// The cache and the queries in flight of one kind of result.
template <class Result>
struct table {
    struct cache_entry {
        Result result;
        clock::time_point expires;
    };
    std::map<key, std::unique_ptr<query<Result>>> inflight;
    std::map<key, cache_entry> cache;
};

// The lookups of one io_context for one resolver: c-ares on its strand,
// the cache and the queries in flight.
class channel : public std::enable_shared_from_this<channel> {
public:
    channel(std::shared_ptr<const dns_config> config, const asio::any_io_executor& ex)
        : config_(config), loop_(std::make_shared<detail::ares_loop>(std::move(config), ex)) {}

    // A channel dies with its c-ares channel still open only when its start
    // failed, before any query: otherwise the io_context's shutdown has
    // destroyed it. Close it here, not when the loop's last wait lets go.
    ~channel() {
        if (loop_->handle()) loop_->shutdown();
    }

    void init() { loop_->init(); }

    template <class Result>
    void lookup(const std::shared_ptr<waiter<Result>>& w) {
        asio::dispatch(loop_->strand(), [self = shared_from_this(), w] { self->start(w); });
    }

    template <class Result>
    void cancel(const std::shared_ptr<waiter<Result>>& w) {
        asio::dispatch(loop_->strand(), [self = shared_from_this(), w] { self->drop(w); });
    }

    // io_context shutdown: c-ares fails every query with ARES_EDESTRUCTION.
    void shutdown() { loop_->shutdown(); }

private:
    table<lookup_result>& table_of(const lookup_result*) { return addresses_; }
    table<service_result>& table_of(const service_result*) { return services_; }

    template <class Result>
    void start(const std::shared_ptr<waiter<Result>>& w) {
        if (!w->done) return;  // cancelled before it got here
        auto& t = table_of(static_cast<const Result*>(nullptr));
        if (config_->options.cache) {
            auto it = t.cache.find(w->k);
            if (it != t.cache.end() && clock::now() < it->second.expires) {
                Result r = it->second.result;
                r.source = dns_source::cache;
                return w->deliver(std::move(r));
            }
            if (it != t.cache.end()) t.cache.erase(it);
        }
        auto q = t.inflight.find(w->k);
        const bool joins = q != t.inflight.end();
        if (!joins) q = t.inflight.emplace(w->k, std::make_unique<query<Result>>(query<Result>{this, w->k, {}})).first;
        w->coalesced = joins;
        q->second->waiters.push_back(w);
        if (joins) return;
        if (!loop_->handle()) return finish(*q->second, ARES_EDESTRUCTION, 0, {});  // shut down meanwhile
        send(*q->second);
        loop_->rearm_timer();
    }

    // Either may complete the query from inside the call (a name c-ares
    // rejects): q must not be touched after it.
    void send(query<lookup_result>& q) {
        ares_addrinfo_hints hints{};
        hints.ai_family = q.k.second == query_kind::ipv6 ? AF_INET6 : AF_INET;
        hints.ai_socktype = SOCK_STREAM;
        ares_getaddrinfo(loop_->handle(), q.k.first.c_str(), nullptr, &hints, &channel::on_addresses, &q);
    }
    void send(query<service_result>& q) {
        // ares_query, not ares_search: the name is already the full query
        // name (https_query_name), no search domain belongs under it.
        ares_query(loop_->handle(), q.k.first.c_str(), class_in, type_https, &channel::on_https, &q);
    }

    // A cancelled caller leaves; the query goes on for the others (and the
    // cache). When nobody waits for any query any more, c-ares is told to
    // stop: its retries would otherwise keep the io_context's run() busy
    // for seconds on answers nobody wants. c-ares 1.18 can only cancel a
    // whole channel, hence "any query".
    template <class Result>
    void drop(const std::shared_ptr<waiter<Result>>& w) {
        if (!w->done) return;
        auto& t = table_of(static_cast<const Result*>(nullptr));
        auto q = t.inflight.find(w->k);
        if (q != t.inflight.end()) std::erase(q->second->waiters, w);
        Result aborted;
        aborted.error = asio::error::operation_aborted;
        w->deliver(std::move(aborted));
        const auto idle = [](const auto& inflight) {
            return std::all_of(inflight.begin(), inflight.end(),
                               [](const auto& entry) { return entry.second->waiters.empty(); });
        };
        const bool any = !addresses_.inflight.empty() || !services_.inflight.empty();
        if (loop_->handle() && any && idle(addresses_.inflight) && idle(services_.inflight)) {
            ares_cancel(loop_->handle());  // fails each query with ARES_ECANCELLED, from inside this call
            loop_->rearm_timer();
        }
    }

    static void on_addresses(void* arg, int status, int timeouts, ares_addrinfo* info) {
        auto* q = static_cast<query<lookup_result>*>(arg);
        q->owner->finish(*q, status, timeouts, info);
        if (info) ares_freeaddrinfo(info);
    }

    static void on_https(void* arg, int status, int timeouts, unsigned char* abuf, int alen) {
        auto* q = static_cast<query<service_result>*>(arg);
        const std::span<const std::uint8_t> answer(abuf, abuf && alen > 0 ? static_cast<std::size_t>(alen) : 0);
        q->owner->finish(*q, status, timeouts, answer);
    }

    // At the descriptor limit the caller hears EMFILE, not "could not
    // contact the server".
    error_code failure(int status) const {
        const int e = loop_->socket_errno();
        if (status != ARES_ENOTFOUND && status != ARES_ENODATA && (e == EMFILE || e == ENFILE))
            return asio::error::no_descriptors;
        return from_ares_status(status);
    }

    template <class Result>
    void complete(query<Result>& q, const Result& r, bool cacheable, int ttl, int status) {
        auto& t = table_of(static_cast<const Result*>(nullptr));
        if (config_->options.cache && cacheable && ttl > 0 && status != ARES_EDESTRUCTION)
            t.cache[q.k] = {r, clock::now() + std::chrono::seconds(ttl)};
        auto node = t.inflight.extract(q.k);  // keeps q alive until the end of this function
        for (auto& w : q.waiters) w->deliver(r);
    }

    void finish(query<lookup_result>& q, int status, int timeouts, const ares_addrinfo* info) {
        lookup_result r;
        r.source = dns_source::dns;
        int ttl = static_cast<int>(config_->options.max_ttl.count());
        if (status == ARES_SUCCESS && info) {
            for (auto* n = info->nodes; n; n = n->ai_next) {
                const auto a = detail::to_address(n->ai_addr);
                // Never hand the racer an address of the other family, whatever the server sent.
                if (!a || a->is_v6() != (q.k.second == query_kind::ipv6)) continue;
                if (std::find(r.addrs.begin(), r.addrs.end(), *a) == r.addrs.end()) r.addrs.push_back(*a);
                ttl = std::min(ttl, std::max(n->ai_ttl, 0));
            }
            for (auto* c = info->cnames; c; c = c->next) ttl = std::min(ttl, std::max(c->ttl, 0));
            if (!cname_chain_from(q.k.first, info->cnames)) {
                r.addrs.clear();
                r.error = make_error_code(error::dns_malformed);
            } else if (r.addrs.empty()) {
                r.error = make_error_code(error::no_addresses);
            } else {
                r.ttl = std::chrono::seconds(ttl);  // NAT64's prefix lives this long (RFC 7050)
            }
        } else {
            r.error = failure(status);
            r.servers = loop_->servers();
            r.cause = cause_of(status, timeouts);
            ttl = static_cast<int>(config_->options.negative_ttl.count());
        }
        const bool cacheable =
            !r.error || status == ARES_ENOTFOUND || status == ARES_ENODATA || r.error == error::no_addresses;
        complete(q, r, cacheable, ttl, status);
    }

    // c-ares hands over the answer whatever its rcode (ares_query turns the
    // rcode into the status); only a query that got no answer has none.
    void finish(query<service_result>& q, int status, int timeouts, std::span<const std::uint8_t> answer) {
        service_result r;
        r.source = dns_source::dns;
        int ttl = static_cast<int>(config_->options.negative_ttl.count());
        if (!answer.empty()) {
            auto parsed = detail::parse_https_response(answer, q.k.first);
            r.records = std::move(parsed.records);
            r.rejected = parsed.rejected;
            r.error = parsed.error;
            r.cause = std::move(parsed.cause);
            if (!r.error) {
                ttl = static_cast<int>(
                    std::min<std::uint32_t>(parsed.ttl, static_cast<std::uint32_t>(config_->options.max_ttl.count())));
                r.ttl = std::chrono::seconds(ttl);
            }
        } else {
            r.error = status == ARES_ENODATA ? make_error_code(error::no_service_record) : failure(status);
            r.cause = cause_of(status, timeouts);
        }
        if (r.error) r.servers = loop_->servers();
        // A malformed record is the server's answer as much as NODATA is:
        // asking again within negative_ttl would get the same bytes.
        const bool cacheable = !r.error || r.error == error::host_not_found || r.error == error::no_service_record ||
                               r.error == error::malformed_service_record;
        complete(q, r, cacheable, ttl, status);
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
        for (const auto& domain : loop_->search_domains())
            asked = asked || same(c->alias, std::string(name) + "." + domain);
        if (!asked) return false;
        for (; c; c = c->next) {
            // An alias of the root name is no host: addresses "for" it would
            // be whatever records the answer has under the root.
            if (!c->name || !*c->name) return false;
            if (c->next && (!c->next->alias || !same(c->next->alias, c->name))) return false;
        }
        return true;
    }

    std::shared_ptr<const dns_config> config_;
    std::shared_ptr<detail::ares_loop> loop_;
    table<lookup_result> addresses_;
    table<service_result> services_;
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

template <class Result>
void waiter<Result>::cancel() noexcept {
    if (auto c = owner.lock()) c->cancel(this->shared_from_this());
}

class dns_resolver final : public resolver {
public:
    explicit dns_resolver(std::shared_ptr<const dns_config> config) : config_(std::move(config)) {}

    std::shared_ptr<pending_lookup> lookup(const asio::any_io_executor& ex, std::string_view host,
                                           address_family family, callback done) override {
        std::string name = detail::canonical_name(host);
        if (const auto* addrs = hosts_entry(name)) {
            lookup_result r;
            r.source = dns_source::hosts;
            for (const auto& a : *addrs)
                if (a.is_v6() == (family == address_family::ipv6)) r.addrs.push_back(a);
            if (r.addrs.empty()) r.error = make_error_code(error::no_addresses);
            asio::post(ex, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
            return detail::answered_lookup();
        }
        const auto kind = family == address_family::ipv6 ? query_kind::ipv6 : query_kind::ipv4;
        return start<lookup_result>(ex, key{std::move(name), kind}, std::move(done));
    }

    std::shared_ptr<pending_lookup> lookup_service(const asio::any_io_executor& ex, std::string_view name,
                                                   service_callback done) override {
        std::string qname = detail::canonical_name(name);
        // A host the hosts file lists is answered from there only, and the
        // hosts file holds no HTTPS records.
        if (hosts_entry(std::string(detail::service_host(qname)))) {
            service_result r;
            r.source = dns_source::hosts;
            r.error = make_error_code(error::no_service_record);
            asio::post(ex, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
            return detail::answered_lookup();
        }
        return start<service_result>(ex, key{std::move(qname), query_kind::https}, std::move(done));
    }

private:
    const std::vector<asio::ip::address>* hosts_entry(const std::string& name) const {
        if (!config_->options.use_hosts_file) return nullptr;
        const auto it = config_->hosts.find(name);
        return it == config_->hosts.end() ? nullptr : &it->second;
    }

    template <class Result>
    std::shared_ptr<pending_lookup> start(const asio::any_io_executor& ex, key k, std::function<void(Result)> done) {
        auto& service = asio::use_service<dns_service>(asio::query(ex, asio::execution::context));
        auto c = service.get(config_, ex);
        auto w = std::make_shared<waiter<Result>>(ex, std::move(done), c, std::move(k));
        c->lookup(w);
        return w;
    }

    std::shared_ptr<const dns_config> config_;
};

}  // namespace

std::shared_ptr<resolver> make_dns_resolver(dns_resolver_options options) {
    detail::ensure_ares_library();
    return std::make_shared<dns_resolver>(detail::make_dns_config(std::move(options)));
}

}  // namespace nettrace
