#include <nettrace/address.hpp>
#include <nettrace/error.hpp>
#include <nettrace/export.hpp>

#include <boost/asio/error.hpp>

#include "detail/error_table.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
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

double to_ms(clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double to_us(clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// to_chars, not printf: a program that called setlocale() with a decimal
// comma must still get valid JSON.
std::string fixed(double value, int decimals) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, decimals);
    return std::string(buf, r.ptr);
}

// ---------------------------------------------------------------------------
// Text from the network or the OS may hold any bytes (an error message in a
// legacy locale, a host name from a hosts file); both output formats need
// UTF-8.

// Length of the well-formed UTF-8 sequence (RFC 3629) starting at s[i], or 0:
// no overlongs, no surrogates, nothing above U+10FFFF.
std::size_t utf8_length(std::string_view s, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const auto continuation = [&](std::size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
    const unsigned char c = byte(i);
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return continuation(i + 1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF)
        return continuation(i + 1) && continuation(i + 2) && !(c == 0xE0 && byte(i + 1) < 0xA0) &&
                       !(c == 0xED && byte(i + 1) > 0x9F)
                   ? 3
                   : 0;
    if (c >= 0xF0 && c <= 0xF4)
        return continuation(i + 1) && continuation(i + 2) && continuation(i + 3) &&
                       !(c == 0xF0 && byte(i + 1) < 0x90) && !(c == 0xF4 && byte(i + 1) > 0x8F)
                   ? 4
                   : 0;
    return 0;
}

/// The body of a JSON string (without quotes).
std::string json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 8);
    for (std::size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        const std::size_t n = utf8_length(s, i);
        if (n == 0) {
            out += "\\ufffd";
            ++i;
            continue;
        }
        if (n > 1) {
            out.append(s.substr(i, n));
            i += n;
            continue;
        }
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (c < 0x20 || c == 0x7F) {
                static constexpr char hex[] = "0123456789abcdef";
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0xF];
            } else {
                out += static_cast<char>(c);
            }
        }
        ++i;
    }
    return out;
}

/// Text or attribute content for XML 1.0: markup escaped, and what XML cannot
/// hold at all (most C0 controls, U+FFFE, U+FFFF, invalid UTF-8) as U+FFFD.
std::string xml_escape(std::string_view s) {
    static constexpr std::string_view replacement = "\xEF\xBF\xBD";
    std::string out;
    out.reserve(s.size() + 8);
    for (std::size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        const std::size_t n = utf8_length(s, i);
        if (n == 0) {
            out += replacement;
            ++i;
            continue;
        }
        if (n > 1) {
            const auto seq = s.substr(i, n);
            out += seq == "\xEF\xBF\xBE" || seq == "\xEF\xBF\xBF" ? replacement : seq;
            i += n;
            continue;
        }
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                out += replacement;
            else
                out += static_cast<char>(c);
        }
        ++i;
    }
    return out;
}

/// Builds one JSON object, fields in insertion order.
class json_object {
public:
    json_object& string(std::string_view key, std::string_view value) {
        name(key);
        text_ += '"' + json_escape(value) + '"';
        return *this;
    }
    json_object& string_or_null(std::string_view key, const std::optional<std::string>& value) {
        return value ? string(key, *value) : null(key);
    }
    json_object& number(std::string_view key, double value, int decimals) {
        name(key);
        text_ += fixed(value, decimals);
        return *this;
    }
    json_object& integer(std::string_view key, std::uint64_t value) {
        name(key);
        text_ += std::to_string(value);
        return *this;
    }
    json_object& boolean(std::string_view key, bool value) {
        name(key);
        text_ += value ? "true" : "false";
        return *this;
    }
    json_object& null(std::string_view key) {
        name(key);
        text_ += "null";
        return *this;
    }
    json_object& strings(std::string_view key, const std::vector<std::string>& values) {
        name(key);
        text_ += '[';
        for (std::size_t i = 0; i < values.size(); ++i) text_ += (i ? ",\"" : "\"") + json_escape(values[i]) + '"';
        text_ += ']';
        return *this;
    }
    json_object& object(std::string_view key, const json_object& value) {
        name(key);
        text_ += value.str();
        return *this;
    }
    bool empty() const noexcept { return first_; }
    std::string str() const { return text_ + "}"; }

private:
    void name(std::string_view key) {
        text_ += first_ ? "\"" : ",\"";
        first_ = false;
        text_ += json_escape(key) + "\":";
    }
    std::string text_ = "{";
    bool first_ = true;
};

