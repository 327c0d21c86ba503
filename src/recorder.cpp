#include <nettrace/recorder.hpp>

#include <memory>
#include <ostream>
#include <utility>

namespace nettrace {

std::string_view to_string(event_kind k) noexcept {
    switch (k) {
    case event_kind::dial_start: return "dial_start";
    case event_kind::dns_start: return "dns_start";
    case event_kind::dns_answer: return "dns_answer";
    case event_kind::dns_done: return "dns_done";
    case event_kind::connect_start: return "connect_start";
    case event_kind::connect_done: return "connect_done";
    case event_kind::dial_done: return "dial_done";
    case event_kind::tls_handshake_start: return "tls_handshake_start";
    case event_kind::tls_handshake_done: return "tls_handshake_done";
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
        out.events.push_back(std::move(e));
        if (on_event) on_event(out, out.events.back());
    }
};

recorded_event make(event_kind k) {
    recorded_event e;
    e.kind = k;
    return e;
}

// What dns_answer and dns_done share, and connect_start and connect_done.
template <class Info>
void copy_dns(recorded_event& e, const Info& i) {
    e.host = i.host;
    e.addrs.assign(i.addrs.begin(), i.addrs.end());
    e.error = i.error;
    e.source = i.source;
    e.coalesced = i.coalesced;
    e.elapsed = i.elapsed;
}

template <class Info>
void copy_attempt(recorded_event& e, const Info& i) {
    e.network = i.network;
    e.endpoint = i.endpoint;
    e.attempt = i.attempt;
}

}  // namespace

context with_recording(const context& parent, dial_record& out, record_callback on_event) {
    auto r = std::make_shared<recording>(recording{out, std::move(on_event)});
    client_trace t;
    t.dial_start = [r](const dial_start_info& i) {
        auto e = make(event_kind::dial_start);
        e.network = i.network;
        e.address = i.address;
        r->add(std::move(e));
    };
    t.dns_start = [r](const dns_start_info& i) {
        auto e = make(event_kind::dns_start);
        e.host = i.host;
        r->add(std::move(e));
    };
    t.dns_answer = [r](const dns_answer_info& i) {
        auto e = make(event_kind::dns_answer);
        copy_dns(e, i);
        e.family = i.family;
        r->add(std::move(e));
    };
    t.dns_done = [r](const dns_done_info& i) {
        auto e = make(event_kind::dns_done);
        copy_dns(e, i);
        r->add(std::move(e));
    };
    t.connect_start = [r](const connect_start_info& i) {
        auto e = make(event_kind::connect_start);
        copy_attempt(e, i);
        r->add(std::move(e));
    };
    t.connect_done = [r](const connect_done_info& i) {
        auto e = make(event_kind::connect_done);
        copy_attempt(e, i);
        e.error = i.error;
        e.outcome = i.outcome;
        e.elapsed = i.elapsed;
        r->add(std::move(e));
    };
    t.dial_done = [r](const dial_done_info& i) {
        auto e = make(event_kind::dial_done);
        e.network = i.network;
        e.address = i.address;
        e.error = i.error;
        e.endpoint = i.remote;
        e.local = i.local;
        e.attempts.assign(i.attempts.begin(), i.attempts.end());
        e.elapsed = i.elapsed;
        e.description = i.describe();
        e.hook_exception = i.hook_exception;
        r->add(std::move(e));
    };
    t.tls_handshake_start = [r](const tls_handshake_start_info& i) {
        auto e = make(event_kind::tls_handshake_start);
        e.server_name = i.server_name;
        e.endpoint = i.remote;
        r->add(std::move(e));
    };
    t.tls_handshake_done = [r](const tls_handshake_done_info& i) {
        auto e = make(event_kind::tls_handshake_done);
        e.server_name = i.server_name;
        e.endpoint = i.remote;
        e.tls_version = i.version;
        e.cipher = i.cipher;
        e.alpn = i.alpn;
        e.resumed = i.resumed;
        e.error = i.error;
        e.verify_error = i.verify_error;
        e.elapsed = i.elapsed;
        e.hook_exception = i.hook_exception;
        r->add(std::move(e));
    };
    return with_client_trace(parent, t);
}

}  // namespace nettrace
