// The dial operation: the thin I/O layer that drives the sans-I/O racer with
// Asio sockets, one timer and a resolver, and fires the hooks. One template
// serves dial (Final = tcp_final: the result is the TCP socket) and dial_tls
// (tls_final, src/tls.cpp: a TLS stream), so both share one attempt
// pipeline: open -> bind -> socket options -> control hook -> connect ->
// [the proxy tunnel] -> [the final stage: the TLS handshake] -> done.
//
// Through a proxy (dial_options::proxy) the race is over the proxy's
// addresses, and the tunnel (src/proxy_tunnel.cpp) is one more stage: an
// attempt wins when its tunnel, and its handshake if one follows, is up.
// For socks5:// the target's name is looked up first (its own DNS hooks),
// and the proxy is asked for an address.
//
// With the final stage in the race (dial_tls's default), an attempt wins
// when its handshake completes; otherwise (plain dial, or dial_tls with
// tls_options::race off) the TCP winner wins, and dial_tls handshakes on it
// after the race.
#pragma once

#include <nettrace/address.hpp>
#include <nettrace/error.hpp>

#include "dialer_state.hpp"
#include "lookup_operation.hpp"
#include "proxy_route.hpp"
#include "saturate.hpp"
#include "spare_socket.hpp"
#include "tcp_final.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/container/small_vector.hpp>
#include <boost/system/system_error.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <string>

namespace nettrace::detail {

template <class Final>
class dial_op final : public lookup_operation<void(boost::system::error_code, typename Final::stream_type)> {
    using stream_type = typename Final::stream_type;
    using base = lookup_operation<void(boost::system::error_code, stream_type)>;
    using tcp = boost::asio::ip::tcp;
    using error_code = boost::system::error_code;

public:
    dial_op(std::shared_ptr<const dialer_state> state, context ctx, std::string network, std::string address,
            boost::asio::any_io_executor ex, boost::asio::any_completion_executor handler_ex,
            typename base::handler_type handler, Final final)
        : base(std::move(ex), state->options.single_threaded, std::move(ctx), std::move(handler),
               std::move(handler_ex)),
          state_(std::move(state)),
          network_(std::move(network)),
          address_(std::move(address)),
          final_(std::move(final)) {
        // Made first: on a fresh io_context this creates the reactor, which
        // at the descriptor limit fails. The dial then completes with that
        // error (run() checks start_error_) and hands back a spare socket:
        // an exception from here would leave io_context::run() (or, in a
        // coroutine, abandon it) and lose the dial. This stream is also the
        // result when no attempt wins, so completing never makes one.
        try {
            final_.emplace(first_, this->ex_);
        } catch (const boost::system::system_error& e) {
            start_error_ = e.code();
            final_.emplace(first_, spare_socket());
        }
    }

    /// Makes the dial fail with `ec` before any DNS or connect (its hooks
    /// still pair: dial_start, then dial_done). Call before initiate().
    [[gnu::cold]] void refuse(const error_code& ec) {
        if (!start_error_) start_error_ = ec;
    }

    void initiate() {
        base::template initiate<dial_op>([](dial_op& op) { op.run(); });
    }

private:
    void run() {
        started_ = clock::now();
        if (this->trace_) this->fire(this->trace_->dial_start, dial_start_info{network_, address_});
        if (start_error_) return complete(start_error_);
        // A context whose deadline has passed (Go: ctx.Done() before Dial)
        // fails before any DNS or connect.
        if (const auto end = context_deadline(this->ctx_); end && *end <= started_)
            return complete(make_error_code(error::timeout));

        error_code ec;
        const auto net = parse_network(network_, ec);
        if (!net) return complete(ec);
        auto hp = parse_host_port(address_, ec);
        if (!hp) return complete(ec);
        this->host_ = std::move(hp->host);

        const auto pref = state_->options.preference;
        const bool ipv6 = *net != network::tcp4 && pref != family_preference::ipv4_only;
        const bool ipv4 = *net != network::tcp6 && pref != family_preference::ipv6_only;

        if (const proxy* p = state_->options.proxy.select(Final::tls, this->host_, hp->port))
            return start_proxied(*p, this->host_, hp->port, hp->ip, ipv6, ipv4);

        racer_config config = state_->racer;
        config.stages_after_connect = final_.stage_in_race();
        config.deadline = context_deadline(this->ctx_);
        racer_.emplace(config, hp->port);
        if (hp->ip) {
            // IP literals skip DNS, and its hooks, as in Go.
            const auto family = hp->ip->is_v6() ? address_family::ipv6 : address_family::ipv4;
            if (family == address_family::ipv6 ? !ipv6 : !ipv4)
                return complete(make_error_code(error::no_suitable_address));
            racer_->start(started_, family == address_family::ipv6, family == address_family::ipv4);
            racer_->on_answer(family, std::span(&*hp->ip, 1), {}, started_);
        } else {
            if (!ipv6 && !ipv4) return complete(make_error_code(error::no_suitable_address));
            racer_->start(started_, ipv6, ipv4);
            this->start_lookups(*state_->options.resolver, ipv6, ipv4, started_);
        }
        drain();
    }