// ---------------------------------------------------------------------------
// Shared wording

std::string address_text(const boost::asio::ip::address& a) {
    return a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
}

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& ep) { return join_host_port(ep); }

std::vector<std::string> address_strings(const std::vector<boost::asio::ip::address>& addrs) {
    std::vector<std::string> out;
    out.reserve(addrs.size());
    for (const auto& a : addrs) out.push_back(a.to_string());
    return out;
}

std::optional<std::string> error_text(const error_code& ec) {
    return ec ? std::optional<std::string>(ec.message()) : std::nullopt;
}

std::string duration_text(clock::duration d) {
    const double ms = to_ms(d);
    return fixed(ms, ms < 1.0 ? 3 : 1) + " ms";
}

// OpenTelemetry wants error.type to be low-cardinality and predictable, so
// it gets a name, never the (localised, variable) message.
std::string error_type(const error_code& ec) {
    if (ec.category() == category()) {
        if (const auto* e = detail::find_error(ec.value())) return std::string(e->name);
    }
    if (ec.category() == boost::system::system_category() || ec.category() == boost::system::generic_category()) {
        switch (ec.value()) {
        case ECONNREFUSED: return "connection_refused";
        case ECONNRESET: return "connection_reset";
        case ECONNABORTED: return "connection_aborted";
        case ETIMEDOUT: return "timed_out";
        case ECANCELED: return "operation_aborted";
        case ENETUNREACH: return "network_unreachable";
        case EHOSTUNREACH: return "host_unreachable";
        case ENETDOWN: return "network_down";
        case EADDRNOTAVAIL: return "address_not_available";
        case EADDRINUSE: return "address_in_use";
        case EACCES: return "access_denied";
        case EPERM: return "operation_not_permitted";
        case EMFILE: return "too_many_open_files";
        case ENFILE: return "too_many_open_files_in_system";
        case ENOBUFS: return "no_buffer_space";
        default: break;
        }
    }
    return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
}

void add_error(json_object& args, const error_code& ec) {
    if (!ec) return;
    args.string("error.type", error_type(ec)).string("nettrace.error.message", ec.message());
}

// ---------------------------------------------------------------------------
// Chrome trace events

// Track ids are unsigned 64-bit: an attempt index is a size_t, and a
// hand-built record may hold any value there (no signed overflow).
using track_id = std::uint64_t;
constexpr track_id dial_track = 1, dns_track = 2, dns_ipv6_track = 3, dns_ipv4_track = 4,
                   first_attempt_track = 10;

// An attempt's track; saturates rather than wrapping onto the fixed tracks.
track_id attempt_track(std::size_t attempt) {
    const auto a = static_cast<track_id>(attempt);
    return a > std::numeric_limits<track_id>::max() - first_attempt_track ? std::numeric_limits<track_id>::max()
                                                                         : first_attempt_track + a;
}

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
};

// The start hook's time when it was recorded: the dialer measures `elapsed`
// from just before it fires the start hook, so `at - elapsed` would put the
// span a little before its own start event.
clock::duration span_start(const recorded_event* start, const recorded_event& done) {
    if (start && start->at <= done.at) return start->at;
    return done.at - std::min(done.elapsed, done.at);
}

void add_peer(json_object& args, const boost::asio::ip::tcp::endpoint& ep) {
    args.string("network.peer.address", ep.address().to_string())
        .integer("network.peer.port", ep.port())
        .string("network.type", ep.address().is_v6() ? "ipv6" : "ipv4");
}

