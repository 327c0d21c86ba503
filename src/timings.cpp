// with_timings (timings.hpp): curl-style phases filled from the trace hooks,
// and their one-line summary.
#include <nettrace/timings.hpp>

#include "detail/number_text.hpp"

#include <algorithm>
#include <memory>
#include <ostream>
#include <vector>

namespace nettrace {
namespace {

using clock = std::chrono::steady_clock;

// Shared by the hooks of one with_timings layer. Offsets come from this
// layer's own clock reads, one per hook: hooks of an operation run one after
// another, so the offsets are ordered as the events were, whatever the
// dialer's own clock reads said.
struct timings_state {
    explicit timings_state(timings& o) : out(o) {}
    timings& out;
    clock::time_point start{};
    bool dialing = false;
    struct connected_attempt {
        std::size_t attempt;
        timings::duration at;
    };
    std::vector<connected_attempt> connected;  // stages follow: attempts whose TCP is up
    struct tunnel {
        std::size_t attempt;
        timings::duration elapsed, at;
    };
    std::vector<tunnel> tunnels;  // dial_tls through a proxy: attempts whose tunnel is up

    // Attempt `i` won in its last stage: its TCP connect (and tunnel) are
    // the winner's.
    void won_in_stage(std::size_t i, const boost::asio::ip::tcp::endpoint& remote) {
        for (const auto& c : connected)
            if (c.attempt == i) out.connected_at = c.at;
        for (const auto& t : tunnels)
            if (t.attempt == i) {
                out.proxy = t.elapsed;
                out.proxy_done_at = t.at;
            }
        out.winner = remote.address().is_v6() ? address_family::ipv6 : address_family::ipv4;
        out.remote = remote;
    }

    timings::duration since_start() const { return clock::now() - start; }
};

timings::duration not_negative(timings::duration d) {
    return d < timings::duration::zero() ? timings::duration::zero() : d;
}

// "0 ms" for a phase that did not happen, two decimals below 1 ms (loopback
// phases take microseconds), one above: detail::duration_style::phase.
std::string milliseconds(timings::duration d) { return detail::duration_text(d, detail::duration_style::phase); }

}  // namespace

context with_timings(const context& parent, timings& out) {
    auto state = std::make_shared<timings_state>(out);
    client_trace t;
    t.dial_start = [state](const dial_start_info&) {
        state->out = timings{};
        state->start = clock::now();
        state->dialing = true;
        state->connected.clear();
        state->tunnels.clear();
    };
    t.dns_start = [state](const dns_start_info&) {
        if (state->dialing) return;
        // A resolve() of its own: it starts the clock.
        state->out = timings{};
        state->start = clock::now();
    };
    t.dns_done = [state](const dns_done_info& i) {
        state->out.dns = i.elapsed;
        // The lookup began no earlier than the dial, whose clock this layer
        // starts a moment late (in its dial_start hook): never less than
        // the lookup's own duration.
        state->out.name_lookup_at = std::max(state->since_start(), i.elapsed);
        state->out.source = i.source;
        state->out.coalesced = i.coalesced;
        if (!state->dialing) state->out.error = i.error;
    };
    t.connect_start = [state](const connect_start_info&) { ++state->out.attempts; };
    t.connect_done = [state](const connect_done_info& i) {
        if (i.outcome == connect_outcome::connected) {
            // TCP is up, and a later stage (tunnel, handshake) decides.
            state->connected.push_back({.attempt = i.attempt, .at = state->since_start()});
            return;
        }
        if (i.outcome != connect_outcome::won) return;
        state->out.connected_at = state->since_start();
        state->out.winner = i.endpoint.address().is_v6() ? address_family::ipv6 : address_family::ipv4;
        state->out.remote = i.endpoint;
    };
    t.dial_done = [state](const dial_done_info& i) {
        timings& o = state->out;
        o.total = state->since_start();
        o.error = i.error;
        // A dial cancelled or timed out in the very instant its winner
        // connected reports an error: it has no winner then.
        if (i.error) {
            o.winner.reset();
            o.remote = {};
            o.connected_at = {};
            o.proxy_done_at = {};
        }
        const auto connect_end = o.winner ? o.connected_at : o.attempts > 0 ? o.total : o.name_lookup_at;
        o.connect = not_negative(connect_end - o.name_lookup_at);
        state->dialing = false;
    };
    t.tls_handshake_start = [state](const tls_handshake_start_info&) { state->out.tls_used = true; };
    t.tls_handshake_done = [state](const tls_handshake_done_info& i) {
        timings& o = state->out;
        // The winner's handshake, else (no winner) the last one to end.
        if (o.winner && i.outcome != connect_outcome::won) return;
        o.tls = i.elapsed;
        o.tls_done_at = state->since_start();
        if (i.outcome != connect_outcome::won || o.winner) return;  // o.winner: set by a TCP-won dial
        state->won_in_stage(i.attempt, i.remote);
    };
    t.proxy_connect_start = [state](const proxy_connect_start_info&) { state->out.proxy_used = true; };
    t.proxy_connect_done = [state](const proxy_connect_done_info& i) {
        timings& o = state->out;
        if (i.outcome == connect_outcome::connected) {
            state->tunnels.push_back({.attempt = i.attempt, .elapsed = i.elapsed, .at = state->since_start()});
            return;
        }
        if (o.winner && i.outcome != connect_outcome::won) return;
        o.proxy = i.elapsed;
        o.proxy_done_at = state->since_start();
        if (i.outcome == connect_outcome::won && !o.winner) {
            const auto proxy = o.proxy, proxy_at = o.proxy_done_at;
            state->won_in_stage(i.attempt, i.endpoint);
            o.proxy = proxy;
            o.proxy_done_at = proxy_at;
        }
    };
    return with_client_trace(parent, t);
}

std::string to_string(const timings& t) {
    std::string s = "dns " + milliseconds(t.dns) + ", connect " + milliseconds(t.connect) + " (" +
                    std::to_string(t.attempts) + (t.attempts == 1 ? " attempt" : " attempts");
    if (t.winner) s += ", won by " + std::string(to_string(*t.winner));
    s += ")";
    if (t.proxy_used) s += ", proxy " + milliseconds(t.proxy);
    if (t.tls_used) s += ", tls " + milliseconds(t.tls);
    s += ", total " + milliseconds(t.total);
    if (t.error) s += ", error: " + t.error.message();
    return s;
}

std::ostream& operator<<(std::ostream& os, const timings& t) { return os << to_string(t); }

}  // namespace nettrace