    void on_answer(address_family f, clock::time_point now) override {
        if (route_ && route_->target_lookup) return on_target_answer();
        racer_->on_answer(f, this->lookup(f).addrs, this->lookup(f).error, now);
        drain();
    }

    // --- Through a proxy --------------------------------------------------

    [[gnu::cold]] void start_proxied(const proxy& p, const std::string& host, std::uint16_t port,
                                     const std::optional<boost::asio::ip::address>& ip, bool ipv6, bool ipv4) {
        route_ = std::make_unique<proxy_route>();
        route_->begin(p, host, port, ip, ipv6, ipv4);
        if (!ipv6 && !ipv4) return complete(make_error_code(error::no_suitable_address));
        if (route_->target_lookup) {
            // socks5:// resolves the target here; it is bounded by the
            // dial's timeout like the rest (the racer is not started yet).
            if (const auto end = deadline()) arm_timer(*end);
            return this->start_lookups(*state_->options.resolver, ipv6, ipv4, started_);
        }
        connect_to_proxy();
    }

    [[gnu::cold]] void on_target_answer() {
        if (this->lookups_pending()) return;
        route_->target_lookup = false;
        if (timer_) timer_->cancel();
        if (route_->target_error) return complete(route_->target_error);
        const auto& v6 = this->lookup(address_family::ipv6);
        const auto& v4 = this->lookup(address_family::ipv4);
        if (!route_->choose_target(v6.addrs, v4.addrs, state_->options.preference))
            return complete(combine_lookup_errors(v6.error, v4.error));
        connect_to_proxy();
    }

    [[gnu::cold]] void connect_to_proxy() {
        route_->target_known();
        racer_config config = state_->racer;
        config.stages_after_connect = true;
        config.deadline = context_deadline(this->ctx_);
        racer_.emplace(config, route_->via->port());
        error_code ignored;
        const auto ip = parse_ip_literal(route_->via->host(), ignored);
        this->host_ = route_->via->host();
        if (ip) {
            const bool v6 = ip->is_v6();
            if (v6 ? !route_->want_ipv6 : !route_->want_ipv4)
                return complete(make_error_code(error::no_suitable_address));
            racer_->start(started_, v6, !v6);
            racer_->on_answer(v6 ? address_family::ipv6 : address_family::ipv4, std::span(&*ip, 1), {}, clock::now());
        } else {
            racer_->start(started_, route_->want_ipv6, route_->want_ipv4);
            this->start_lookups(*state_->options.resolver, route_->want_ipv6, route_->want_ipv4, clock::now());
        }
        drain();
    }

    [[gnu::cold]] void start_tunnel(std::size_t i) {
        proxy_tunnel& tunnel = route_->add_tunnel(i);
        if (this->trace_)
            this->fire(this->trace_->proxy_connect_start,
                       proxy_connect_start_info{.scheme = route_->via->scheme(),
                                                .proxy = route_->text,
                                                .endpoint = racer_->attempts()[i].endpoint,
                                                .target = route_->target_text,
                                                .attempt = i});
        const auto started = clock::now();
        tunnel.start(Final::lowest(stream(i)), this->strand_, saturating_duration<clock>(state_->options.proxy_timeout),
                     this->shared_from_this(), [this, i, started](const error_code& ec) {
                         this->resumed();
                         tunnel_done(i, ec, started);
                         drain();
                     });
    }

    [[gnu::cold]] void tunnel_done(std::size_t i, const error_code& ec, clock::time_point started) {
        const auto now = clock::now();
        const proxy_tunnel& t = *route_->tunnels[i];
        const bool stage_follows = Final::has_stage && !ec && final_.stage_in_race() && !racer_->finished();
        if (!stage_follows) {
            if (ec) stage_failures_.push_back({i, route_->step_name(), route_->cause_of(t)});
            racer_->on_attempt_done(i, ec, now);
        }
        const auto& a = racer_->attempts()[i];
        if (!stage_follows && a.outcome != connect_outcome::won) close(i);
        if (this->trace_)
            this->fire(this->trace_->proxy_connect_done,
                       proxy_connect_done_info{.scheme = route_->via->scheme(),
                                               .proxy = route_->text,
                                               .endpoint = a.endpoint,
                                               .target = route_->target_text,
                                               .attempt = i,
                                               .status = t.status(),
                                               .reason = t.reason(),
                                               .outcome = stage_follows ? connect_outcome::connected : a.outcome,
                                               .error = stage_follows ? error_code() : a.error,
                                               .elapsed = now - started});
        if constexpr (Final::has_stage)
            if (stage_follows) start_stage(i);
    }

