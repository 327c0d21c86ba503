// nettrace/recorder.hpp — dial_record: every hook event of one dial, copied
// out of the info structs and stamped with the time since the dial started;
// with_recording fills one, optionally streaming each event as it happens.
//
// A record is plain data: the exporters (export.hpp) read it, and a caller
// can build or edit one by hand (to test a report, or to merge sources).
#pragma once

#include <nettrace/context.hpp>
#include <nettrace/detail/hook_list.hpp>
#include <nettrace/service.hpp>
#include <nettrace/trace.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nettrace {

/// Which hook an event came from; one per client_trace member.
enum class event_kind : std::uint8_t {
#define NETTRACE_HOOK_KIND(name, info) name,
    NETTRACE_HOOKS(NETTRACE_HOOK_KIND)
#undef NETTRACE_HOOK_KIND
};

/// The hook's name: "dial_start", "dns_answer", ...
std::string_view to_string(event_kind k) noexcept;
std::ostream& operator<<(std::ostream& os, event_kind k);

/// One hook call. The fields a hook's info struct does not have keep their
/// defaults; which ones apply is noted per field.
struct recorded_event {
    event_kind kind = event_kind::dial_start;
    /// Since the record's dial_start (the first event, when there was none:
    /// a resolve() has no dial_start).
    std::chrono::steady_clock::duration at{};

    /// dial_start, connect_*, dial_done: "tcp", "tcp4" or "tcp6".
    std::string network;
    /// dial_start, dial_done: the address as given to dial(); connect_* of
    /// a "unix" dial: the socket's path.
    std::string address;

    /// dns_*: the name looked up.
    std::string host;
    /// dns_answer: the family this answer is for (none for an HTTPS answer).
    std::optional<address_family> family;
    /// dns_answer of HTTPS records: true, and the records.
    bool https = false;
    std::vector<service_record> records;
    /// dns_answer: that family's addresses; dns_done: all of them, IPv6 first.
    std::vector<boost::asio::ip::address> addrs;
    /// dns_answer, dns_done.
    dns_source source = dns_source::none;
    /// dns_answer, dns_done.
    bool coalesced = false;

    /// connect_*: the attempt's peer; dial_done: the winner's (when
    /// connected); tls_*: the handshake's peer; proxy_*: the proxy's address.
    boost::asio::ip::tcp::endpoint endpoint;
    /// dial_done: the winner's local endpoint, when connected.
    boost::asio::ip::tcp::endpoint local;
    /// connect_*, tls_*, proxy_*: 0, 1, 2... in start order.
    std::size_t attempt = 0;
    /// connect_start: the HTTPS record's SvcPriority (0: none) and the ALPN
    /// offered; with NAT64, the IPv4 address `endpoint` was made from.
    std::uint16_t priority = 0;
    std::vector<std::string> offered_alpn;
    std::optional<boost::asio::ip::address_v4> nat64_from;
    /// connect_start: why the attempt starts where it does.
    attempt_reason order_reason = attempt_reason::resolver_order;
    /// connect_done, tls_handshake_done, proxy_connect_done.
    connect_outcome outcome = connect_outcome::failed;
    /// dial_done: every attempt, in start order.
    std::vector<attempt_record> attempts;
    /// dial_done: dial_done_info::describe().
    std::string description;

    /// tls_*: the server name (SNI, verified name).
    std::string server_name;
    /// tls_handshake_done: "TLSv1.3", cipher and selected ALPN protocol
    /// (empty on failure or when none), session resumption, why verification
    /// failed. dial_done: the winning handshake's version and ALPN.
    std::string tls_version, cipher, alpn, verify_error;
    bool resumed = false;

    /// proxy_*: the proxy's URL (password redacted), its scheme, and the
    /// "host:port" asked of it; dial_done: the proxy's URL, when one was used.
    std::string proxy;
    proxy_scheme scheme = proxy_scheme::http;
    std::string target;
    /// proxy_connect_done: the HTTP status or SOCKS5 reply (-1: none), and
    /// the HTTP reason phrase.
    int status = -1;
    std::string reason;

    /// dns_answer, dns_done, connect_done, dial_done, tls_handshake_done,
    /// proxy_connect_done.
    boost::system::error_code error;
    /// dns_answer, dns_done: since dns_start; connect_done: since its
    /// connect_start; dial_done: since dial_start; tls_handshake_done: since
    /// tls_handshake_start; proxy_connect_done: since proxy_connect_start.
    std::chrono::steady_clock::duration elapsed{};
    /// dial_done, tls_handshake_done: the exception a hook threw, if one did.
    std::exception_ptr hook_exception;
};

/// Every event of one dial (or one resolve), in the order the hooks ran.
struct dial_record {
    /// When the first event (normally dial_start) was recorded; the exporters
    /// use it to place several dials on one time axis.
    std::chrono::steady_clock::time_point started{};
    std::vector<recorded_event> events;

    /// The dial_done event, or nullptr while the dial is still running.
    const recorded_event* done() const noexcept;
};

/// Called with the record and the event just appended to it.
using record_callback = std::function<void(const dial_record&, const recorded_event&)>;

/// A context whose trace appends every event of a dial given it to `out`,
/// then calls `on_event` (when set) with it: the event is copied out of the
/// info struct first, so `on_event` may copy it (the reference itself is
/// valid only during the call: the next event may move the vector).
///
/// A dial_start clears `out`, so one record can serve consecutive dials and
/// holds the latest. The hooks run on the dial's strand and never
/// concurrently, and all have run before the dial's completion handler: read
/// `out` from the handler or after it, not while the dial runs (except from
/// `on_event`). Concurrent dials need one record, hence one context, each.
/// `out` must outlive every dial given the context. An exception from
/// `on_event` is handled like any hook's (trace.hpp): the dial carries on.
context with_recording(const context& parent, dial_record& out, record_callback on_event = {});

}  // namespace nettrace
