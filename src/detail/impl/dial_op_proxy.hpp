// dial_op through a proxy (dial_options::proxy): the target's lookup for
// socks5://, the race to the proxy's addresses, and each attempt's tunnel
// (src/proxy_tunnel.cpp) as a stage. Member definitions of dial_op
// (src/detail/dial_op.hpp), which includes this file at its end.
#pragma once

namespace nettrace::detail {

template <class Final>
void dial_op<Final>::start_proxied(const proxy& p, const std::string& host, std::uint16_t port,
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

template <class Final>
void dial_op<Final>::on_target_answer() {
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

template <class Final>
void dial_op<Final>::connect_to_proxy() {
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
        if (v6 ? !route_->want_ipv6 : !route_->want_ipv4) return complete(make_error_code(error::no_suitable_address));
        racer_->start(started_, v6, !v6);
        racer_->on_answer(v6 ? address_family::ipv6 : address_family::ipv4, std::span(&*ip, 1), {}, clock::now());
    } else {
        racer_->start(started_, route_->want_ipv6, route_->want_ipv4);
        this->start_lookups(*state_->options.resolver, route_->want_ipv6, route_->want_ipv4, clock::now());
    }
    drain();
}

template <class Final>
void dial_op<Final>::start_tunnel(std::size_t i) {
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

template <class Final>
void dial_op<Final>::tunnel_done(std::size_t i, const error_code& ec, clock::time_point started) {
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

}  // namespace nettrace::detail
