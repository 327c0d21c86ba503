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
#include "host_port_view.hpp"
#include "nat64_probe.hpp"
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
#include <vector>

namespace nettrace::detail {

/// "[::1]:80,127.0.0.1:81": an endpoint list as dial_start's address.
std::string describe_endpoints(std::span<const boost::asio::ip::tcp::endpoint> endpoints);

template <class Final>
class dial_op final : public lookup_operation<void(boost::system::error_code, typename Final::stream_type)> {
    using stream_type = typename Final::stream_type;
    using base = lookup_operation<void(boost::system::error_code, stream_type)>;
    using tcp = boost::asio::ip::tcp;
    using error_code = boost::system::error_code;

public:
    dial_op(std::shared_ptr<const dialer_state>&& state, context&& ctx, std::string&& network, std::string&& address,
            boost::asio::any_io_executor&& ex, boost::asio::any_completion_executor&& handler_ex,
            typename base::handler_type&& handler, Final&& final)
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

    /// Dials these endpoints instead of resolving `address` (which is then
    /// only their description for the trace). Call before initiate().
    void set_endpoints(std::vector<tcp::endpoint> endpoints) {
        endpoints_ = std::make_unique<std::vector<tcp::endpoint>>(std::move(endpoints));
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
        const auto pref = state_->options.preference;
        const bool ipv6 = *net != network::tcp4 && pref != family_preference::ipv4_only;
        const bool ipv4 = *net != network::tcp6 && pref != family_preference::ipv6_only;
        nat64_wanted_ = *net == network::tcp && ipv6 && state_->options.nat64.mode != nat64_mode::off;
        if (endpoints_) [[unlikely]]
            return start_endpoints(ipv6, ipv4);

        const auto hp = split_host_port(address_, ec);
        if (!hp) return complete(ec);
        this->host_.assign(hp->host);

        if (const proxy* p = state_->options.proxy.select(Final::tls, this->host_, hp->port))
            return start_proxied(*p, this->host_, hp->port, hp->ip, ipv6, ipv4);

        racer_config config = state_->racer;
        config.stages_after_connect = final_.stage_in_race();
        config.deadline = context_deadline(this->ctx_);
        if (auto* h = state_->options.history.get()) [[unlikely]] {
            config.history = h;
            config.avoid = h->blackholed_family(this->host_);
        }
        racer_.emplace(config, hp->port);
        if (hp->ip) {
            // IP literals skip DNS, and its hooks, as in Go.
            const auto family = hp->ip->is_v6() ? address_family::ipv6 : address_family::ipv4;
            if (family == address_family::ipv6 ? !ipv6 : !ipv4)
                return complete(make_error_code(error::no_suitable_address));
            racer_->start(started_, family == address_family::ipv6, family == address_family::ipv4);
            if (family == address_family::ipv4 && nat64_wanted_ && !ipv4_answer_ready(*hp->ip)) [[unlikely]]
                held_literal_ = *hp->ip;
            else
                racer_->on_answer(family, std::span(&*hp->ip, 1), {}, started_);
        } else {
            if (!ipv6 && !ipv4) return complete(make_error_code(error::no_suitable_address));
            const bool https = wants_https();
            racer_->start(started_, ipv6, ipv4, https);
            this->start_lookups(*state_->options.resolver, ipv6, ipv4, started_);
            if (https) [[unlikely]]
                this->start_service_lookups(
                    *state_->options.resolver,
                    service_resolution(this->host_, hp->port, final_.client_alpn(), Final::tls, ipv6, ipv4));
        }
        drain();
    }

    // dial_options::https_records: by default for dial_tls only.
    bool wants_https() const noexcept {
        switch (state_->options.https_records) {
            case https_records_mode::never:
                return false;
            case https_records_mode::always:
                return true;
            case https_records_mode::tls_only:
                break;
        }
        return Final::tls;
    }

    void on_services(clock::time_point now) override {
        if (!racer_ || route_) return;
        const auto groups = this->services()->groups();
        racer_->on_services(groups, now);
        drain();
    }

    // --- A list of endpoints --------------------------------------------

    [[gnu::cold]] void start_endpoints(bool ipv6, bool ipv4) {
        if (endpoints_->empty()) return complete(make_error_code(error::empty_endpoint_list));
        std::erase_if(*endpoints_, [&](const tcp::endpoint& e) { return e.address().is_v6() ? !ipv6 : !ipv4; });
        if (endpoints_->empty()) return complete(make_error_code(error::no_suitable_address));
        racer_config config = state_->racer;
        config.stages_after_connect = final_.stage_in_race();
        config.deadline = context_deadline(this->ctx_);
        config.keep_order = state_->options.keep_endpoint_order;
        config.history = state_->options.history.get();
        racer_.emplace(config, 0);
        racer_->start(started_, true, true);
        racer_->on_endpoints(*endpoints_, started_);
        drain();
    }

    // --- NAT64 -----------------------------------------------------------

