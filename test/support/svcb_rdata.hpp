// HTTPS/SVCB RDATA for tests to serve (fake_dns_server's behaviour::rdata,
// dnsmasq's --dns-rr=NAME,65,HEX): from the presentation form, or key by key
// as given, which is how a test writes a malformed record.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nettrace::testing {

using svc_params = std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>>;

/// A name in wire form, uncompressed: "svc.test" (a trailing dot
/// optional; "" or "." the root). Throws std::invalid_argument for an
/// empty or over-long label.
std::vector<std::uint8_t> wire_name(std::string_view dotted);

/// SvcPriority, TargetName (uncompressed; "." or "" is the root, a trailing
/// dot optional) and each SvcParam as (key, value), in the order given and
/// unchecked: out-of-order, duplicate or ill-sized params are written as
/// they are.
std::vector<std::uint8_t> svcb_rdata(std::uint16_t priority, std::string_view target, const svc_params& params);

/// From a record's presentation form, as in a zone file (RFC 9460 appendix
/// A): "1 . alpn=h2,http/1.1 port=8443 ipv4hint=127.0.0.1". Keys:
/// mandatory, alpn (with the RFC's escapes: \, \\ \DDD, optionally quoted),
/// no-default-alpn, port, ipv4hint, ipv6hint, ech (base64) and keyNNNNN=HEX
/// (nettrace::to_string's form for keys it does not interpret). The params
/// are written in ascending key order, as the wire format requires; a
/// repeated key is written twice (malformed on purpose). Throws
/// std::invalid_argument for what it cannot read.
std::vector<std::uint8_t> svcb_rdata(std::string_view presentation);

/// Lower-case hex: dnsmasq's --dns-rr=NAME,65,HEX.
std::string hex(std::span<const std::uint8_t> bytes);
/// The reverse, for test vectors written as hex; spaces are skipped.
std::vector<std::uint8_t> unhex(std::string_view text);

}  // namespace nettrace::testing
