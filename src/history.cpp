// connection_history: an LRU of outcomes per endpoint and per host, behind
// one mutex (a dial touches it a few times; the lock is not on the connect's
// path of any other thread for longer than a map lookup).
#include <nettrace/history.hpp>

#include "detail/enum_names.hpp"

#include <array>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <variant>

namespace nettrace {

std::string_view to_string(attempt_failure f) noexcept {
    // In the enumerators' order.
    constexpr std::string_view names[] = {"refused", "unreachable", "timed_out", "superseded"};
    return detail::enum_name(f, names);
}

namespace {

using clock = connection_history::clock;

struct endpoint_entry {
    connection_history::verdict::kind state = connection_history::verdict::kind::unknown;
    std::chrono::nanoseconds rtt{0};
    attempt_failure failure = attempt_failure::refused;
    clock::time_point when{};
};

struct host_entry {
    std::optional<address_family> blackholed;
    clock::time_point when{};
};

// An endpoint's key: its address (IPv4 mapped into IPv6), scope and port,
// on the stack: looking an endpoint up allocates nothing.
struct endpoint_key {
    std::array<unsigned char, 16> address{};
    unsigned long scope = 0;
    unsigned short port = 0;
    bool operator==(const endpoint_key&) const = default;
};

endpoint_key key_of(const boost::asio::ip::tcp::endpoint& e) {
    endpoint_key k;
    const auto a = e.address();
    const auto v6 = a.is_v6() ? a.to_v6() : boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, a.to_v4());
    k.address = v6.to_bytes();
    k.scope = v6.scope_id();
    k.port = e.port();
    return k;
}

struct endpoint_hash {
    std::size_t operator()(const endpoint_key& k) const noexcept {
        std::size_t h = k.port ^ (k.scope << 16);
        for (unsigned char c : k.address) h = h * 131 + c;
        return h;
    }
};

// A host's key: its name in lower case.
std::string key_of(std::string_view host) {
    std::string k(host);
    for (char& c : k) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return k;
}

}  // namespace

// One LRU list over endpoints and hosts, so that one capacity bounds the
// whole store; an index per kind of key.
struct connection_history::impl {
    history_options options;
    mutable std::mutex mutex;
    using value = std::variant<endpoint_entry, host_entry>;
    struct node {
        endpoint_key endpoint;
        std::string host;  // empty for an endpoint's node
        value v;
    };
    std::list<node> lru;  // most recent first
    std::unordered_map<endpoint_key, std::list<node>::iterator, endpoint_hash> endpoints;
    std::unordered_map<std::string, std::list<node>::iterator> hosts;

    template <class Index, class Key>
    value& touch(Index& index, const Key& key, node fresh) {
        if (auto it = index.find(key); it != index.end()) {
            lru.splice(lru.begin(), lru, it->second);
            return it->second->v;
        }
        lru.push_front(std::move(fresh));
        index.emplace(key, lru.begin());
        while (lru.size() > options.capacity) {
            if (lru.back().host.empty())
                endpoints.erase(lru.back().endpoint);
            else
                hosts.erase(lru.back().host);
            lru.pop_back();
        }
        return lru.front().v;
    }
    value& touch(const endpoint_key& key) { return touch(endpoints, key, node{key, {}, endpoint_entry{}}); }
    value& touch(const std::string& key) { return touch(hosts, key, node{{}, key, host_entry{}}); }

    template <class Index, class Key>
    static const value* find(const Index& index, const Key& key) {
        const auto it = index.find(key);
        return it == index.end() ? nullptr : &it->second->v;
    }
    const value* find(const endpoint_key& key) const { return find(endpoints, key); }
    const value* find(const std::string& key) const { return find(hosts, key); }

    bool fresh(clock::time_point when, clock::time_point now) const { return now - when < options.ttl; }
};

connection_history::connection_history(history_options options) : impl_(std::make_unique<impl>()) {
    if (options.capacity == 0) options.capacity = 1;
    impl_->options = options;
}

connection_history::~connection_history() = default;

void connection_history::record_success(const boost::asio::ip::tcp::endpoint& endpoint, std::chrono::nanoseconds rtt,
                                        clock::time_point now) {
    std::lock_guard lock(impl_->mutex);
    auto& e = std::get<endpoint_entry>(impl_->touch(key_of(endpoint)));
    const bool smooth = e.state == verdict::kind::won && impl_->fresh(e.when, now);
    e.rtt = smooth ? (e.rtt * 7 + rtt) / 8 : rtt;
    e.state = verdict::kind::won;
    e.when = now;
}

void connection_history::record_failure(const boost::asio::ip::tcp::endpoint& endpoint, attempt_failure why,
                                        clock::time_point now) {
    std::lock_guard lock(impl_->mutex);
    auto& e = std::get<endpoint_entry>(impl_->touch(key_of(endpoint)));
    e.state = verdict::kind::failed;
    e.failure = why;
    e.when = now;
}

void connection_history::record_family_blackhole(std::string_view host, address_family family, clock::time_point now) {
    std::lock_guard lock(impl_->mutex);
    auto& h = std::get<host_entry>(impl_->touch(key_of(host)));
    h.blackholed = family;
    h.when = now;
}

void connection_history::record_family_success(std::string_view host, address_family family, clock::time_point now) {
    std::lock_guard lock(impl_->mutex);
    const auto key = key_of(host);
    if (!impl_->find(key)) return;  // nothing to clear: do not spend an entry on it
    auto& h = std::get<host_entry>(impl_->touch(key));
    if (h.blackholed == family) h.blackholed.reset();
    h.when = now;
}

connection_history::verdict connection_history::lookup(const boost::asio::ip::tcp::endpoint& endpoint,
                                                       clock::time_point now) const {
    std::lock_guard lock(impl_->mutex);
    const auto* v = impl_->find(key_of(endpoint));
    if (!v) return {};
    const auto& e = std::get<endpoint_entry>(*v);
    if (!impl_->fresh(e.when, now)) return {};
    verdict out;
    out.state = e.state;
    out.rtt = e.rtt;
    if (e.state == verdict::kind::failed) out.failure = e.failure;
    return out;
}

std::optional<address_family> connection_history::blackholed_family(std::string_view host,
                                                                    clock::time_point now) const {
    std::lock_guard lock(impl_->mutex);
    const auto* v = impl_->find(key_of(host));
    if (!v) return std::nullopt;
    const auto& h = std::get<host_entry>(*v);
    if (!impl_->fresh(h.when, now)) return std::nullopt;
    return h.blackholed;
}

std::size_t connection_history::size() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->lru.size();
}

const std::shared_ptr<connection_history>& default_history() {
    static const auto history = std::make_shared<connection_history>();
    return history;
}

void connection_history::clear() {
    std::lock_guard lock(impl_->mutex);
    impl_->lru.clear();
    impl_->endpoints.clear();
    impl_->hosts.clear();
}

}  // namespace nettrace