// Spans come from the "done" events, which carry their own elapsed time; a
// start without its done (a record taken mid-dial) becomes an unfinished
// span up to the record's last event.
void chrome_record(const dial_record& r, std::size_t index, std::size_t count, double offset_us,
                   std::vector<std::string>& out) {
    chrome_dial d{static_cast<int>(index) + 1, offset_us, {}, {}, {}};
    const clock::duration end = r.events.empty() ? clock::duration{} : r.events.back().at;

    const recorded_event* start = nullptr;
    const recorded_event* dns_start = nullptr;
    std::map<std::size_t, const recorded_event*> tls_starts;  // by attempt: several handshake at once
    std::map<std::size_t, const recorded_event*> proxy_starts;
    std::map<std::size_t, const recorded_event*> attempts_open;

    for (const auto& e : r.events) {
        switch (e.kind) {
        case event_kind::dial_start:
            start = &e;
            break;
        case event_kind::dns_start:
            dns_start = &e;
            break;
        case event_kind::dns_answer: {
            if (!e.family) break;
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
            break;
        }
        case event_kind::dns_done: {
            d.tracks[dns_track] = "dns";
            json_object args;
            args.string("dns.question.name", e.host)
                .strings("dns.answers", address_strings(e.addrs))
                .number("dns.lookup.duration", std::chrono::duration<double>(e.elapsed).count(), 9)
                .string("nettrace.dns.source", to_string(e.source))
                .boolean("nettrace.dns.coalesced", e.coalesced);
            add_error(args, e.error);
            d.span(dns_track, "dns", "dns.lookup " + e.host, span_start(dns_start, e), e.at, args);
            dns_start = nullptr;
            break;
        }
        case event_kind::connect_start:
            attempts_open[e.attempt] = &e;
            break;
        case event_kind::connect_done: {
            const auto open = attempts_open.find(e.attempt);
            const clock::duration from = span_start(open == attempts_open.end() ? nullptr : open->second, e);
            if (open != attempts_open.end()) attempts_open.erase(open);
            const bool won = e.outcome == connect_outcome::won;
            const track_id tid = attempt_track(e.attempt);
            d.tracks[tid] = "#" + std::to_string(e.attempt) + " " + endpoint_text(e.endpoint) + (won ? " (won)" : "");
            json_object args;
            add_peer(args, e.endpoint);
            args.string("network.transport", "tcp")
                .integer("nettrace.attempt", e.attempt)
                .string("nettrace.outcome", to_string(e.outcome))
                .boolean("nettrace.winner", won);
            add_error(args, e.error);
            d.span(tid, "connect",
                   "connect " + endpoint_text(e.endpoint) + " " + std::string(to_string(e.outcome)), from, e.at,
                   args);
            break;
        }
        case event_kind::dial_done: {
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
            d.span(dial_track, "dial", "dial " + e.network + " " + e.address, start ? start->at : clock::duration{},
                   e.at, args);
            start = nullptr;
            break;
        }
        case event_kind::proxy_connect_start:
            proxy_starts[e.attempt] = &e;
            break;
        case event_kind::proxy_connect_done: {
            // On the attempt's track, between its TCP connect and its TLS.
            const track_id tid = attempt_track(e.attempt);
            if (!d.tracks.count(tid)) d.tracks[tid] = "#" + std::to_string(e.attempt) + " " + endpoint_text(e.endpoint);
            const auto started = proxy_starts.find(e.attempt);
            const recorded_event* proxy_start = started == proxy_starts.end() ? nullptr : started->second;
            if (started != proxy_starts.end()) proxy_starts.erase(started);
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
            d.span(tid, "proxy", "proxy " + std::string(to_string(e.scheme)) + " " + e.target + " " +
                   std::string(to_string(e.outcome)), span_start(proxy_start, e), e.at, args);
            break;
        }
        case event_kind::tls_handshake_start:
            tls_starts[e.attempt] = &e;
            break;
        case event_kind::tls_handshake_done: {
            // On the attempt's own track, after its TCP segment.
            const track_id tid = attempt_track(e.attempt);
            if (!d.tracks.count(tid)) d.tracks[tid] = "#" + std::to_string(e.attempt) + " " + endpoint_text(e.endpoint);
            const auto started = tls_starts.find(e.attempt);
            const recorded_event* tls_start = started == tls_starts.end() ? nullptr : started->second;
            if (started != tls_starts.end()) tls_starts.erase(started);
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
            d.span(tid, "tls", "tls " + e.server_name + " " + std::string(to_string(e.outcome)),
                   span_start(tls_start, e), e.at, args);
            break;
        }
        }
    }

    json_object unfinished;
    unfinished.string("nettrace.outcome", "unfinished");
    if (start) {
        d.tracks[dial_track] = "dial";
        d.span(dial_track, "dial", "dial " + start->network + " " + start->address + " unfinished", start->at, end,
               unfinished);
    }
    if (dns_start) {
        d.tracks[dns_track] = "dns";
        json_object args;
        args.string("dns.question.name", dns_start->host).string("nettrace.outcome", "unfinished");
        d.span(dns_track, "dns", "dns.lookup " + dns_start->host + " unfinished", dns_start->at, end, args);
    }
    for (const auto& [attempt, e] : attempts_open) {
        const track_id tid = attempt_track(attempt);
        d.tracks[tid] = "#" + std::to_string(attempt) + " " + endpoint_text(e->endpoint);
        json_object args;
        add_peer(args, e->endpoint);
        args.string("network.transport", "tcp")
            .integer("nettrace.attempt", attempt)
            .string("nettrace.outcome", "unfinished");
        d.span(tid, "connect", "connect " + endpoint_text(e->endpoint) + " unfinished", e->at, end, args);
    }
    for (const auto& [attempt, proxy_start] : proxy_starts) {
        const track_id tid = attempt_track(attempt);
        if (!d.tracks.count(tid)) d.tracks[tid] = "#" + std::to_string(attempt) + " " + endpoint_text(proxy_start->endpoint);
        d.span(tid, "proxy", "proxy " + proxy_start->target + " unfinished", proxy_start->at, end, unfinished);
    }
    for (const auto& [attempt, tls_start] : tls_starts) {
        const track_id tid = attempt_track(attempt);
        if (!d.tracks.count(tid)) d.tracks[tid] = "#" + std::to_string(attempt) + " " + endpoint_text(tls_start->endpoint);
        d.span(tid, "tls", "tls " + tls_start->server_name + " unfinished", tls_start->at, end, unfinished);
    }

    // Metadata names the process and its tracks; sort indexes keep them in
    // the order of the dial rather than alphabetical.
    std::string title;
    const recorded_event* first = r.events.empty() ? nullptr : &r.events.front();
    if (const auto* done = r.done())
        title = "dial " + done->network + " " + done->address;
    else if (first && first->kind == event_kind::dial_start)
        title = "dial " + first->network + " " + first->address;
    else if (first && first->kind == event_kind::dns_start)
        title = "resolve " + first->host;
    else
        title = "dial";
    if (count > 1) title += " [dial " + std::to_string(index) + "]";
    d.metadata(0, "process_name", json_object().string("name", title));
    d.metadata(0, "process_sort_index", json_object().integer("sort_index", index));
    for (const auto& [tid, name] : d.tracks) {
        d.metadata(tid, "thread_name", json_object().string("name", name));
        d.metadata(tid, "thread_sort_index", json_object().integer("sort_index", tid));
    }
    // Metadata first: viewers then know the names before the spans.
    out.insert(out.end(), std::make_move_iterator(d.meta.begin()), std::make_move_iterator(d.meta.end()));
    out.insert(out.end(), std::make_move_iterator(d.spans.begin()), std::make_move_iterator(d.spans.end()));
}

