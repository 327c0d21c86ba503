// A virtual-clock simulator of the sans-I/O racer (src/racer.hpp):
// a "virtual network" in which every endpoint has a scripted behaviour and
// every DNS answer a scripted time, and virtual time jumps from one event to
// the next. It performs the racer's actions as src/detail/dial_op.hpp does and checks
// the racer's invariants on every run (with Boost.Test assertions).
//
// Shared by happy_eyeballs_test.cpp (exact RFC 8305 scenarios) and
// racer_invariants_test.cpp (random fault schedules). Include it after
// <boost/test/unit_test.hpp>.
#pragma once

#include <boost/test/unit_test.hpp>

#include "racer.hpp"
#include "virtual_clock.hpp"

#include <nettrace/error.hpp>
#include <nettrace/trace.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace nettrace::testing::racer_sim {

using namespace nettrace::testing::virtual_clock;
using boost::system::error_code;
using nettrace::connect_outcome;
using nettrace::family_preference;
namespace asio_error = boost::asio::error;
namespace tt = boost::test_tools;
using lines = std::vector<std::string>;
using times = std::vector<long>;

constexpr unsigned short port = 443;
inline bool is_v6(const std::string& a) { return boost::asio::ip::make_address(a).is_v6(); }
inline std::string canonical(const std::string& a) { return boost::asio::ip::make_address(a).to_string(); }

// ---------------------------------------------------------------------------
// The virtual network

// What an endpoint does when dialed. Times are ms after the attempt starts.
struct behaviour {
    enum kind { connects, fails, hole, sockfail } what = hole;
    long after = 0;
    error_code ec{};
    bool ignores_cancel = false;  // completes as scheduled even when cancelled
    // With racer_config::stages_after_connect: what the stage after TCP
    // (TLS) does once `after` has connected it. Times are ms after that.
    enum stage_kind { stage_ok, stage_fails, stage_stalls } stage = stage_ok;
    long stage_after = 0;
    error_code stage_ec{};
};
inline behaviour ok(long after) { return {.what = behaviour::connects, .after = after}; }
inline behaviour fail(long after, error_code ec) { return {.what = behaviour::fails, .after = after, .ec = ec}; }
inline behaviour rst(long after) { return fail(after, asio_error::connection_refused); }
const behaviour hole{};  // never answers unless cancelled
// TCP connects after `tcp`, then the stage after it (TLS) ends after `tls`.
inline behaviour tls_ok(long tcp, long tls) { return {.what = behaviour::connects, .after = tcp, .stage_after = tls}; }
inline behaviour tls_fails(long tcp, long tls, error_code ec) {
    return {
        .what = behaviour::connects, .after = tcp, .stage = behaviour::stage_fails, .stage_after = tls, .stage_ec = ec};
}
inline behaviour tls_stalls(long tcp) {
    return {.what = behaviour::connects, .after = tcp, .stage = behaviour::stage_stalls};
}
// socket() fails at once, inside the start (as src/dial.cpp reports it).
const behaviour sockfail{.what = behaviour::sockfail, .ec = asio_error::address_family_not_supported};

// One family's DNS answer; `at` empty: it never comes (until stop_resolving).
struct answer {
    address_family family;
    std::optional<long> at;
    std::vector<std::string> addrs;
    error_code ec;
};
inline answer AAAA(long at, std::vector<std::string> addrs) { return {address_family::ipv6, at, std::move(addrs), {}}; }
inline answer A(long at, std::vector<std::string> addrs) { return {address_family::ipv4, at, std::move(addrs), {}}; }
inline answer negative(address_family f, long at, nettrace::error e = nettrace::error::no_addresses) {
    return {f, at, {}, make_error_code(e)};
}
inline answer never(address_family f) { return {f, std::nullopt, {}, {}}; }
constexpr auto v6 = address_family::ipv6;
constexpr auto v4 = address_family::ipv4;

// Both families answer at `at` (AAAA first); a family without addresses
// answers NODATA. The list's order within a family is kept.
inline std::vector<answer> resolved_at(long at, const std::vector<std::string>& addrs) {
    std::vector<std::string> six, four;
    for (const auto& a : addrs) (is_v6(a) ? six : four).push_back(a);
    return {six.empty() ? negative(v6, at) : AAAA(at, six), four.empty() ? negative(v4, at) : A(at, four)};
}

