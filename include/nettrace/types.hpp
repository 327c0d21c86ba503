// nettrace/types.hpp — the small value types that resolvers, the racer and
// the trace hooks share: an address family, where a DNS answer came from,
// how a connect attempt ended.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string_view>

namespace nettrace {

enum class address_family : std::uint8_t { ipv6, ipv4 };

/// Where a DNS answer came from.
enum class dns_source : std::uint8_t {
    none,          ///< no answer (the lookup failed or was abandoned)
    hosts,         ///< the hosts file
    cache,         ///< a cached answer
    dns,           ///< a DNS server
    static_table,  ///< a static_resolver table (like curl's --resolve)
    system,        ///< the system resolver (getaddrinfo)
};

/// How one connect attempt ended.
enum class connect_outcome : std::uint8_t {
    won,         ///< connected first (with dial_tls: its handshake completed first); this is the result
    lost,        ///< connected, but the dial no longer needed it (another attempt had won,
                 ///< or the dial was cancelled or timed out in the same instant); closed
    failed,      ///< the connect failed (see error); with dial_tls, or a later stage that failed
    superseded,  ///< cancelled because another attempt won
    cancelled,   ///< cancelled by the caller or by the dial's timeout
    connected,   ///< connect_done only: TCP connected and later stages (TLS) decide the attempt;
                 ///< its final outcome is in the stage's done hook and in dial_done
};

/// Why an attempt starts where it does in the race (connect_start_info).
enum class attempt_reason : std::uint8_t {
    resolver_order,    ///< next of its family, in the resolver's (or the HTTPS record's, or the caller's) order
    interleave,        ///< the family alternation (RFC 8305 section 4) put it here
    history_promoted,  ///< a recent win (connection_history) moved it ahead, lower RTT first
    history_demoted,   ///< a recent failure moved it behind the healthy endpoints
    history_family,    ///< the host's preferred family was recently black-holed: this family leads
};

std::string_view to_string(address_family f) noexcept;
std::string_view to_string(attempt_reason r) noexcept;
std::string_view to_string(dns_source s) noexcept;
std::string_view to_string(connect_outcome o) noexcept;

std::ostream& operator<<(std::ostream& os, address_family f);
std::ostream& operator<<(std::ostream& os, attempt_reason r);
std::ostream& operator<<(std::ostream& os, dns_source s);
std::ostream& operator<<(std::ostream& os, connect_outcome o);

}  // namespace nettrace