clock::time_point earliest_start(std::span<const dial_record> dials) {
    std::optional<clock::time_point> base;
    for (const auto& r : dials)
        if (!r.events.empty() && (!base || r.started < *base)) base = r.started;
    return base.value_or(clock::time_point{});
}

// ---------------------------------------------------------------------------
// SVG

struct svg_bar {
    std::string label;          // left of the bar
    double from_ms = 0, to_ms = 0;
    std::string colour;
    std::string note;           // right of the bar
    std::string tooltip;
    std::string css_class;      // "attempt won", "dns ipv6", ...
    bool bold = false;
    bool dashed = false;
    std::size_t attempt = 0;
};

struct svg_group {
    std::string header;
    std::string summary;
    std::vector<svg_bar> bars;
};

std::string_view outcome_colour(connect_outcome o) {
    switch (o) {
    case connect_outcome::won: return "#2e7d32";
    case connect_outcome::lost: return "#f9a825";
    case connect_outcome::failed: return "#c62828";
    case connect_outcome::superseded: return "#9e9e9e";
    case connect_outcome::cancelled: return "#616161";
    case connect_outcome::connected: return "#81c784";  // TCP up, a later stage pending
    }
    return "#9e9e9e";
}

constexpr std::string_view dns_colour = "#1565c0", dns_failed_colour = "#ef9a9a", unfinished_colour = "#cfd8dc";

