// JSON lines (export.hpp): one event as one JSON object, the format of
// `nettrace-dial --json`. Each hook's fields are written by a function of
// their own; docs/tracing.md lists them.
#include <nettrace/address.hpp>
#include <nettrace/export.hpp>

#include "detail/export_support.hpp"
#include "detail/json_text.hpp"
#include "detail/number_text.hpp"

#include <boost/system/error_code.hpp>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace nettrace {
namespace detail {
namespace {

std::optional<std::string> error_text(const boost::system::error_code& ec) {
    return ec ? std::optional<std::string>(ec.message()) : std::nullopt;
}

// The hook's name, but for the three the tool's users read most: the
// result, and httpstat's TLS line per attempt.
std::string_view json_event_name(event_kind k) {
    if (k == event_kind::dial_done) return "result";
    if (k == event_kind::tls_handshake_start) return "tls_start";
    if (k == event_kind::tls_handshake_done) return "tls_done";
    return to_string(k);
}

void dns_fields(json_object& o, const recorded_event& e) {
    o.string("host", e.host);
    if (e.family) o.string("family", to_string(*e.family));
    if (e.https) {
        std::vector<std::string> records;
        for (const auto& r : e.records) records.push_back(to_string(r));
        o.string("family", "https").strings("records", records);
    }
    o.strings("addrs", address_strings(e.addrs))
        .boolean("coalesced", e.coalesced)
        .string_or_null("error", error_text(e.error));
    if (e.kind != event_kind::dns_start)
        o.string("source", to_string(e.source)).number("elapsed_ms", to_ms(e.elapsed), 3);
}

void connect_fields(json_object& o, const recorded_event& e) {
    o.string("network", e.network);
    if (e.network == "unix")
        o.string("path", e.address);  // dial_unix: a path, no address or port
    else
        o.string("address", e.endpoint.address().to_string()).integer("port", e.endpoint.port());
    o.integer("attempt", e.attempt).string_or_null("error", error_text(e.error));
    if (e.kind == event_kind::connect_start) {
        o.string("reason", to_string(e.order_reason));
        if (e.priority != 0) o.integer("priority", e.priority).strings("alpn", e.offered_alpn);
        if (e.nat64_from) o.string("nat64_from", e.nat64_from->to_string());
    }
    if (e.kind == event_kind::connect_done)
        o.string("outcome", to_string(e.outcome)).number("elapsed_ms", to_ms(e.elapsed), 3);
}

void dial_done_fields(json_object& o, const recorded_event& e) {
    o.boolean("ok", !e.error)
        .string_or_null("remote", e.error ? std::nullopt : std::optional(join_host_port(e.endpoint)))
        .string_or_null("local", e.error ? std::nullopt : std::optional(join_host_port(e.local)))
        .string_or_null("error", e.error ? std::optional(e.description) : std::nullopt)
        .integer("attempts", e.attempts.size())
        .number("elapsed_ms", to_ms(e.elapsed), 3);
    if (!e.tls_version.empty()) o.string("tls_version", e.tls_version).string("alpn", e.alpn);
    if (!e.proxy.empty()) o.string("proxy", e.proxy);
}

void proxy_fields(json_object& o, const recorded_event& e) {
    o.string("proxy", e.proxy)
        .string("scheme", to_string(e.scheme))
        .string("address", e.endpoint.address().to_string())
        .integer("port", e.endpoint.port())
        .string("target", e.target)
        .integer("attempt", e.attempt);
    if (e.kind != event_kind::proxy_connect_done) return;
    if (e.status >= 0)
        o.integer("status", static_cast<std::uint64_t>(e.status));
    else
        o.null("status");
    o.string("reason", e.reason)
        .string("outcome", to_string(e.outcome))
        .string_or_null("error", error_text(e.error))
        .number("elapsed_ms", to_ms(e.elapsed), 3);
}

void tls_fields(json_object& o, const recorded_event& e) {
    o.string("server_name", e.server_name)
        .string("address", e.endpoint.address().to_string())
        .integer("port", e.endpoint.port())
        .integer("attempt", e.attempt);
    if (e.kind != event_kind::tls_handshake_done) return;
    o.string("outcome", to_string(e.outcome))
        .string("version", e.tls_version)
        .string("cipher", e.cipher)
        .string("alpn", e.alpn)
        .boolean("resumed", e.resumed)
        .string_or_null("error", error_text(e.error))
        .string_or_null("verify_error", e.verify_error.empty() ? std::nullopt : std::optional(e.verify_error))
        .number("elapsed_ms", to_ms(e.elapsed), 3);
}

}  // namespace
}  // namespace detail

std::string to_json_line(const recorded_event& e, std::optional<std::size_t> dial) {
    using namespace detail;
    json_object o;
    o.string("event", json_event_name(e.kind));
    if (dial) o.integer("dial", *dial);
    o.number("t_ms", to_ms(e.at), 3);
    switch (e.kind) {
        case event_kind::dial_start:
            o.string("network", e.network).string("address", e.address);
            break;
        case event_kind::dns_start:
        case event_kind::dns_answer:
        case event_kind::dns_done:
            dns_fields(o, e);
            break;
        case event_kind::connect_start:
        case event_kind::connect_done:
            connect_fields(o, e);
            break;
        case event_kind::dial_done:
            dial_done_fields(o, e);
            break;
        case event_kind::proxy_connect_start:
        case event_kind::proxy_connect_done:
            proxy_fields(o, e);
            break;
        case event_kind::tls_handshake_start:
        case event_kind::tls_handshake_done:
            tls_fields(o, e);
            break;
    }
    return o.str();
}

void write_json_lines(std::ostream& out, const dial_record& record, std::optional<std::size_t> dial) {
    for (const auto& e : record.events) out << to_json_line(e, dial) << '\n';
}

}  // namespace nettrace