struct scenario {
    racer_config config{};
    std::vector<answer> dns{};                           // delivered in this order within one instant
    std::map<std::string, behaviour> net{};              // endpoint address -> behaviour
    behaviour otherwise = hole;                          // for addresses not in net
    std::optional<long> cancel_at{};                     // the caller cancels the dial
    bool cancel_after_peers = false;                     // ... after the other events of that instant
    std::optional<bool> ipv6_pending{}, ipv4_pending{};  // what start() is told; default: families in dns
    bool may_stall = false;    // a run with nothing left to happen ends with result::stalled, not an error
    bool late_events = false;  // after `complete`, deliver what is still scheduled (answers, timer, cancel)
};

struct result {
    lines attempts;                  // "<address> <start>..<end> <outcome>", in start order
    std::vector<std::string> addrs;  // addresses in start order
    times starts;
    std::vector<error_code> errors;
    std::string winner;  // empty: none
    error_code error;
    long done_at = -1;
    std::vector<std::pair<long, long>> timers;  // (armed at, deadline)
    long stopped_resolving_at = -1;             // -1: never
    std::size_t max_in_flight = 0;
    std::vector<act> after_complete;        // actions the racer queued after `complete`
    std::vector<connect_outcome> outcomes;  // per attempt, in start order
    times ends;                             // per attempt: when it finished (-1: still running at a stall)
    bool stalled = false;                   // may_stall: nothing left to happen, and not complete
    long stalled_at = -1;
    std::vector<std::pair<std::size_t, long>> connected;  // with stages: (attempt, when TCP connected)

    bool armed(long when, long deadline) const {
        return std::find(timers.begin(), timers.end(), std::pair{when, deadline}) != timers.end();
    }
};

class virtual_network {
public:
    explicit virtual_network(scenario s) : s_(std::move(s)), racer_(s_.config, port) {
        std::map<std::string, behaviour> net;
        for (auto& [addr, b] : s_.net) net[canonical(addr)] = b;
        s_.net = std::move(net);
        delivered_.assign(s_.dns.size(), false);
    }

    result run() {
        bool p6 = false, p4 = false;
        for (std::size_t i = 0; i < s_.dns.size(); ++i) {
            (s_.dns[i].family == v6 ? p6 : p4) = true;
            if (s_.dns[i].at) push(*s_.dns[i].at, event::dns, i);
        }
        if (s_.cancel_at)
            events_.push_back({*s_.cancel_at,
                               s_.cancel_after_peers ? std::numeric_limits<std::uint64_t>::max() : seq_++,
                               event::cancel,
                               0,
                               {}});
        racer_.start(at_ms(0), s_.ipv6_pending.value_or(p6), s_.ipv4_pending.value_or(p4));
        drain();
        for (int steps = 0; !completed_; ++steps) {
            if (steps == 10000) {
                BOOST_ERROR("no completion after 10000 events");
                break;
            }
            if (events_.empty() && s_.may_stall) {
                stalled();
                break;
            }
            if (events_.empty()) {
                BOOST_ERROR("stalled at " << now_ << " ms: no event pending and the dial is not complete");
                break;
            }
            auto it = std::min_element(events_.begin(), events_.end(), event::earlier);
            const event e = *it;
            events_.erase(it);
            BOOST_TEST_REQUIRE(e.at >= now_);
            now_ = e.at;
            deliver(e, false);
        }
        if (completed_ && s_.late_events) deliver_late_events();
        // `complete` is the racer's last action, with no exception
        // (happy_eyeballs_test.cpp: complete_is_the_last_action).
        for (act a : r_.after_complete) BOOST_ERROR("action " << int(a) << " after complete");
        return r_;
    }

    racer& machine() { return racer_; }

private:
    struct event {
        long at;
        std::uint64_t seq;  // ties at one instant: first scheduled, first delivered
        enum kind_t { dns, done, timer, cancel, connected } kind;
        std::size_t index;  // answer or attempt
        error_code ec;

        static bool earlier(const event& a, const event& b) { return std::pair{a.at, a.seq} < std::pair{b.at, b.seq}; }
    };
    struct record {
        std::string addr;
        long start;
        long end = -1;
        bool finished = false;
        long connected = -1;  // with stages: when TCP connected
    };

    void push(long at, event::kind_t k, std::size_t i, error_code ec = {}) {
        events_.push_back({at, seq_++, k, i, ec});
    }
    std::vector<event>::iterator find(event::kind_t k, std::size_t i) {
        return std::find_if(events_.begin(), events_.end(),
                            [&](const event& e) { return e.kind == k && (k == event::timer || e.index == i); });
    }
    const behaviour& behaviour_of(const std::string& addr) const {
        auto it = s_.net.find(addr);
        return it == s_.net.end() ? s_.otherwise : it->second;
    }

