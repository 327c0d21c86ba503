// nettrace/service.hpp — HTTPS/SVCB service records (RFC 9460), as the
// resolver parses them and the trace reports them.
//
// A dial_tls (and, when asked, a plain dial) looks up the HTTPS record of
// its host beside AAAA and A. A ServiceMode record says where the service
// is (its TargetName, port and addresses) and what it speaks (ALPN); the
// racer groups endpoints by the records' priority (docs/services.md).
#pragma once

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nettrace {

/// The SvcParamKeys nettrace interprets (RFC 9460 section 14.3.2).
enum class svc_param_key : std::uint16_t {
    mandatory = 0,
    alpn = 1,
    no_default_alpn = 2,
    port = 3,
    ipv4hint = 4,
    ech = 5,
    ipv6hint = 6,
};

/// A SvcParam nettrace does not interpret, kept as it came.
struct svc_param {
    std::uint16_t key = 0;
    std::vector<std::uint8_t> value;
};

/// One HTTPS (type 65) or SVCB (type 64) record. Only well-formed records
/// are ever handed out: a malformed one is dropped whole, never trusted in
/// part (RFC 9460 section 2.2: "MUST be ignored").
struct service_record {
    /// SvcPriority: 0 is AliasMode (the service lives under `target`'s
    /// records); otherwise ServiceMode, lower values preferred.
    std::uint16_t priority = 0;
    /// TargetName, without the trailing dot; "." stands for the owner name
    /// (the record's own name).
    std::string target;
    std::vector<std::string> alpn;  ///< the alpn SvcParam, in the record's order
    bool no_default_alpn = false;   ///< the client's default ALPN ("http/1.1") is not offered
    std::uint16_t port = 0;         ///< 0: the port SvcParam is absent (the dialed port is used)
    std::vector<boost::asio::ip::address_v4> ipv4hint;
    std::vector<boost::asio::ip::address_v6> ipv6hint;
    /// The ECHConfigList, as it came. OpenSSL 3.0 cannot offer ECH, so
    /// nettrace never uses it; it is exposed for the trace only.
    std::vector<std::uint8_t> ech;
    std::vector<std::uint16_t> mandatory;  ///< the mandatory SvcParam's keys
    std::vector<svc_param> unknown;        ///< SvcParams of other keys, in key order
    std::uint32_t ttl = 0;

    bool alias_mode() const noexcept { return priority == 0; }
};

/// The presentation form of a record, as in a zone file:
/// `1 . alpn=h2,http/1.1 port=8443 ipv4hint=127.0.0.1`; ech in base64,
/// unknown keys as keyNNNNN=hex. For logs and the trace.
std::string to_string(const service_record& r);

/// The name whose HTTPS record describes `host:port` (RFC 9460 section
/// 9.1): `host` for port 443, `_PORT._https.host` otherwise.
std::string https_query_name(std::string_view host, std::uint16_t port);

}  // namespace nettrace
