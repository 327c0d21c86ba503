#include <nettrace/recorder.hpp>

#include <memory>
#include <ostream>
#include <utility>

namespace nettrace {

std::string_view to_string(event_kind k) noexcept {
    switch (k) {
#define NETTRACE_HOOK_NAME(name, info) \
    case event_kind::name:             \
        return #name;
        NETTRACE_HOOKS(NETTRACE_HOOK_NAME)
#undef NETTRACE_HOOK_NAME
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, event_kind k) { return os << to_string(k); }

const recorded_event* dial_record::done() const noexcept {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
        if (it->kind == event_kind::dial_done) return &*it;
    return nullptr;
}

namespace {

// The hooks share this through a shared_ptr: a client_trace is copied into
// the context (and again when composed), and every copy must append to the
// same record.
struct recording {
    dial_record& out;
    record_callback on_event;

    void add(recorded_event e) {
        const auto now = std::chrono::steady_clock::now();
        if (e.kind == event_kind::dial_start) out.events.clear();
        if (out.events.empty()) out.started = now;
        e.at = now - out.started;
        if (e.kind == event_kind::dial_done) {
            // dial_tls: the result carries the winning handshake's version
            // and protocol, as httpstat's summary does.
            for (const auto& t : out.events)
                if (t.kind == event_kind::tls_handshake_done && t.outcome == connect_outcome::won) {
                    e.tls_version = t.tls_version;
                    e.alpn = t.alpn;
                }
        }
        out.events.push_back(std::move(e));
        if (on_event) on_event(out, out.events.back());
    }
};

// The fields of each info struct that a record keeps; one overload per hook.
void copy(recorded_event& e, const dial_start_info& i) {
    e.network = i.network;
    e.address = i.address;
}
void copy(recorded_event& e, const dns_start_info& i) { e.host = i.host; }

template <class Info>
void copy_dns(recorded_event& e, const Info& i) {
    e.host = i.host;
    e.addrs.assign(i.addrs.begin(), i.addrs.end());
    e.error = i.error;
    e.source = i.source;
    e.coalesced = i.coalesced;
    e.elapsed = i.elapsed;
}
void copy(recorded_event& e, const dns_answer_info& i) {
    copy_dns(e, i);
    if (i.https) {
        e.https = true;
        e.records.assign(i.records.begin(), i.records.end());
    } else {
        e.family = i.family;
    }
}
void copy(recorded_event& e, const dns_done_info& i) { copy_dns(e, i); }

template <class Info>
void copy_attempt(recorded_event& e, const Info& i) {
    e.network = i.network;
    e.endpoint = i.endpoint;
    e.attempt = i.attempt;
    e.address = i.path;
}
void copy(recorded_event& e, const connect_start_info& i) {
    copy_attempt(e, i);
    e.priority = i.priority;
    e.offered_alpn.assign(i.alpn.begin(), i.alpn.end());
    e.nat64_from = i.nat64_from;
    e.order_reason = i.reason;
}
void copy(recorded_event& e, const connect_done_info& i) {
    copy_attempt(e, i);
    e.error = i.error;
    e.outcome = i.outcome;
    e.elapsed = i.elapsed;
}
void copy(recorded_event& e, const dial_done_info& i) {
    e.network = i.network;
    e.address = i.address;
    e.error = i.error;
    e.endpoint = i.remote;
    e.local = i.local;
    e.attempts.assign(i.attempts.begin(), i.attempts.end());
    e.elapsed = i.elapsed;
    e.description = i.describe();
    e.hook_exception = i.hook_exception;
    e.proxy = i.proxy;
}
template <class Info>
void copy_tls(recorded_event& e, const Info& i) {
    e.server_name = i.server_name;
    e.endpoint = i.remote;
    e.attempt = i.attempt;
}
void copy(recorded_event& e, const tls_handshake_start_info& i) { copy_tls(e, i); }
void copy(recorded_event& e, const tls_handshake_done_info& i) {
    copy_tls(e, i);
    e.outcome = i.outcome;
    e.tls_version = i.version;
    e.cipher = i.cipher;
    e.alpn = i.alpn;
    e.resumed = i.resumed;
    e.error = i.error;
    e.verify_error = i.verify_error;
    e.elapsed = i.elapsed;
    e.hook_exception = i.hook_exception;
}

template <class Info>
void copy_proxy(recorded_event& e, const Info& i) {
    e.scheme = i.scheme;
    e.proxy = i.proxy;
    e.endpoint = i.endpoint;
    e.target = i.target;
    e.attempt = i.attempt;
}
void copy(recorded_event& e, const proxy_connect_start_info& i) { copy_proxy(e, i); }
void copy(recorded_event& e, const proxy_connect_done_info& i) {
    copy_proxy(e, i);
    e.status = i.status;
    e.reason = i.reason;
    e.outcome = i.outcome;
    e.error = i.error;
    e.elapsed = i.elapsed;
}

}  // namespace

context with_recording(const context& parent, dial_record& out, record_callback on_event) {
    auto r = std::make_shared<recording>(recording{out, std::move(on_event)});
    client_trace t;
#define NETTRACE_RECORD(name, info) \
    t.name = [r](const info& i) {   \
        recorded_event e;           \
        e.kind = event_kind::name;  \
        copy(e, i);                 \
        r->add(std::move(e));       \
    };
    NETTRACE_HOOKS(NETTRACE_RECORD)
#undef NETTRACE_RECORD
    return with_client_trace(parent, t);
}

}  // namespace nettrace