svg_group svg_record(const dial_record& r, std::size_t index, std::size_t count, double offset_ms) {
    svg_group g;
    const recorded_event* first = r.events.empty() ? nullptr : &r.events.front();
    const auto* done = r.done();
    if (done)
        g.header = "dial " + done->network + " " + done->address;
    else if (first && first->kind == event_kind::dial_start)
        g.header = "dial " + first->network + " " + first->address;
    else if (first && first->kind == event_kind::dns_start)
        g.header = "resolve " + first->host;
    else
        g.header = "dial";
    if (count > 1) g.header += "  [dial " + std::to_string(index) + "]";
    if (done)
        g.summary = done->error ? "failed: " + done->description
                                : "connected to " + endpoint_text(done->endpoint) + " in " +
                                      duration_text(done->at) + " (" + std::to_string(done->attempts.size()) +
                                      (done->attempts.size() == 1 ? " attempt)" : " attempts)");
    else
        g.summary = "unfinished";

    const double end = r.events.empty() ? 0.0 : to_ms(r.events.back().at);
    std::map<std::size_t, const recorded_event*> open;
    const recorded_event* dns_start = nullptr;
    std::vector<svg_bar> dns, attempts;
    for (const auto& e : r.events) {
        const double at = to_ms(e.at);
        if (e.kind == event_kind::dns_start) {
            dns_start = &e;
        } else if (e.kind == event_kind::dns_answer && e.family) {
            const double from = to_ms(span_start(dns_start, e));
            svg_bar b;
            const auto fam = std::string(to_string(*e.family));
            b.label = "dns " + fam;
            b.from_ms = offset_ms + from;
            b.to_ms = offset_ms + at;
            b.css_class = "dns " + fam;
            const std::string took = duration_text(e.elapsed);
            if (e.error == boost::asio::error::operation_aborted) {
                b.colour = unfinished_colour;
                b.note = "abandoned";
            } else if (e.error) {
                b.colour = dns_failed_colour;
                b.note = e.error.message();
            } else {
                b.colour = dns_colour;
                for (std::size_t i = 0; i < e.addrs.size(); ++i)
                    b.note += (i ? ", " : "") + address_text(e.addrs[i]);
                b.note += " (" + std::string(to_string(e.source)) + (e.coalesced ? ", coalesced)" : ")");
            }
            b.tooltip = (*e.family == address_family::ipv6 ? "AAAA " : "A ") + e.host + ": " + b.note + ", " + took;
            dns.push_back(std::move(b));
        } else if (e.kind == event_kind::connect_start) {
            open[e.attempt] = &e;
        } else if (e.kind == event_kind::connect_done) {
            const auto it = open.find(e.attempt);
            const double from = to_ms(span_start(it == open.end() ? nullptr : it->second, e));
            if (it != open.end()) open.erase(it);
            svg_bar b;
            const bool won = e.outcome == connect_outcome::won;
            const std::string outcome(to_string(e.outcome));
            b.label = "#" + std::to_string(e.attempt) + " " + endpoint_text(e.endpoint);
            b.from_ms = offset_ms + from;
            b.to_ms = offset_ms + at;
            b.colour = outcome_colour(e.outcome);
            b.note = (won ? "\u2605 won" : outcome) + " " + duration_text(e.elapsed);
            if (e.outcome == connect_outcome::failed && e.error) b.note += ": " + e.error.message();
            b.tooltip = b.label + ": " + outcome + (won ? " (the dial's connection)" : "") + " after " +
                        duration_text(e.elapsed) + (e.error ? ", " + e.error.message() : "");
            b.css_class = "attempt " + outcome + (won ? " winner" : "");
            b.bold = won;
            b.attempt = e.attempt;
            attempts.push_back(std::move(b));
        } else if (e.kind == event_kind::proxy_connect_done) {
            // A row of its own under the attempt's TCP row, as TLS has.
            svg_bar b;
            const bool won = e.outcome == connect_outcome::won;
            const std::string outcome(to_string(e.outcome));
            b.label = "#" + std::to_string(e.attempt) + " proxy";
            b.from_ms = offset_ms + to_ms(e.at - std::min(e.elapsed, e.at));
            b.to_ms = offset_ms + at;
            b.colour = outcome_colour(e.outcome);
            b.note = (won ? "\u2605 won" : outcome) + " " + duration_text(e.elapsed) + ", " +
                     std::string(to_string(e.scheme)) + " to " + e.target;
            if (e.status >= 0) b.note += " (" + std::to_string(e.status) + (e.reason.empty() ? "" : " " + e.reason) + ")";
            if (e.error && e.outcome == connect_outcome::failed) b.note += ": " + e.error.message();
            b.tooltip = "#" + std::to_string(e.attempt) + " tunnel through " + e.proxy + ": " + b.note;
            b.css_class = "proxy " + outcome + (won ? " winner" : "");
            b.bold = won;
            b.attempt = e.attempt;
            attempts.push_back(std::move(b));
        } else if (e.kind == event_kind::tls_handshake_done) {
            // A row of its own under the attempt's TCP row (the sort below
            // keeps it there): the handshake, which decides the attempt.
            svg_bar b;
            const bool won = e.outcome == connect_outcome::won;
            const std::string outcome(to_string(e.outcome));
            b.label = "#" + std::to_string(e.attempt) + " tls";
            b.from_ms = offset_ms + to_ms(e.at - std::min(e.elapsed, e.at));
            b.to_ms = offset_ms + at;
            b.colour = outcome_colour(e.outcome);
            b.note = (won ? "\u2605 won" : outcome) + " " + duration_text(e.elapsed);
            if (!e.tls_version.empty()) b.note += ", " + e.tls_version + (e.alpn.empty() ? "" : " " + e.alpn);
            if (e.error && e.outcome == connect_outcome::failed) b.note += ": " + e.error.message();
            if (!e.verify_error.empty()) b.note += " (" + e.verify_error + ")";
            b.tooltip = "#" + std::to_string(e.attempt) + " TLS handshake with " + endpoint_text(e.endpoint) + ": " +
                        b.note;
            b.css_class = "tls " + outcome + (won ? " winner" : "");
            b.bold = won;
            b.attempt = e.attempt;
            attempts.push_back(std::move(b));
        }
    }
    for (const auto& [attempt, e] : open) {
        svg_bar b;
        b.label = "#" + std::to_string(attempt) + " " + endpoint_text(e->endpoint);
        b.from_ms = offset_ms + to_ms(e->at);
        b.to_ms = offset_ms + end;
        b.colour = unfinished_colour;
        b.dashed = true;
        b.note = "unfinished";
        b.tooltip = b.label + ": unfinished";
        b.css_class = "attempt unfinished";
        b.attempt = attempt;
        attempts.push_back(std::move(b));
    }
    // connect_done order is finishing order; rows read better in start order.
    std::stable_sort(attempts.begin(), attempts.end(),
                     [](const svg_bar& a, const svg_bar& b) { return a.attempt < b.attempt; });
    g.bars = std::move(dns);
    g.bars.insert(g.bars.end(), std::make_move_iterator(attempts.begin()), std::make_move_iterator(attempts.end()));
    return g;
}