    // Tells the racer of `e` at now_, then performs its actions. A late
    // event (after `complete`) goes to the racer alone: the attempts'
    // records are final, and no stage starts.
    void deliver(const event& e, bool late) {
        switch (e.kind) {
            case event::dns:
                deliver_answer(e.index, e.ec);
                break;
            case event::done:
                if (late)
                    racer_.on_attempt_done(e.index, e.ec, at_ms(now_));
                else
                    finish_attempt(e.index, e.ec);
                break;
            case event::timer:
                racer_.on_timer(at_ms(now_));
                break;
            case event::cancel:
                racer_.cancel(asio_error::operation_aborted, at_ms(now_));
                break;
            case event::connected:
                if (late)
                    racer_.on_connected(e.index, at_ms(now_));
                else
                    transport_connected(e.index);
                break;
        }
        drain();
    }

    // The dial is complete: whatever is still scheduled (a DNS answer, the
    // timer, the caller's cancel) reaches the racer, which must ignore it.
    void deliver_late_events() {
        std::sort(events_.begin(), events_.end(), event::earlier);
        for (const event& e : events_) {
            now_ = std::max(now_, e.at);
            deliver(e, true);
        }
        events_.clear();
    }

    void stalled() {
        r_.stalled = true;
        r_.stalled_at = now_;
        for (std::size_t i = 0; i < recs_.size(); ++i) {
            r_.addrs.push_back(recs_[i].addr);
            r_.starts.push_back(recs_[i].start);
            r_.ends.push_back(recs_[i].finished ? recs_[i].end : -1);
            BOOST_TEST_REQUIRE(i < racer_.attempts().size());
            r_.outcomes.push_back(racer_.attempts()[i].outcome);
            r_.errors.push_back(racer_.attempts()[i].error);
        }
    }

    void deliver_answer(std::size_t i, const error_code& aborted) {
        delivered_[i] = true;
        const answer& ans = s_.dns[i];
        std::vector<boost::asio::ip::address> addrs;
        if (!aborted)
            for (const auto& a : ans.addrs) addrs.push_back(boost::asio::ip::make_address(a));
        racer_.on_answer(ans.family, addrs, aborted ? aborted : ans.ec, at_ms(now_));
    }

    // TCP is up; the stage after it (TLS) runs as scripted.
    void transport_connected(std::size_t i) {
        // As src/dial_op.hpp: once the race is decided, a TCP connect ends
        // its attempt (lost) and starts no stage.
        if (racer_.finished()) return finish_attempt(i, {});
        record& rec = recs_.at(i);
        rec.connected = now_;
        r_.connected.emplace_back(i, now_);
        racer_.on_connected(i, at_ms(now_));
        const behaviour& b = behaviour_of(rec.addr);
        if (b.stage == behaviour::stage_ok) push(now_ + b.stage_after, event::done, i);
        if (b.stage == behaviour::stage_fails) push(now_ + b.stage_after, event::done, i, b.stage_ec);
    }

    void finish_attempt(std::size_t i, const error_code& ec) {
        record& rec = recs_.at(i);
        BOOST_TEST(!rec.finished, "attempt " << i << " finished twice");
        rec.finished = true;
        rec.end = now_;
        --in_flight_;
        if (ec) ++failures_since_start_;
        racer_.on_attempt_done(i, ec, at_ms(now_));
    }

    // Performs the racer's actions until it has none left, like dial_op's
    // drain() (src/detail/dial_op.hpp).
    void drain() {
        while (const auto a = racer_.next()) {
            if (completed_) {
                r_.after_complete.push_back(a->kind());
                continue;
            }
            switch (a->kind()) {
                case act::start_attempt:
                    start(a->attempt());
                    break;
                case act::cancel_attempt:
                    cancel(a->attempt());
                    break;
                case act::set_timer:
                    BOOST_TEST(ms_of(a->deadline()) > now_,
                               "timer armed for " << ms_of(a->deadline()) << " at " << now_);
                    if (auto it = find(event::timer, 0); it != events_.end()) events_.erase(it);
                    push(ms_of(a->deadline()), event::timer, 0);
                    r_.timers.emplace_back(now_, ms_of(a->deadline()));
                    break;
                case act::cancel_timer:
                    if (auto it = find(event::timer, 0); it != events_.end()) events_.erase(it);
                    break;
                case act::stop_resolving:
                    BOOST_TEST(r_.stopped_resolving_at == -1, "stop_resolving twice");
                    r_.stopped_resolving_at = now_;
                    for (std::size_t i = 0; i < s_.dns.size(); ++i) {
                        if (delivered_[i]) continue;
                        if (auto it = find(event::dns, i); it != events_.end()) events_.erase(it);
                        push(now_, event::dns, i, asio_error::operation_aborted);
                    }
                    break;
                case act::complete:
                    complete();
                    break;
            }
        }
    }

