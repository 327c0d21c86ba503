// Records every hook of a dial with its time, and checks the trace contract:
// pairing, no hook after completion, no two hooks at once.
#pragma once

#include <nettrace/context.hpp>
#include <nettrace/trace.hpp>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace nettrace::testing {

struct trace_event {
    explicit trace_event(std::string k) : kind(std::move(k)) {}
    std::string kind;  // the hook's name (detail/hook_list.hpp)
    std::chrono::steady_clock::time_point at;
    std::size_t attempt = 0;
    boost::asio::ip::tcp::endpoint endpoint;
    connect_outcome outcome = connect_outcome::failed;
    boost::system::error_code error;
    std::vector<boost::asio::ip::address> addrs;
    bool coalesced = false;
    dns_source source = dns_source::none;
    std::string description;                                       // dial_done's describe()
    std::string server_name, version, cipher, alpn, verify_error;  // tls_handshake_*
    bool resumed = false;
    std::string proxy, target, reason;  // proxy_connect_*; proxy also on dial_done
    int status = -1;
};

// What each hook's event keeps for the tests; one overload per info struct,
// the fields a start and its done share copied by one function.
inline void fill(trace_event&, const dial_start_info&) {}
inline void fill(trace_event&, const dns_start_info&) {}
template <class Info>
void fill_dns(trace_event& e, const Info& i) {
    e.addrs.assign(i.addrs.begin(), i.addrs.end());
    e.error = i.error;
    e.coalesced = i.coalesced;
    e.source = i.source;
}
inline void fill(trace_event& e, const dns_answer_info& i) { fill_dns(e, i); }
inline void fill(trace_event& e, const dns_done_info& i) { fill_dns(e, i); }
template <class Info>
void fill_connect(trace_event& e, const Info& i) {
    e.attempt = i.attempt;
    e.endpoint = i.endpoint;
}
inline void fill(trace_event& e, const connect_start_info& i) { fill_connect(e, i); }
inline void fill(trace_event& e, const connect_done_info& i) {
    fill_connect(e, i);
    e.outcome = i.outcome;
    e.error = i.error;
}
inline void fill(trace_event& e, const dial_done_info& i) {
    e.error = i.error;
    e.description = i.describe();
    e.endpoint = i.remote;
    e.proxy = i.proxy;
}
template <class Info>
void fill_tls(trace_event& e, const Info& i) {
    e.server_name = i.server_name;
    e.endpoint = i.remote;
    e.attempt = i.attempt;
}
inline void fill(trace_event& e, const tls_handshake_start_info& i) { fill_tls(e, i); }
inline void fill(trace_event& e, const tls_handshake_done_info& i) {
    fill_tls(e, i);
    e.outcome = i.outcome;
    e.version = i.version;
    e.cipher = i.cipher;
    e.alpn = i.alpn;
    e.resumed = i.resumed;
    e.error = i.error;
    e.verify_error = i.verify_error;
}
template <class Info>
void fill_proxy(trace_event& e, const Info& i) {
    e.proxy = i.proxy;
    e.target = i.target;
    e.endpoint = i.endpoint;
    e.attempt = i.attempt;
}
inline void fill(trace_event& e, const proxy_connect_start_info& i) { fill_proxy(e, i); }
inline void fill(trace_event& e, const proxy_connect_done_info& i) {
    fill_proxy(e, i);
    e.status = i.status;
    e.reason = i.reason;
    e.outcome = i.outcome;
    e.error = i.error;
}

class trace_recorder {
public:
    trace_recorder() : state_(std::make_shared<state>()) {}

    client_trace trace() const {
        auto s = state_;
        client_trace t;
#define NETTRACE_TEST_RECORD(name, info) \
    t.name = [s](const info& i) {        \
        trace_event e(#name);            \
        fill(e, i);                      \
        s->add(std::move(e));            \
    };
        NETTRACE_HOOKS(NETTRACE_TEST_RECORD)
#undef NETTRACE_TEST_RECORD
        return t;
    }

    context attach(const context& parent = {}) const { return with_client_trace(parent, trace()); }

    /// Call from the completion handler: any hook after this is a violation.
    void completed() { state_->completed = true; }

    std::vector<trace_event> events() const {
        std::lock_guard lock(state_->mutex);
        return state_->events;
    }
    std::vector<trace_event> of(const std::string& kind) const {
        std::vector<trace_event> out;
        for (auto& e : events())
            if (e.kind == kind) out.push_back(e);
        return out;
    }
    int hooks_after_completion() const { return state_->after_completion; }
    int overlapping_hooks() const { return state_->overlaps; }

    /// The contract every dial must keep, whatever its outcome.
    void check_contract() const {
        const auto ev = events();
        BOOST_TEST(hooks_after_completion() == 0);
        BOOST_TEST(overlapping_hooks() == 0);
        BOOST_TEST(count("dial_start") == 1u);
        BOOST_TEST(count("dial_done") == 1u);
        if (!ev.empty()) {
            BOOST_TEST(ev.front().kind == "dial_start");
            BOOST_TEST(ev.back().kind == "dial_done");
        }
        BOOST_TEST(count("dns_start") == count("dns_done"));
        const auto starts = of("connect_start");
        for (std::size_t i = 0; i < starts.size(); ++i) BOOST_TEST(starts[i].attempt == i);
        // Each attempt that started a connect, a TLS handshake or a proxy
        // tunnel ends it exactly once.
        check_paired("connect_start", "connect_done");
        check_paired("tls_handshake_start", "tls_handshake_done");
        check_paired("proxy_connect_start", "proxy_connect_done");
        // One winner at the most: among the connects and tunnels, and among the handshakes.
        BOOST_TEST(won("connect_done") + won("proxy_connect_done") <= 1u);
        BOOST_TEST(won("tls_handshake_done") <= 1u);
    }

    std::size_t count(const std::string& kind) const { return of(kind).size(); }

private:
    void check_paired(const std::string& start, const std::string& done) const {
        const auto starts = of(start), dones = of(done);
        BOOST_TEST(starts.size() == dones.size(), start << " " << starts.size() << ", " << done << " " << dones.size());
        for (const auto& st : starts) {
            std::size_t matching = 0;
            for (const auto& d : dones) matching += d.attempt == st.attempt ? 1 : 0;
            BOOST_TEST(matching == 1u, "attempt " << st.attempt << " has " << matching << " " << done);
        }
    }
    std::size_t won(const std::string& done) const {
        std::size_t n = 0;
        for (const auto& d : of(done)) n += d.outcome == connect_outcome::won ? 1 : 0;
        return n;
    }

    struct state {
        std::mutex mutex;
        std::vector<trace_event> events;
        std::atomic<int> in_hook{0};
        std::atomic<int> overlaps{0};
        std::atomic<bool> completed{false};
        std::atomic<int> after_completion{0};

        void add(trace_event e) {
            if (in_hook.fetch_add(1) != 0) ++overlaps;
            if (completed) ++after_completion;
            e.at = std::chrono::steady_clock::now();
            {
                std::lock_guard lock(mutex);
                events.push_back(std::move(e));
            }
            in_hook.fetch_sub(1);
        }
    };
    std::shared_ptr<state> state_;
};

}  // namespace nettrace::testing