    [[gnu::cold]] void on_cancel() override {
        if (this->completed()) return;
        if (route_ && route_->target_lookup) {
            if (!route_->target_error) route_->target_error = boost::asio::error::operation_aborted;
            return this->stop_lookups();
        }
        if (!racer_) return;
        if (!racer_->finished()) {
            racer_->cancel(boost::asio::error::operation_aborted, clock::now());
            return drain();
        }
        if (Final::has_stage && after_race_stage_) {  // dial_tls without the race: in the winner's handshake
            stage_error_ = boost::asio::error::operation_aborted;
            cancel_attempt(*racer_->winner());
        }
    }

    // Performs the racer's actions until it has none left.
    void drain() {
        using type = racer_action::type;
        bool complete_now = false;
        while (const auto a = racer_->next()) {
            switch (a->kind()) {
                case type::start_attempt:
                    start_attempt(a->attempt());
                    break;
                case type::cancel_attempt:
                    cancel_attempt(a->attempt());
                    break;
                case type::set_timer:
                    arm_timer(a->deadline());
                    break;
                case type::cancel_timer:
                    if (timer_) timer_->cancel();
                    break;
                case type::stop_resolving:
                    this->stop_lookups();
                    break;
                case type::complete:
                    complete_now = true;
                    break;
            }
        }
        if (!complete_now) return;
        if constexpr (Final::has_stage)
            if (!racer_->error() && final_.stage_after_race()) return start_after_race_stage();
        complete(racer_->error());
    }

    void arm_timer(clock::time_point deadline) {
        if (!timer_) timer_ = std::make_unique<boost::asio::steady_timer>(this->strand_);
        timer_->expires_at(deadline);
        timer_->async_wait([self = this->shared_from_this(), this](const error_code& ec) {
            this->resumed();
            if (ec == boost::asio::error::operation_aborted) return;
            if (route_ && route_->target_lookup) {
                route_->target_error = make_error_code(error::timeout);
                return this->stop_lookups();
            }
            if constexpr (Final::has_stage)
                if (after_race_stage_) return on_stage_deadline();
            racer_->on_timer(clock::now());
            drain();
        });
    }

    [[gnu::cold]] void cancel_attempt(std::size_t i) {
        error_code ignored;
        Final::lowest(stream(i)).cancel(ignored);
    }

    void start_attempt(std::size_t i) {
        const tcp::endpoint endpoint = racer_->attempts()[i].endpoint;
        tcp::socket& socket = Final::lowest(add_stream(i));
        if (this->trace_) this->fire(this->trace_->connect_start, connect_start_info{network_, endpoint, i});
        if (error_code ec = open(socket, endpoint, i)) {
            // Failing to create or set up the socket (no IPv6 stack, no
            // local address, the control hook) ends the attempt at once and
            // frees its delay slot.
            return transport_done(i, ec);
        }
        this->with_concrete(this->strand_, [&](const auto& strand) {
            socket.async_connect(endpoint, boost::asio::bind_executor(strand, [self = this->shared_from_this(), this,
                                                                               i](const error_code& ec) {
                                     this->resumed();
                                     transport_done(i, ec);
                                     drain();
                                 }));
        });
    }

    error_code open(tcp::socket& socket, const tcp::endpoint& endpoint, std::size_t i) {
        const auto& o = state_->options;
        error_code ec;
        if (endpoint.address().is_v6() ? (!o.local_ipv6 && o.local_ipv4) : (!o.local_ipv4 && o.local_ipv6))
            return make_error_code(error::no_local_address);
        socket.open(endpoint.protocol(), ec);
        if (!ec && endpoint.address().is_v6() && o.local_ipv6) socket.bind({*o.local_ipv6, 0}, ec);
        if (!ec && endpoint.address().is_v4() && o.local_ipv4) socket.bind({*o.local_ipv4, 0}, ec);
        if (!ec) ec = apply_socket_options(socket, o);
        if (!ec && o.control) {
            try {
                ec = o.control(socket, control_info{network_, endpoint, i});
            } catch (const boost::system::system_error& e) {
                ec = e.code();
            } catch (...) {
                ec = boost::asio::error::fault;
            }
        }
        return ec;
    }

