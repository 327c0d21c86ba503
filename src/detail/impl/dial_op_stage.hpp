// dial_op's final stage (dial_tls's handshake): in the race, or on the
// TCP winner after it; each stage's hooks and failures. Member definitions
// of dial_op (src/detail/dial_op.hpp), which includes this file at its end.
#pragma once

namespace nettrace::detail {

template <class Final>
void dial_op<Final>::start_stage(std::size_t i) {
    stage_started_ = clock::now();
    if (this->trace_)
        this->fire(this->trace_->tls_handshake_start,
                   tls_handshake_start_info{final_.stage_peer_name(), racer_->attempts()[i].endpoint, i});
    const planned_service* service = service_of(i);
    final_.start_stage(
        *this, stream(i), service ? &service->alpn : nullptr,
        boost::asio::bind_executor(this->strand_, [self = this->shared_from_this(), this, i](const error_code& ec) {
            this->resumed();
            stage_done(i, ec);
            drain();
        }));
}

// The final stage of attempt i ended (in the race).
template <class Final>
void dial_op<Final>::stage_done(std::size_t i, const error_code& ec) {
    if (ec) note_stage_failure(i);
    racer_->on_attempt_done(i, ec, clock::now());
    const auto& a = racer_->attempts()[i];
    if (a.outcome != connect_outcome::won) close(i);
    report_stage(i, a.error, a.outcome, a.connected ? *a.connected : stage_started_);
}

template <class Final>
void dial_op<Final>::report_stage(std::size_t i, const error_code& ec, connect_outcome outcome,
                                  clock::time_point since) {
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
template <class Final>
void dial_op<Final>::start_after_race_stage() {
    after_race_stage_ = true;
    if (const auto end = deadline()) arm_timer(*end);
    const std::size_t w = *racer_->winner();
    stage_started_ = clock::now();
    if (this->trace_)
        this->fire(this->trace_->tls_handshake_start,
                   tls_handshake_start_info{final_.stage_peer_name(), racer_->attempts()[w].endpoint, w});
    const planned_service* service = service_of(w);
    final_.start_stage(
        *this, stream(w), service ? &service->alpn : nullptr,
        boost::asio::bind_executor(this->strand_, [self = this->shared_from_this(), this, w](error_code ec) {
            this->resumed();
            if (timer_) timer_->cancel();
            // A cancellation or timeout that raced the
            // handshake's end wins: the caller asked for it.
            if (stage_error_) ec = stage_error_;
            if (ec && !stage_error_) note_stage_failure(w);
            if (ec) close(w);
            report_stage(
                w, ec,
                ec ? (ec == boost::asio::error::operation_aborted || ec == error::timeout ? connect_outcome::cancelled
                                                                                          : connect_outcome::failed)
                   : connect_outcome::won,
                stage_started_);
            complete(ec);
        }));
}

template <class Final>
void dial_op<Final>::on_stage_deadline() {
    stage_error_ = make_error_code(error::timeout);
    cancel_attempt(*racer_->winner());
}

// Which attempts failed in their final stage, and why (a TLS verify
// error), for dial_done's description.
template <class Final>
void dial_op<Final>::note_stage_failure(std::size_t i) {
    stage_failures_.push_back({i, final_.stage_name(), final_.stage_cause(stream(i))});
}

}  // namespace nettrace::detail