    // Whether an IPv4 answer can go to the racer now: yes when NAT64 is not
    // needed (the host has a route to it) or its prefix is known (set on the
    // racer); no while the prefix is being discovered (RFC 7050), which then
    // delivers the held answer.
    [[gnu::cold]] bool ipv4_answer_ready(const boost::asio::ip::address& first) {
        nat64_wanted_ = false;  // decided once per dial
        if (has_route(*state_, first, started_)) return true;
        if (auto prefix = known_nat64_prefix(*state_)) {
            racer_->set_nat64(*prefix, clock::now());
            return true;
        }
        nat64_lookup_ = discover_nat64(
            *state_, this->strand_, [self = this->shared_from_this(), this](std::optional<nat64_prefix> prefix) {
                this->resumed();
                nat64_lookup_.reset();
                const auto now = clock::now();
                if (prefix) racer_->set_nat64(*prefix, now);
                if (held_literal_)
                    racer_->on_answer(address_family::ipv4, std::span(&*held_literal_, 1), {}, now);
                else
                    racer_->on_answer(address_family::ipv4, this->lookup(address_family::ipv4).addrs,
                                      this->lookup(address_family::ipv4).error, now);
                drain();
            });
        return false;
    }

    void on_answer(address_family f, clock::time_point now) override {
        if (route_ && route_->target_lookup) return on_target_answer();
        const auto& r = this->lookup(f);
        if (f == address_family::ipv4 && nat64_wanted_ && !r.addrs.empty() && !ipv4_answer_ready(r.addrs.front()))
            [[unlikely]]
            return;
        racer_->on_answer(f, r.addrs, r.error, now);
        drain();
    }

    // --- Through a proxy --------------------------------------------------

    [[gnu::cold]] void start_proxied(const proxy& p, const std::string& host, std::uint16_t port,
                                     const std::optional<boost::asio::ip::address>& ip, bool ipv6, bool ipv4);

    [[gnu::cold]] void on_target_answer();

    [[gnu::cold]] void connect_to_proxy();

    [[gnu::cold]] void start_tunnel(std::size_t i);

    [[gnu::cold]] void tunnel_done(std::size_t i, const error_code& ec, clock::time_point started);

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
                    if (nat64_lookup_) [[unlikely]]
                        nat64_lookup_->cancel();
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
        const auto& attempt = racer_->attempts()[i];
        const tcp::endpoint endpoint = attempt.endpoint;
        tcp::socket& socket = Final::lowest(add_stream(i));
        if (this->trace_) {
            connect_start_info info{.network = network_, .endpoint = endpoint, .attempt = i};
            if (const planned_service* s = service_of(i)) [[unlikely]] {
                info.priority = s->priority;
                info.alpn = s->alpn;
            }
            info.nat64_from = attempt.nat64_from;
            info.reason = attempt.reason;
            this->fire(this->trace_->connect_start, info);
        }
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

    // The HTTPS record attempt i comes from, if any.
    const planned_service* service_of(std::size_t i) const {
        const auto id = racer_->attempts()[i].service;
        if (id == racer::no_service || !this->services()) return nullptr;
        return &this->services()->services()[static_cast<std::size_t>(id)];
    }

    void start_stage(std::size_t i);

    // The final stage of attempt i ended (in the race).
    void stage_done(std::size_t i, const error_code& ec);

    void report_stage(std::size_t i, const error_code& ec, connect_outcome outcome, clock::time_point since);

    // dial_tls without the race: the TCP winner's handshake, bounded by what
    // is left of the dial's timeout.
    [[gnu::cold]] void start_after_race_stage();

    [[gnu::cold]] void on_stage_deadline();

    // Which attempts failed in their final stage, and why (a TLS verify
    // error), for dial_done's description.
    [[gnu::cold]] void note_stage_failure(std::size_t i);

    // When the dial must be over: its timeout after its start, or the
    // context's deadline (with_deadline), whichever is first.
    std::optional<clock::time_point> deadline() const;

    // Which of the two a timeout was, for dial_done's description.
    std::string_view timeout_cause() const;

    void close(std::size_t i) {
        error_code ignored;
        Final::lowest(stream(i)).close(ignored);
    }

    void complete(const error_code& ec) {
        this->release_lookups();
        if (state_->options.history && racer_ && !route_) [[unlikely]]
            learn_from(*racer_, *state_->options.history, endpoints_ ? std::string_view() : this->host_, clock::now());
        const std::size_t result_index = racer_ && racer_->winner() && !ec ? *racer_->winner() : 0;
        if (ec && racer_ && racer_->winner()) close(*racer_->winner());
        // Moved straight into the handler's call. The other streams (every
        // attempt has ended: the racer completes only then) and the timer
        // go with the operation.
        stream_type& result = stream(result_index);
        if (this->trace_ && this->trace_->dial_done) report_done(ec, Final::lowest(result));
        base::complete(ec, std::move(result));
    }

    void report_done(const error_code& ec, const tcp::socket& result);

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
    std::unique_ptr<std::vector<tcp::endpoint>> endpoints_;  // dial(ctx, network, endpoints)
    bool nat64_wanted_ = false;                              // "tcp" with NAT64 on, not yet decided
    std::optional<boost::asio::ip::address> held_literal_;   // an IPv4 literal waiting for the NAT64 prefix
    std::shared_ptr<pending_lookup> nat64_lookup_;           // RFC 7050's ipv4only.arpa, when asked
    boost::container::small_vector<stage_failure, 1> stage_failures_;
    std::optional<stream_type> first_;
    std::unique_ptr<std::deque<stream_type>> more_;
};

}  // namespace nettrace::detail

#include "impl/dial_op_proxy.hpp"
#include "impl/dial_op_stage.hpp"
#include "impl/dial_op_report.hpp"
