#include <nettrace/error.hpp>
#include <nettrace/resolver.hpp>

#include "detail/resolver_support.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace nettrace {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// ---------------------------------------------------------------------------
// The system resolver.

// Detached worker threads for getaddrinfo, which blocks and cannot be
// cancelled. Nothing ever joins them: a process exiting, or a dial giving up,
// must not wait on a stuck lookup. The pool is leaked on purpose for the same
// reason. Idle workers exit after a while.
class blocking_pool {
public:
    static blocking_pool& instance() {
        static blocking_pool* pool = new blocking_pool;
        return *pool;
    }

    // Throws std::system_error when no worker exists and none can be started.
    void submit(std::function<void()> job) {
        std::lock_guard lock(mutex_);
        if (queue_.size() + 1 > idle_ && threads_ < max_threads) {
            try {
                std::thread([this] { work(); }).detach();
                ++threads_;
            } catch (const std::system_error&) {
                if (threads_ == 0) throw;  // nobody would ever run the job
            }
        }
        queue_.push_back(std::move(job));
        ready_.notify_one();
    }

private:
    static constexpr unsigned max_threads = 16;

    void work() {
        std::unique_lock lock(mutex_);
        for (;;) {
            ++idle_;
            const bool got = ready_.wait_for(lock, std::chrono::seconds(30), [this] { return !queue_.empty(); });
            --idle_;
            if (!got) {
                --threads_;
                return;
            }
            auto job = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            job();
            lock.lock();
        }
    }

    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> queue_;
    std::size_t idle_ = 0;
    unsigned threads_ = 0;
};

error_code from_gai_error(int rc, int saved_errno) {
    switch (rc) {
        case EAI_NONAME:
            return make_error_code(error::host_not_found);
#ifdef EAI_NODATA
        case EAI_NODATA:
            return make_error_code(error::no_addresses);
#endif
#ifdef EAI_ADDRFAMILY
        case EAI_ADDRFAMILY:
            return make_error_code(error::no_addresses);
#endif
        case EAI_AGAIN:
            return make_error_code(error::dns_failure);
        case EAI_FAIL:
            return make_error_code(error::dns_failure);
        case EAI_MEMORY:
            return asio::error::no_memory;
        case EAI_SYSTEM:
            return error_code(saved_errno, boost::system::system_category());
        default:
            return make_error_code(error::dns_failure);
    }
}

lookup_result run_getaddrinfo(const std::string& host, address_family family) {
    addrinfo hints{};
    hints.ai_family = family == address_family::ipv6 ? AF_INET6 : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    // No AI_ADDRCONFIG: it hides ::1 on hosts with only loopback IPv6, and the
    // racer copes with an unusable family on its own.
    addrinfo* list = nullptr;
    errno = 0;
    const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
    const int saved_errno = errno;
    lookup_result result;
    result.source = dns_source::system;
    if (rc != 0) {
        // At the descriptor limit glibc cannot open /etc/hosts or a DNS
        // socket and reports "no such host": name the real cause.
        if (saved_errno == EMFILE || saved_errno == ENFILE)
            result.error = asio::error::no_descriptors;
        else
            result.error = from_gai_error(rc, saved_errno);
        return result;
    }
    for (addrinfo* ai = list; ai; ai = ai->ai_next) {
        const auto a = detail::to_address(ai->ai_addr);
        if (a && std::find(result.addrs.begin(), result.addrs.end(), *a) == result.addrs.end())
            result.addrs.push_back(*a);
    }
    ::freeaddrinfo(list);
    if (result.addrs.empty()) result.error = make_error_code(error::no_addresses);
    return result;
}

class gai_service;

// One getaddrinfo call. Whoever takes `done` first delivers: the worker with
// the result, cancel() with operation_aborted, or the io_context's shutdown,
// which drops it so no worker ever posts into a destroyed io_context.
class gai_lookup final : public pending_lookup, public std::enable_shared_from_this<gai_lookup> {
public:
    gai_lookup(gai_service& service, asio::any_io_executor ex, resolver::callback done)
        : service_(&service), ex_(std::move(ex)), done_(std::move(done)) {}

    void deliver(lookup_result result);
    void cancel() noexcept override {
        lookup_result aborted;
        aborted.error = asio::error::operation_aborted;
        deliver(std::move(aborted));
    }
    // Called by the io_context's shutdown; what it releases (the caller's
    // callback, a strand) is destroyed outside the lock and while the
    // io_context still exists.
    // Whether anyone still wants the answer: a worker skips getaddrinfo for
    // lookups abandoned while queued, so they do not hold up the pool.
    bool wanted() {
        std::lock_guard lock(mutex_);
        return static_cast<bool>(done_);
    }

    void drop() noexcept {
        resolver::callback dropped;
        asio::any_io_executor ex;
        {
            std::lock_guard lock(mutex_);
            dropped = std::move(done_);
            done_ = nullptr;
            ex = std::move(ex_);
            service_ = nullptr;
        }
    }

private:
    std::mutex mutex_;
    gai_service* service_;
    asio::any_io_executor ex_;
    resolver::callback done_;
};

// Tracks the lookups of one io_context so its shutdown can drop them.
class gai_service final : public asio::execution_context::service {
public:
    using key_type = gai_service;
    static inline asio::execution_context::id id;

