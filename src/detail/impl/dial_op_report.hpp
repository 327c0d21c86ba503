// dial_op's account of itself: dial_done's info (every attempt, the step
// that failed and why), and which deadline a timeout was. Member
// definitions of dial_op (src/detail/dial_op.hpp), included at its end.
#pragma once

namespace nettrace::detail {

template <class Final>
void dial_op<Final>::report_done(const error_code& ec, const tcp::socket& result) {
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

// When the dial must be over: its timeout after its start, or the
// context's deadline (with_deadline), whichever is first.
template <class Final>
std::optional<clock::time_point> dial_op<Final>::deadline() const {
    auto end = context_deadline(this->ctx_);
    if (const auto timeout = state_->racer.timeout; timeout > clock::duration::zero()) {
        const auto own = saturating_add(started_, timeout);
        if (!end || own < *end) end = own;
    }
    return end;
}

// Which of the two a timeout was, for dial_done's description.
template <class Final>
std::string_view dial_op<Final>::timeout_cause() const {
    const auto ctx = context_deadline(this->ctx_);
    const auto timeout = state_->racer.timeout;
    const bool by_context = ctx && (timeout <= clock::duration::zero() || *ctx <= saturating_add(started_, timeout));
    return by_context ? "the context's deadline expired" : "dial_options::timeout expired";
}

}  // namespace nettrace::detail
