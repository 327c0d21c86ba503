// connection_history: an LRU of outcomes per endpoint and per host, behind
// one mutex (a dial touches it a few times; the lock is not on the connect's
// path of any other thread for longer than a map lookup).
#include <nettrace/history.hpp>

#include "detail/enum_names.hpp"

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

// One key space for both, so that one capacity bounds the whole store:
// an endpoint as its text with port, a host as "host name".
std::string key_of(const boost::asio::ip::tcp::endpoint& e) {
    std::string k = e.address().to_string();
    k += '#';
    k += std::to_string(e.port());
    return k;
}
std::string key_of(std::string_view host) {
    std::string k = "host ";
    for (char c : host) k += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return k;
}

}  // namespace

struct connection_history::impl {
    history_options options;
    mutable std::mutex mutex;
    using value = std::variant<endpoint_entry, host_entry>;
    std::list<std::pair<std::string, value>> lru;  // most recent first
    std::unordered_map<std::string, std::list<std::pair<std::string, value>>::iterator> index;

    value& touch(const std::string& key, value fresh) {
        if (auto it = index.find(key); it != index.end()) {
            lru.splice(lru.begin(), lru, it->second);
            return it->second->second;
        }
        lru.emplace_front(key, std::move(fresh));
        index.emplace(key, lru.begin());
        while (lru.size() > options.capacity) {
            index.erase(lru.back().first);
            lru.pop_back();
        }
        return lru.front().second;
    }

    const value* find(const std::string& key) const {
        const auto it = index.find(key);
        return it == index.end() ? nullptr : &it->second->second;
    }

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
    auto& e = std::get<endpoint_entry>(impl_->touch(key_of(endpoint), endpoint_entry{}));
    const bool smooth = e.state == verdict::kind::won && impl_->fresh(e.when, now);
    e.rtt = smooth ? (e.rtt * 7 + rtt) / 8 : rtt;
    e.state = verdict::kind::won;
    e.when = now;
}

void connection_history::record_failure(const boost::asio::ip::tcp::endpoint& endpoint, attempt_failure why,
                                        clock::time_point now) {
    std::lock_guard lock(impl_->mutex);
    auto& e = std::get<endpoint_entry>(impl_->touch(key_of(endpoint), endpoint_entry{}));
    e.state = verdict::kind::failed;
    e.failure = why;
    e.when = now;
}

void connection_history::record_family_blackhole(std::string_view host, address_family family, clock::time_point now) {
    std::lock_guard lock(impl_->mutex);
    auto& h = std::get<host_entry>(impl_->touch(key_of(host), host_entry{}));
    h.blackholed = family;
    h.when = now;
}

void connection_history::record_family_success(std::string_view host, address_family family, clock::time_point now) {
    std::lock_guard lock(impl_->mutex);
    const auto key = key_of(host);
    if (!impl_->find(key)) return;  // nothing to clear: do not spend an entry on it
    auto& h = std::get<host_entry>(impl_->touch(key, host_entry{}));
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
    impl_->index.clear();
}

}  // namespace nettrace