    // The TCP connect of attempt i ended.
    void transport_done(std::size_t i, const error_code& ec) {
        const auto now = clock::now();
        const bool stage_follows =
            !ec && (route_ || (Final::has_stage && final_.stage_in_race())) && !racer_->finished();
        if (stage_follows)
            racer_->on_connected(i, now);
        else
            racer_->on_attempt_done(i, ec, now);
        const auto& a = racer_->attempts()[i];
        if (!stage_follows && a.outcome != connect_outcome::won) close(i);
        if (this->trace_)
            this->fire(this->trace_->connect_done,
                       connect_done_info{.network = network_,
                                         .endpoint = a.endpoint,
                                         .attempt = i,
                                         .error = stage_follows ? error_code() : a.error,
                                         .outcome = stage_follows ? connect_outcome::connected : a.outcome,
                                         .elapsed = now - a.started});
        if (stage_follows && route_) return start_tunnel(i);
        if constexpr (Final::has_stage)
            if (stage_follows) start_stage(i);
    }

    void start_stage(std::size_t i) {
        stage_started_ = clock::now();
        if (this->trace_)
            this->fire(this->trace_->tls_handshake_start,
                       tls_handshake_start_info{final_.stage_peer_name(), racer_->attempts()[i].endpoint, i});
        final_.start_stage(
            *this, stream(i),
            boost::asio::bind_executor(this->strand_, [self = this->shared_from_this(), this, i](const error_code& ec) {
                this->resumed();
                stage_done(i, ec);
                drain();
            }));
    }

    // The final stage of attempt i ended (in the race).
    void stage_done(std::size_t i, const error_code& ec) {
        if (ec) note_stage_failure(i);
        racer_->on_attempt_done(i, ec, clock::now());
        const auto& a = racer_->attempts()[i];
        if (a.outcome != connect_outcome::won) close(i);
        report_stage(i, a.error, a.outcome, a.connected ? *a.connected : stage_started_);
    }

    void report_stage(std::size_t i, const error_code& ec, connect_outcome outcome, clock::time_point since) {
        if (!this->trace_ || !this->trace_->tls_handshake_done) return;
        tls_handshake_done_info info;
        info.server_name = final_.stage_peer_name();
        info.remote = racer_->attempts()[i].endpoint;
        info.attempt = i;
        info.outcome = outcome;
        info.error = ec;
        info.elapsed = clock::now() - since;
        info.hook_exception = this->hook_exception_;
        final_.report_stage(stream(i), ec, info);
        this->fire(this->trace_->tls_handshake_done, info);
    }

    // dial_tls without the race: the TCP winner's handshake, bounded by what
    // is left of the dial's timeout.
    [[gnu::cold]] void start_after_race_stage() {
        after_race_stage_ = true;
        if (const auto end = deadline()) arm_timer(*end);
        const std::size_t w = *racer_->winner();
        stage_started_ = clock::now();
        if (this->trace_)
            this->fire(this->trace_->tls_handshake_start,
                       tls_handshake_start_info{final_.stage_peer_name(), racer_->attempts()[w].endpoint, w});
        final_.start_stage(
            *this, stream(w),
            boost::asio::bind_executor(this->strand_, [self = this->shared_from_this(), this, w](error_code ec) {
                this->resumed();
                if (timer_) timer_->cancel();
                // A cancellation or timeout that raced the
                // handshake's end wins: the caller asked for it.
                if (stage_error_) ec = stage_error_;
                if (ec && !stage_error_) note_stage_failure(w);
                if (ec) close(w);
                report_stage(w, ec,
                             ec ? (ec == boost::asio::error::operation_aborted || ec == error::timeout
                                       ? connect_outcome::cancelled
                                       : connect_outcome::failed)
                                : connect_outcome::won,
                             stage_started_);
                complete(ec);
            }));
    }

    [[gnu::cold]] void on_stage_deadline() {
        stage_error_ = make_error_code(error::timeout);
        cancel_attempt(*racer_->winner());
    }

    // Which attempts failed in their final stage, and why (a TLS verify
    // error), for dial_done's description.
    [[gnu::cold]] void note_stage_failure(std::size_t i) {
        stage_failures_.push_back({i, final_.stage_name(), final_.stage_cause(stream(i))});
    }

    // When the dial must be over: its timeout after its start, or the
    // context's deadline (with_deadline), whichever is first.
    std::optional<clock::time_point> deadline() const {
        auto end = context_deadline(this->ctx_);
        if (const auto timeout = state_->racer.timeout; timeout > clock::duration::zero()) {
            const auto own = saturating_add(started_, timeout);
            if (!end || own < *end) end = own;
        }
        return end;
    }