// Axis ticks at 1, 2 or 5 times a power of ten, about six of them.
double tick_step(double total) {
    const double raw = total / 6.0;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / mag;
    return mag * (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0);
}

std::string px(double v) { return fixed(v, 1); }

}  // namespace
}  // namespace detail

// ---------------------------------------------------------------------------

std::string to_json_line(const recorded_event& e, std::optional<std::size_t> dial) {
    using namespace detail;
    json_object o;
    // The hook's name, but for the three the tool's users read most: the
    // result, and httpstat's TLS line per attempt.
    std::string_view name = to_string(e.kind);
    if (e.kind == event_kind::dial_done) name = "result";
    if (e.kind == event_kind::tls_handshake_start) name = "tls_start";
    if (e.kind == event_kind::tls_handshake_done) name = "tls_done";
    o.string("event", name);
    if (dial) o.integer("dial", *dial);
    o.number("t_ms", to_ms(e.at), 3);
    switch (e.kind) {
    case event_kind::dial_start:
        o.string("network", e.network).string("address", e.address);
        break;
    case event_kind::dns_start:
    case event_kind::dns_answer:
    case event_kind::dns_done:
        o.string("host", e.host);
        if (e.family) o.string("family", to_string(*e.family));
        o.strings("addrs", address_strings(e.addrs))
            .boolean("coalesced", e.coalesced)
            .string_or_null("error", error_text(e.error));
        if (e.kind != event_kind::dns_start)
            o.string("source", to_string(e.source)).number("elapsed_ms", to_ms(e.elapsed), 3);
        break;
    case event_kind::connect_start:
    case event_kind::connect_done:
        o.string("network", e.network)
            .string("address", e.endpoint.address().to_string())
            .integer("port", e.endpoint.port())
            .integer("attempt", e.attempt)
            .string_or_null("error", error_text(e.error));
        if (e.kind == event_kind::connect_done)
            o.string("outcome", to_string(e.outcome)).number("elapsed_ms", to_ms(e.elapsed), 3);
        break;
    case event_kind::dial_done:
        o.boolean("ok", !e.error)
            .string_or_null("remote", e.error ? std::nullopt : std::optional(endpoint_text(e.endpoint)))
            .string_or_null("local", e.error ? std::nullopt : std::optional(endpoint_text(e.local)))
            .string_or_null("error", e.error ? std::optional(e.description) : std::nullopt)
            .integer("attempts", e.attempts.size())
            .number("elapsed_ms", to_ms(e.elapsed), 3);
        if (!e.tls_version.empty()) o.string("tls_version", e.tls_version).string("alpn", e.alpn);
        if (!e.proxy.empty()) o.string("proxy", e.proxy);
        break;
    case event_kind::proxy_connect_start:
    case event_kind::proxy_connect_done:
        o.string("proxy", e.proxy)
            .string("scheme", to_string(e.scheme))
            .string("address", e.endpoint.address().to_string())
            .integer("port", e.endpoint.port())
            .string("target", e.target)
            .integer("attempt", e.attempt);
        if (e.kind == event_kind::proxy_connect_done) {
            if (e.status >= 0)
                o.integer("status", static_cast<std::uint64_t>(e.status));
            else
                o.null("status");
            o.string("reason", e.reason)
                .string("outcome", to_string(e.outcome))
                .string_or_null("error", error_text(e.error))
                .number("elapsed_ms", to_ms(e.elapsed), 3);
        }
        break;
    case event_kind::tls_handshake_start:
    case event_kind::tls_handshake_done:
        o.string("server_name", e.server_name)
            .string("address", e.endpoint.address().to_string())
            .integer("port", e.endpoint.port())
            .integer("attempt", e.attempt);
        if (e.kind == event_kind::tls_handshake_done)
            o.string("outcome", to_string(e.outcome))
                .string("version", e.tls_version)
                .string("cipher", e.cipher)
                .string("alpn", e.alpn)
                .boolean("resumed", e.resumed)
                .string_or_null("error", error_text(e.error))
                .string_or_null("verify_error",
                                e.verify_error.empty() ? std::nullopt : std::optional(e.verify_error))
                .number("elapsed_ms", to_ms(e.elapsed), 3);
        break;
    }
    return o.str();
}