    void start(std::size_t i) {
        BOOST_TEST_REQUIRE(i == recs_.size());
        BOOST_TEST_REQUIRE(i < racer_.attempts().size());
        const auto& at = racer_.attempts()[i];
        BOOST_TEST(ms_of(at.started) == now_);
        BOOST_TEST(at.endpoint.port() == port);
        const std::string addr = at.endpoint.address().to_string();
        if (!recs_.empty()) {
            if (!s_.config.race)
                BOOST_TEST(in_flight_ == 0u, addr << " started at " << now_ << " beside another (race=false)");
            // A start not caused by a failure is paced by the attempt delay.
            if (in_flight_ > 0 && failures_since_start_ == 0)
                BOOST_TEST((at_ms(now_) - at_ms(last_start_) >= s_.config.attempt_delay),
                           addr << " started at " << now_ << ", less than the attempt delay after " << last_start_);
        }
        recs_.push_back({addr, now_});
        last_start_ = now_;
        failures_since_start_ = 0;
        r_.max_in_flight = std::max(r_.max_in_flight, ++in_flight_);
        if (s_.config.max_concurrent)
            BOOST_TEST(in_flight_ <= s_.config.max_concurrent, in_flight_ << " attempts in flight at " << now_);
        const behaviour& b = behaviour_of(addr);
        switch (b.what) {
            case behaviour::sockfail:
                finish_attempt(i, b.ec);
                break;  // synchronous, inside the start
            case behaviour::connects:
                push(now_ + b.after, s_.config.stages_after_connect ? event::connected : event::done, i);
                break;
            case behaviour::fails:
                push(now_ + b.after, event::done, i, b.ec);
                break;
            case behaviour::hole:
                break;
        }
    }

    void cancel(std::size_t i) {
        BOOST_TEST_REQUIRE(i < recs_.size());
        BOOST_TEST(!recs_[i].finished, "cancel_attempt for finished attempt " << i);
        if (behaviour_of(recs_[i].addr).ignores_cancel) return;
        auto it = find(event::done, i);
        if (it != events_.end() && it->at <= now_) return;  // its completion is already queued
        if (it != events_.end()) events_.erase(it);
        if (auto c = find(event::connected, i); c != events_.end()) events_.erase(c);  // cancelled mid-TCP
        push(now_, event::done, i, asio_error::operation_aborted);
    }

    void complete() {
        completed_ = true;
        r_.done_at = now_;
        r_.error = racer_.error();
        BOOST_TEST(racer_.completed());
        BOOST_TEST(!racer_.pending(v6));
        BOOST_TEST(!racer_.pending(v4));
        BOOST_TEST(racer_.attempts().size() == recs_.size());
        int won = 0;
        for (std::size_t i = 0; i < recs_.size(); ++i) {
            const auto& at = racer_.attempts()[i];
            BOOST_TEST(recs_[i].finished, "attempt " << i << " (" << recs_[i].addr << ") not finished at complete");
            BOOST_TEST(at.done);
            BOOST_TEST(ms_of(at.finished) == recs_[i].end);
            won += at.outcome == connect_outcome::won;
            std::ostringstream line;
            line << recs_[i].addr << ' ' << recs_[i].start << ".." << recs_[i].end << ' ' << to_string(at.outcome);
            r_.attempts.push_back(line.str());
            r_.addrs.push_back(recs_[i].addr);
            r_.starts.push_back(recs_[i].start);
            r_.errors.push_back(at.error);
            r_.outcomes.push_back(at.outcome);
            r_.ends.push_back(recs_[i].end);
        }
        BOOST_TEST(won <= 1);
        BOOST_TEST(bool(racer_.winner()) == !racer_.error(), "a winner iff no error");
        if (racer_.winner()) {
            BOOST_TEST((racer_.attempts()[*racer_.winner()].outcome == connect_outcome::won));
            r_.winner = recs_[*racer_.winner()].addr;
        } else {
            BOOST_TEST(won == 0);
        }
    }

    scenario s_;
    racer racer_;
    std::vector<event> events_;
    std::uint64_t seq_ = 0;
    std::vector<bool> delivered_;
    std::vector<record> recs_;
    long now_ = 0;
    long last_start_ = 0;
    std::size_t in_flight_ = 0;
    unsigned failures_since_start_ = 0;
    bool completed_ = false;
    result r_;
};

inline result run(scenario s) { return virtual_network(std::move(s)).run(); }

}  // namespace nettrace::testing::racer_sim