    explicit gai_service(asio::execution_context& ctx) : asio::execution_context::service(ctx) {}

    void add(const std::shared_ptr<gai_lookup>& l) {
        std::lock_guard lock(mutex_);
        live_.emplace(l.get(), l);
    }
    void remove(gai_lookup* l) {
        std::lock_guard lock(mutex_);
        live_.erase(l);
    }

private:
    void shutdown() override {
        std::map<gai_lookup*, std::weak_ptr<gai_lookup>> live;
        {
            std::lock_guard lock(mutex_);
            live.swap(live_);
        }
        for (auto& [_, weak] : live)
            if (auto l = weak.lock()) l->drop();
    }

    std::mutex mutex_;
    std::map<gai_lookup*, std::weak_ptr<gai_lookup>> live_;
};

void gai_lookup::deliver(lookup_result result) {
    std::lock_guard lock(mutex_);
    if (!done_) return;
    asio::any_io_executor ex;  // destroyed before the lock is released
    // Posted under the lock and while still registered with the service:
    // a shutdown either dropped this lookup already (done_ is empty) or
    // waits in drop() for this lock, so the io_context is alive here. The
    // executor (perhaps a strand) is released too, as this object may
    // outlive the io_context.
    ex = std::move(ex_);
    asio::post(ex, [done = std::move(done_), result = std::move(result)]() mutable { done(std::move(result)); });
    done_ = nullptr;
    service_->remove(this);
    service_ = nullptr;
}

class system_resolver final : public resolver {
public:
    std::shared_ptr<pending_lookup> lookup(const asio::any_io_executor& ex, std::string_view host,
                                           address_family family, callback done) override {
        if (detail::is_legacy_numeric_host(host)) {
            // getaddrinfo would take "127.1" for 127.0.0.1 (inet_aton); a
            // DNS server has no such name. Refused alike by every resolver.
            lookup_result refused;
            refused.source = dns_source::system;
            refused.error = make_error_code(error::host_not_found);
            asio::post(ex,
                       [done = std::move(done), refused = std::move(refused)]() mutable { done(std::move(refused)); });
            return detail::answered_lookup();
        }
        auto& service = asio::use_service<gai_service>(asio::query(ex, asio::execution::context));
        auto l = std::make_shared<gai_lookup>(service, ex, std::move(done));
        service.add(l);
        blocking_pool::instance().submit([l, host = std::string(host), family] {
            if (l->wanted()) l->deliver(run_getaddrinfo(host, family));
        });
        return l;
    }
};

// ---------------------------------------------------------------------------
// The static resolver.

class static_resolver final : public resolver {
public:
    static_resolver(std::vector<std::pair<std::string, std::vector<asio::ip::address>>> table,
                    std::shared_ptr<resolver> fallback)
        : fallback_(std::move(fallback)) {
        for (auto& [host, addrs] : table) {
            auto& entry = table_[detail::canonical_name(host)];
            entry.insert(entry.end(), addrs.begin(), addrs.end());
        }
    }

    std::shared_ptr<pending_lookup> lookup(const asio::any_io_executor& ex, std::string_view host,
                                           address_family family, callback done) override {
        auto it = table_.find(detail::canonical_name(host));
        if (it == table_.end() && fallback_) return fallback_->lookup(ex, host, family, std::move(done));
        lookup_result result;
        result.source = dns_source::static_table;
        if (it == table_.end()) {
            result.error = make_error_code(error::no_resolver);
        } else {
            for (const auto& a : it->second)
                if (a.is_v6() == (family == address_family::ipv6)) result.addrs.push_back(a);
            if (result.addrs.empty()) result.error = make_error_code(error::no_addresses);
        }
        // The answer is already known; it is posted so that done() never
        // runs inside lookup(). Cancelling it is moot.
        asio::post(ex, [done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
        return detail::answered_lookup();
    }

    // A table entry is the whole truth about its host, so its HTTPS record
    // is "none"; other names are the fallback's.
    std::shared_ptr<pending_lookup> lookup_service(const asio::any_io_executor& ex, std::string_view name,
                                                   service_callback done) override {
        if (fallback_ && table_.find(detail::canonical_name(detail::service_host(name))) == table_.end())
            return fallback_->lookup_service(ex, name, std::move(done));
        return resolver::lookup_service(ex, name, std::move(done));
    }

private:
    std::map<std::string, std::vector<asio::ip::address>, std::less<>> table_;
    std::shared_ptr<resolver> fallback_;
};

}  // namespace

std::shared_ptr<pending_lookup> resolver::lookup_service(const asio::any_io_executor& ex, std::string_view,
                                                         service_callback done) {
    service_result result;
    result.error = make_error_code(error::service_lookup_unsupported);
    asio::post(ex, [done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
    return detail::answered_lookup();
}

std::shared_ptr<resolver> make_system_resolver() { return std::make_shared<system_resolver>(); }

std::shared_ptr<resolver> make_static_resolver(
    std::vector<std::pair<std::string, std::vector<asio::ip::address>>> table, std::shared_ptr<resolver> fallback) {
    return std::make_shared<static_resolver>(std::move(table), std::move(fallback));
}

}  // namespace nettrace