void write_json_lines(std::ostream& out, const dial_record& record, std::optional<std::size_t> dial) {
    for (const auto& e : record.events) out << to_json_line(e, dial) << '\n';
}

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

void write_svg_waterfall(std::ostream& out, std::span<const dial_record> dials) {
    using namespace detail;
    const auto base = earliest_start(dials);
    std::vector<svg_group> groups;
    double total = 0;
    for (std::size_t i = 0; i < dials.size(); ++i) {
        const auto& r = dials[i];
        const double offset = r.events.empty() ? 0.0 : to_ms(r.started - base);
        groups.push_back(svg_record(r, i, dials.size(), offset));
        if (!r.events.empty()) total = std::max(total, offset + to_ms(r.events.back().at));
    }
    if (total <= 0) total = 1;

    // Monospace metrics are only estimated (the viewer picks the font);
    // a generous character width keeps labels from running into the bars.
    constexpr double char_w = 7.4, row_h = 22, bar_h = 12, pad = 12, plot_w = 560, font = 12;
    std::size_t label_chars = 8, note_chars = 10, header_chars = 20;
    for (const auto& g : groups) {
        header_chars = std::max({header_chars, g.header.size(), g.summary.size()});
        for (const auto& b : g.bars) {
            label_chars = std::max(label_chars, b.label.size());
            note_chars = std::max(note_chars, b.note.size());
        }
    }
    note_chars = std::min<std::size_t>(note_chars, 60);
    const double plot_x = pad + double(label_chars) * char_w + pad;
    const double width = std::max(plot_x + plot_w + pad + double(note_chars) * char_w + pad,
                                  pad + double(header_chars) * char_w + pad);
    const auto x_of = [&](double ms) { return plot_x + ms / total * plot_w; };

    std::string body;
    double y = pad;
    for (const auto& g : groups) {
        body += "<g class=\"dial\">\n";
        body += "<text x=\"" + px(pad) + "\" y=\"" + px(y + font) + "\" font-weight=\"bold\">" + xml_escape(g.header) +
                "</text>\n";
        y += row_h;
        body += "<text x=\"" + px(pad) + "\" y=\"" + px(y + font) + "\" fill=\"#424242\">" + xml_escape(g.summary) +
                "</text>\n";
        y += row_h;
        for (const auto& b : g.bars) {
            const double x0 = x_of(b.from_ms);
            const double w = std::max(2.0, x_of(b.to_ms) - x0);  // a 40 µs connect still shows
            const double mid = y + row_h / 2;
            body += "<g class=\"row\">\n";
            body += "<text x=\"" + px(pad) + "\" y=\"" + px(mid + font / 3) + "\"" +
                    (b.bold ? " font-weight=\"bold\"" : "") + ">" + xml_escape(b.label) + "</text>\n";
            body += "<rect class=\"bar " + xml_escape(b.css_class) + "\" x=\"" + px(x0) + "\" y=\"" +
                    px(mid - bar_h / 2) + "\" width=\"" + px(w) + "\" height=\"" + px(bar_h) + "\" rx=\"2\" fill=\"" +
                    b.colour + "\"" + (b.bold ? " stroke=\"#1b5e20\" stroke-width=\"2\"" : "") +
                    (b.dashed ? " stroke=\"#607d8b\" stroke-dasharray=\"4 2\"" : "") + "><title>" +
                    xml_escape(b.tooltip) + "</title></rect>\n";
            std::string note = b.note;
            if (note.size() > 60) {
                // Cut on a UTF-8 boundary: never inside a multi-byte character.
                std::size_t cut = 57;
                while (cut > 0 && (static_cast<unsigned char>(note[cut]) & 0xC0) == 0x80) --cut;
                note = note.substr(0, cut) + "...";
            }
            body += "<text x=\"" + px(plot_x + plot_w + pad) + "\" y=\"" + px(mid + font / 3) + "\" fill=\"" +
                    (b.bold ? "#1b5e20" : "#424242") + "\"" + (b.bold ? " font-weight=\"bold\"" : "") + ">" +
                    xml_escape(note) + "</text>\n";
            body += "</g>\n";
            y += row_h;
        }
        body += "</g>\n";
        y += row_h / 2;
    }

    // The time axis: ticks, grid lines over the plot, the unit.
    const double plot_top = pad, axis_y = y;
    std::string axis = "<g class=\"axis\">\n";
    axis += "<line x1=\"" + px(plot_x) + "\" y1=\"" + px(axis_y) + "\" x2=\"" + px(plot_x + plot_w) + "\" y2=\"" +
            px(axis_y) + "\" stroke=\"#616161\"/>\n";
    const double step = tick_step(total);
    const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step)));
    for (int i = 0;; ++i) {
        const double t = step * i;
        if (t > total * 1.0001) break;
        const double x = x_of(t);
        axis += "<line x1=\"" + px(x) + "\" y1=\"" + px(plot_top) + "\" x2=\"" + px(x) + "\" y2=\"" + px(axis_y + 4) +
                "\" stroke=\"#e0e0e0\"/>\n";
        axis += "<text x=\"" + px(x) + "\" y=\"" + px(axis_y + 4 + font) + "\" text-anchor=\"middle\">" +
                fixed(t, decimals) + "</text>\n";
    }
    axis += "<text x=\"" + px(plot_x + plot_w) + "\" y=\"" + px(axis_y + 4 + 2 * font + 4) +
            "\" text-anchor=\"end\" fill=\"#424242\">ms since the " + (groups.size() > 1 ? "first " : "") +
            "dial started</text>\n";
    axis += "</g>\n";
    const double height = axis_y + 4 + 2 * font + 4 + pad;

    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << px(width) << "\" height=\"" << px(height)
        << "\" viewBox=\"0 0 " << px(width) << ' ' << px(height) << "\" font-family=\"ui-monospace, Menlo, Consolas, "
        << "'DejaVu Sans Mono', monospace\" font-size=\"" << px(font) << "\">\n"
        << "<title>nettrace dial waterfall</title>\n"
        << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        << axis << body << "</svg>\n";
}

void write_svg_waterfall(std::ostream& out, const dial_record& dial) { write_svg_waterfall(out, {&dial, 1}); }

}  // namespace nettrace