    // Which of the two a timeout was, for dial_done's description.
    std::string_view timeout_cause() const {
        const auto ctx = context_deadline(this->ctx_);
        const auto timeout = state_->racer.timeout;
        const bool by_context =
            ctx && (timeout <= clock::duration::zero() || *ctx <= saturating_add(started_, timeout));
        return by_context ? "the context's deadline expired" : "dial_options::timeout expired";
    }

    void close(std::size_t i) {
        error_code ignored;
        Final::lowest(stream(i)).close(ignored);
    }

    void complete(const error_code& ec) {
        this->release_lookups();
        const std::size_t result_index = racer_ && racer_->winner() && !ec ? *racer_->winner() : 0;
        if (ec && racer_ && racer_->winner()) close(*racer_->winner());
        stream_type result = std::move(stream(result_index));
        if (this->trace_ && this->trace_->dial_done) report_done(ec, Final::lowest(result));
        first_.reset();
        more_.reset();
        timer_.reset();
        base::complete(ec, std::move(result));
    }

    void report_done(const error_code& ec, const tcp::socket& result) {
        // Inline room for two attempts: a traced dial of one or two addresses allocates nothing here.
        boost::container::small_vector<attempt_record, 2> records;
        if (racer_)
            for (const auto& a : racer_->attempts())
                records.push_back({.endpoint = a.endpoint,
                                   .error = a.error,
                                   .outcome = a.outcome,
                                   .started = a.started - started_,
                                   .elapsed = a.finished - a.started});
        dial_done_info info{.network = network_,
                            .address = address_,
                            .error = ec,
                            .remote = {},
                            .local = {},
                            .attempts = std::span(records.data(), records.size()),
                            .elapsed = clock::now() - started_,
                            .hook_exception = this->hook_exception_};
        error_code ignored;
        if (!ec) {
            info.remote = result.remote_endpoint(ignored);
            info.local = result.local_endpoint(ignored);
        }
        // Name the step that failed when it was not a connect: the lookup
        // (with its servers) or a handshake (with why verification failed).
        std::string step;
        if (const auto* failed = records.empty() ? this->failed_lookup(ec) : nullptr) {
            step = "lookup " + this->host_ + (failed->servers.empty() ? "" : " on " + failed->servers);
            info.cause = failed->cause;
        } else if (ec && racer_) {
            for (const auto& f : stage_failures_)
                if (f.attempt < racer_->attempts().size() &&
                    (racer_->attempts()[f.attempt].error == ec || after_race_stage_)) {
                    step = std::string(f.stage) + " with " + join_host_port(racer_->attempts()[f.attempt].endpoint);
                    info.cause = f.cause;
                    break;
                }
        }
        info.step = step;
        if (ec == error::timeout && step.empty()) info.cause = timeout_cause();
        if (route_) info.proxy = route_->text;
        this->fire(this->trace_->dial_done, info);
    }

    // One stream per attempt, by index, never moved while it is in use. The
    // first lives inline, so a dial of one address allocates none; the
    // others in a deque, made only when needed.
    stream_type& stream(std::size_t i) { return i == 0 ? *first_ : (*more_)[i - 1]; }
    stream_type& add_stream(std::size_t i) {
        if (i == 0) return *first_;
        if (!more_) more_ = std::make_unique<std::deque<stream_type>>();
        return final_.emplace_back(*more_, this->ex_);
    }

    std::shared_ptr<const dialer_state> state_;
    std::string network_;
    std::string address_;
    Final final_;
    std::unique_ptr<boost::asio::steady_timer> timer_;  // made when first armed: a dial of one address never is
    clock::time_point started_{};
    clock::time_point stage_started_{};
    std::optional<racer> racer_;
    error_code start_error_;  // the first socket could not be made (see the constructor)
    error_code stage_error_;  // after the race: cancelled or timed out during the handshake
    bool after_race_stage_ = false;
    struct stage_failure {
        std::size_t attempt;
        std::string_view stage;  // static text: "tls handshake", "proxy CONNECT"
        std::string_view cause;  // static text (OpenSSL's verify error strings) or the route's
    };
    // Through a proxy: which, where the tunnel goes, each attempt's tunnel;
    // made only then, so a direct dial builds and destroys none of it.
    std::unique_ptr<proxy_route> route_;
    boost::container::small_vector<stage_failure, 1> stage_failures_;
    std::optional<stream_type> first_;
    std::unique_ptr<std::deque<stream_type>> more_;
};

}  // namespace nettrace::detail
