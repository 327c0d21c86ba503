// The Chrome trace-event format (export.hpp): each dial a process, its
// tracks (the dial, DNS, one per attempt) threads, every span a complete
// event. Spans come from the "done" events, which carry their own elapsed
// time; a start without its done (a record taken mid-dial) becomes an
// unfinished span up to the record's last event. Attribute names follow the
// OpenTelemetry conventions where one exists (docs/tracing.md, "Exporters").
#include <nettrace/address.hpp>
#include <nettrace/export.hpp>

#include "detail/error_type.hpp"
#include "detail/export_support.hpp"
#include "detail/json_text.hpp"
#include "detail/number_text.hpp"

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace nettrace {
namespace detail {
namespace {

using clock = std::chrono::steady_clock;
using boost::system::error_code;

// error.type is a name (error_type.hpp), never the localised message.
void add_error(json_object& args, const error_code& ec) {
    if (!ec) return;
    args.string("error.type", error_type(ec)).string("nettrace.error.message", ec.message());
}

void add_peer(json_object& args, const boost::asio::ip::tcp::endpoint& ep) {
    args.string("network.peer.address", ep.address().to_string())
        .integer("network.peer.port", ep.port())
        .string("network.type", ep.address().is_v6() ? "ipv6" : "ipv4");
}

// Track ids are unsigned 64-bit: an attempt index is a size_t, and a
// hand-built record may hold any value there (no signed overflow).
using track_id = std::uint64_t;
constexpr track_id dial_track = 1, dns_track = 2, dns_ipv6_track = 3, dns_ipv4_track = 4, dns_https_track = 5,
                   first_attempt_track = 10;

// An attempt's track; saturates rather than wrapping onto the fixed tracks.
track_id attempt_track(std::size_t attempt) {
    const auto a = static_cast<track_id>(attempt);
    return a > std::numeric_limits<track_id>::max() - first_attempt_track ? std::numeric_limits<track_id>::max()
                                                                          : first_attempt_track + a;
}

// One dial's events as they are made: spans in event order, metadata
// (process and track names) written at the end, in front of them.
struct chrome_dial {
    int pid;
    double offset_us;  // this record's start on the shared axis
    std::vector<std::string> spans, meta;
    std::map<track_id, std::string> tracks;

    void span(track_id tid, std::string_view cat, std::string_view name, clock::duration from, clock::duration to,
              const json_object& args) {
        if (to < from) to = from;
        json_object o;
        o.string("name", name)
            .string("cat", cat)
            .string("ph", "X")
            .number("ts", offset_us + to_us(from), 3)
            .number("dur", to_us(to - from), 3)
            .integer("pid", static_cast<std::uint64_t>(pid))
            .integer("tid", tid)
            .object("args", args);
        spans.push_back(o.str());
    }

    void metadata(track_id tid, std::string_view what, const json_object& args) {
        json_object o;
        o.string("name", what)
            .string("ph", "M")
            .integer("ts", 0)
            .integer("pid", static_cast<std::uint64_t>(pid))
            .integer("tid", tid)
            .object("args", args);
        meta.push_back(o.str());
    }

    // The attempt's track, named after its endpoint unless its connect
    // named it already.
    track_id attempt(std::size_t i, const boost::asio::ip::tcp::endpoint& ep) {
        const track_id tid = attempt_track(i);
        if (!tracks.count(tid)) tracks[tid] = attempt_label(i, ep);
        return tid;
    }
};

// The start events whose done has not been seen yet; by attempt where
// several can be open at once.
struct open_starts {
    const recorded_event* dial = nullptr;
    const recorded_event* dns = nullptr;
    std::map<std::size_t, const recorded_event*> connects, proxies, tls;
};

// The start of `attempt`'s span, no longer open; null when none was seen.
const recorded_event* take(std::map<std::size_t, const recorded_event*>& starts, std::size_t attempt) {
    const auto it = starts.find(attempt);
    if (it == starts.end()) return nullptr;
    const auto* start = it->second;
    starts.erase(it);
    return start;
}

// ---------------------------------------------------------------------------
// One span per done event.

// An HTTPS answer (RFC 9460) on the DNS track of its own.
void https_answer_span(chrome_dial& d, const recorded_event& e, const recorded_event* dns_start) {
    d.tracks[dns_https_track] = "dns https (HTTPS)";
    std::vector<std::string> records;
    for (const auto& r : e.records) records.push_back(to_string(r));
    json_object args;
    args.string("dns.question.name", e.host)
        .strings("dns.answers", records)
        .string("nettrace.dns.family", "https")
        .string("nettrace.dns.source", to_string(e.source))
        .boolean("nettrace.dns.coalesced", e.coalesced);
    add_error(args, e.error);
    d.span(dns_https_track, "dns", "HTTPS " + e.host, span_start(dns_start, e), e.at, args);
}

void dns_answer_span(chrome_dial& d, const recorded_event& e, const recorded_event* dns_start) {
    if (e.https) return https_answer_span(d, e, dns_start);
    if (!e.family) return;
    const bool v6 = *e.family == address_family::ipv6;
    const track_id tid = v6 ? dns_ipv6_track : dns_ipv4_track;
    d.tracks[tid] = v6 ? "dns ipv6 (AAAA)" : "dns ipv4 (A)";
    json_object args;
    args.string("dns.question.name", e.host)
        .strings("dns.answers", address_strings(e.addrs))
        .string("nettrace.dns.family", to_string(*e.family))
        .string("nettrace.dns.source", to_string(e.source))
        .boolean("nettrace.dns.coalesced", e.coalesced);
    add_error(args, e.error);
    d.span(tid, "dns", std::string(v6 ? "AAAA " : "A ") + e.host, span_start(dns_start, e), e.at, args);
}

void dns_done_span(chrome_dial& d, const recorded_event& e, const recorded_event* dns_start) {
    d.tracks[dns_track] = "dns";
    json_object args;
    args.string("dns.question.name", e.host)
        .strings("dns.answers", address_strings(e.addrs))
        .number("dns.lookup.duration", std::chrono::duration<double>(e.elapsed).count(), 9)
        .string("nettrace.dns.source", to_string(e.source))
        .boolean("nettrace.dns.coalesced", e.coalesced);
    add_error(args, e.error);
    d.span(dns_track, "dns", "dns.lookup " + e.host, span_start(dns_start, e), e.at, args);
}

void connect_span(chrome_dial& d, const recorded_event& e, const recorded_event* start) {
    const clock::duration from = span_start(start, e);
    // What connect_start alone knows: the HTTPS record and NAT64 origin.
    const auto record_args = [start](json_object& args) {
        if (!start) return;
        if (start->priority != 0)
            args.integer("nettrace.https.priority", start->priority).strings("nettrace.https.alpn", start->offered_alpn);
        if (start->nat64_from) args.string("nettrace.nat64.from", start->nat64_from->to_string());
    };
    const bool won = e.outcome == connect_outcome::won;
    const track_id tid = attempt_track(e.attempt);
    d.tracks[tid] = attempt_label(e.attempt, e.endpoint) + (won ? " (won)" : "");
    json_object args;
    add_peer(args, e.endpoint);
    args.string("network.transport", "tcp")
        .integer("nettrace.attempt", e.attempt)
        .string("nettrace.outcome", to_string(e.outcome))
        .boolean("nettrace.winner", won);
    record_args(args);
    add_error(args, e.error);
    d.span(tid, "connect", "connect " + join_host_port(e.endpoint) + " " + std::string(to_string(e.outcome)), from,
           e.at, args);
}

void dial_span(chrome_dial& d, const recorded_event& e, const recorded_event* start) {
    d.tracks[dial_track] = "dial";
    json_object args;
    args.string("nettrace.network", e.network)
        .string("nettrace.address", e.address)
        .string("nettrace.outcome", e.error ? "failed" : "connected")
        .integer("nettrace.attempts", e.attempts.size());
    if (!e.error) {
        add_peer(args, e.endpoint);
        args.string("network.local.address", e.local.address().to_string())
            .integer("network.local.port", e.local.port());
    } else {
        args.string("error.type", error_type(e.error)).string("nettrace.error.message", e.description);
    }
    d.span(dial_track, "dial", "dial " + e.network + " " + e.address, start ? start->at : clock::duration{}, e.at,
           args);
}

// On the attempt's track, between its TCP connect and its TLS.
void proxy_span(chrome_dial& d, const recorded_event& e, const recorded_event* start) {
    const track_id tid = d.attempt(e.attempt, e.endpoint);
    json_object args;
    args.integer("nettrace.attempt", e.attempt)
        .string("nettrace.outcome", to_string(e.outcome))
        .string("nettrace.proxy", e.proxy)
        .string("nettrace.proxy.scheme", to_string(e.scheme))
        .string("nettrace.proxy.target", e.target);
    if (e.status >= 0) args.integer("nettrace.proxy.status", static_cast<std::uint64_t>(e.status));
    if (!e.reason.empty()) args.string("nettrace.proxy.reason", e.reason);
    add_peer(args, e.endpoint);
    add_error(args, e.error);
    d.span(tid, "proxy",
           "proxy " + std::string(to_string(e.scheme)) + " " + e.target + " " + std::string(to_string(e.outcome)),
           span_start(start, e), e.at, args);
}

// On the attempt's own track, after its TCP segment.
void tls_span(chrome_dial& d, const recorded_event& e, const recorded_event* start) {
    const track_id tid = d.attempt(e.attempt, e.endpoint);
    json_object args;
    args.integer("nettrace.attempt", e.attempt).string("nettrace.outcome", to_string(e.outcome));
    args.string("tls.server.name", e.server_name);
    add_peer(args, e.endpoint);
    if (!e.tls_version.empty()) {
        std::string_view v = e.tls_version;
        if (v.starts_with("TLSv")) v.remove_prefix(4);
        args.string("tls.protocol.name", "tls").string("tls.protocol.version", v);
    }
    if (!e.cipher.empty()) args.string("tls.cipher", e.cipher);
    if (!e.alpn.empty()) args.string("tls.next_protocol", e.alpn);
    args.boolean("tls.resumed", e.resumed);
    add_error(args, e.error);
    if (!e.verify_error.empty()) args.string("nettrace.tls.verify_error", e.verify_error);
    d.span(tid, "tls", "tls " + e.server_name + " " + std::string(to_string(e.outcome)), span_start(start, e), e.at,
           args);
}

// A start is remembered; a done makes its span and closes its start.
void chrome_event(chrome_dial& d, open_starts& open, const recorded_event& e) {
    switch (e.kind) {
        case event_kind::dial_start:
            open.dial = &e;
            break;
        case event_kind::dns_start:
            open.dns = &e;
            break;
        case event_kind::dns_answer:
            dns_answer_span(d, e, open.dns);
            break;
        case event_kind::dns_done:
            dns_done_span(d, e, open.dns);
            open.dns = nullptr;
            break;
        case event_kind::connect_start:
            open.connects[e.attempt] = &e;
            break;
        case event_kind::connect_done:
            connect_span(d, e, take(open.connects, e.attempt));
            break;
        case event_kind::dial_done:
            dial_span(d, e, open.dial);
            open.dial = nullptr;
            break;
        case event_kind::proxy_connect_start:
            open.proxies[e.attempt] = &e;
            break;
        case event_kind::proxy_connect_done:
            proxy_span(d, e, take(open.proxies, e.attempt));
            break;
        case event_kind::tls_handshake_start:
            open.tls[e.attempt] = &e;
            break;
        case event_kind::tls_handshake_done:
            tls_span(d, e, take(open.tls, e.attempt));
            break;
    }
}

// The spans whose done never came, up to the record's last event.
void unfinished_spans(chrome_dial& d, const open_starts& open, clock::duration end) {
    json_object unfinished;
    unfinished.string("nettrace.outcome", "unfinished");
    if (const auto* start = open.dial) {
        d.tracks[dial_track] = "dial";
        d.span(dial_track, "dial", "dial " + start->network + " " + start->address + " unfinished", start->at, end,
               unfinished);
    }
    if (const auto* dns_start = open.dns) {
        d.tracks[dns_track] = "dns";
        json_object args;
        args.string("dns.question.name", dns_start->host).string("nettrace.outcome", "unfinished");
        d.span(dns_track, "dns", "dns.lookup " + dns_start->host + " unfinished", dns_start->at, end, args);
    }
    for (const auto& [attempt, e] : open.connects) {
        const track_id tid = attempt_track(attempt);
        d.tracks[tid] = attempt_label(attempt, e->endpoint);
        json_object args;
        add_peer(args, e->endpoint);
        args.string("network.transport", "tcp")
            .integer("nettrace.attempt", attempt)
            .string("nettrace.outcome", "unfinished");
        d.span(tid, "connect", "connect " + join_host_port(e->endpoint) + " unfinished", e->at, end, args);
    }
    for (const auto& [attempt, e] : open.proxies)
        d.span(d.attempt(attempt, e->endpoint), "proxy", "proxy " + e->target + " unfinished", e->at, end, unfinished);
    for (const auto& [attempt, e] : open.tls)
        d.span(d.attempt(attempt, e->endpoint), "tls", "tls " + e->server_name + " unfinished", e->at, end, unfinished);
}

// Metadata names the process and its tracks; sort indexes keep them in the
// order of the dial rather than alphabetical.
void name_tracks(chrome_dial& d, const dial_record& r, std::size_t index, std::size_t count) {
    std::string title = record_title(r);
    if (count > 1) title += " [dial " + std::to_string(index) + "]";
    d.metadata(0, "process_name", json_object().string("name", title));
    d.metadata(0, "process_sort_index", json_object().integer("sort_index", index));
    for (const auto& [tid, name] : d.tracks) {
        d.metadata(tid, "thread_name", json_object().string("name", name));
        d.metadata(tid, "thread_sort_index", json_object().integer("sort_index", tid));
    }
}

// Appends record `index` of `count` to `out`, `offset_us` after the first.
void chrome_record(const dial_record& r, std::size_t index, std::size_t count, double offset_us,
                   std::vector<std::string>& out) {
    chrome_dial d{.pid = static_cast<int>(index) + 1, .offset_us = offset_us, .spans = {}, .meta = {}, .tracks = {}};
    open_starts open;
    for (const auto& e : r.events) chrome_event(d, open, e);
    unfinished_spans(d, open, r.events.empty() ? clock::duration{} : r.events.back().at);
    name_tracks(d, r, index, count);
    // Metadata first: viewers then know the names before the spans.
    out.insert(out.end(), std::make_move_iterator(d.meta.begin()), std::make_move_iterator(d.meta.end()));
    out.insert(out.end(), std::make_move_iterator(d.spans.begin()), std::make_move_iterator(d.spans.end()));
}

}  // namespace
}  // namespace detail

void write_chrome_trace(std::ostream& out, std::span<const dial_record> dials) {
    using namespace detail;
    const auto base = earliest_start(dials);
    std::vector<std::string> events;
    for (std::size_t i = 0; i < dials.size(); ++i) {
        const auto& r = dials[i];
        const double offset = r.events.empty() ? 0.0 : to_us(r.started - base);
        chrome_record(r, i, dials.size(), offset, events);
    }
    out << "{\"traceEvents\":[";
    for (std::size_t i = 0; i < events.size(); ++i) out << (i ? ",\n" : "\n") << events[i];
    out << "\n],\n\"displayTimeUnit\":\"ms\"}\n";
}

void write_chrome_trace(std::ostream& out, const dial_record& dial) { write_chrome_trace(out, {&dial, 1}); }

}  // namespace nettrace
