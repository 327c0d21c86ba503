#include <nettrace/error.hpp>

#include "detail/error_table.hpp"

#include <ostream>
#include <iterator>
#include <string>

namespace nettrace {
namespace detail {
namespace {

namespace errc = boost::system::errc;

// Indexed by value - 1: the enum counts from 1 without gaps.
constexpr error_entry errors[] = {
    {error::unknown_network, "unknown_network", "unknown network (expected tcp, tcp4 or tcp6)", errc::invalid_argument},
    {error::missing_port, "missing_port", "missing port in address", errc::invalid_argument},
    {error::invalid_port, "invalid_port", "invalid port (expected 0-65535 or a known service name)",
     errc::invalid_argument},
    {error::missing_host, "missing_host", "missing host in address", errc::invalid_argument},
    {error::invalid_host, "invalid_host",
     "invalid host name (letters, digits, '-', '_' and '.' only, labels of 1-63 bytes)", errc::invalid_argument},
    {error::host_too_long, "host_too_long", "host name longer than 253 bytes", errc::invalid_argument},
    {error::unclosed_bracket, "unclosed_bracket", "missing ']' in address", errc::invalid_argument},
    {error::unexpected_bracket, "unexpected_bracket", "unexpected '[' or ']' in address", errc::invalid_argument},
    {error::junk_after_bracket, "junk_after_bracket", "unexpected text after ']' in address (expected ':port')",
     errc::invalid_argument},
    {error::too_many_colons, "too_many_colons", "too many colons in address (write IPv6 addresses as [addr]:port)",
     errc::invalid_argument},
    {error::invalid_zone, "invalid_zone", "invalid IPv6 zone (expected an interface name or index)",
     errc::invalid_argument},
    {error::zone_on_ipv4, "zone_on_ipv4", "zone is only allowed on IPv6 addresses", errc::invalid_argument},
    {error::host_not_found, "host_not_found", "no such host"},
    {error::no_addresses, "no_addresses", "host has no address for this network"},
    {error::dns_failure, "dns_failure", "DNS server failure"},
    {error::dns_timeout, "dns_timeout", "DNS query timed out", errc::timed_out},
    {error::dns_refused, "dns_refused", "DNS query refused by the name server"},
    {error::dns_malformed, "dns_malformed", "malformed DNS answer"},
    {error::no_resolver, "no_resolver",
     "host not in the static resolver's table (add it, or give make_static_resolver a fallback resolver)"},
    {error::timeout, "timeout", "dial timed out", errc::timed_out},
    {error::no_suitable_address, "no_suitable_address", "no suitable address found for this network"},
    {error::no_local_address, "no_local_address", "no local address configured for this address family"},
    {error::invalid_proxy_url, "invalid_proxy_url", "invalid proxy URL (expected scheme://[user:password@]host[:port])",
     errc::invalid_argument},
    {error::unsupported_proxy_scheme, "unsupported_proxy_scheme",
     "unsupported proxy scheme (expected http, socks5 or socks5h)", errc::invalid_argument},
    {error::proxy_auth_required, "proxy_auth_required",
     "proxy authentication required (HTTP 407): check the proxy's user and password"},
    {error::proxy_rejected, "proxy_rejected", "the proxy refused to open the tunnel (its status is in the trace)"},
    {error::proxy_malformed_reply, "proxy_malformed_reply",
     "malformed reply from the proxy (is it the kind of proxy, HTTP or SOCKS5, that the URL says?)"},
    {error::proxy_reply_too_large, "proxy_reply_too_large", "the proxy's reply header is too large"},
    {error::proxy_closed, "proxy_closed", "the proxy closed the connection before its reply was complete"},
    {error::proxy_timeout, "proxy_timeout", "the proxy did not reply in time", errc::timed_out},
    {error::socks_no_acceptable_method, "socks_no_acceptable_method",
     "the SOCKS5 proxy accepts none of the offered authentication methods (does it need a user and password?)"},
    {error::socks_auth_failed, "socks_auth_failed", "the SOCKS5 proxy refused the user and password"},
    {error::socks_general_failure, "socks_general_failure", "SOCKS5 proxy: general failure"},
    {error::socks_not_allowed, "socks_not_allowed", "SOCKS5 proxy: connection not allowed by its rules"},
    {error::socks_network_unreachable, "socks_network_unreachable", "SOCKS5 proxy: network unreachable",
     errc::network_unreachable},
    {error::socks_host_unreachable, "socks_host_unreachable", "SOCKS5 proxy: host unreachable", errc::host_unreachable},
    {error::socks_connection_refused, "socks_connection_refused", "SOCKS5 proxy: connection refused by the target",
     errc::connection_refused},
    {error::socks_ttl_expired, "socks_ttl_expired", "SOCKS5 proxy: TTL expired"},
    {error::socks_command_not_supported, "socks_command_not_supported", "SOCKS5 proxy: command not supported"},
    {error::socks_address_type_not_supported, "socks_address_type_not_supported",
     "SOCKS5 proxy: address type not supported"},
    {error::no_dns_resolver, "no_dns_resolver",
     "nettrace was built without c-ares: use make_system_resolver(), or rebuild nettrace with -Dcares=enabled"},
    {error::invalid_unix_path, "invalid_unix_path",
     "invalid unix socket path (empty, or a NUL byte: write an abstract name as @name)", errc::invalid_argument},
    {error::unix_path_too_long, "unix_path_too_long",
     "unix socket path longer than 107 bytes (sockaddr_un's limit): use a shorter path or a directory closer to /",
     errc::invalid_argument},
    {error::not_a_socket, "not_a_socket",
     "the path exists but is not a unix socket (is the server listening on another path?)", errc::not_a_socket},
    {error::no_service_record, "no_service_record", "the name has no HTTPS record"},
    {error::service_lookup_unsupported, "service_lookup_unsupported",
     "this resolver cannot look up HTTPS records (use make_dns_resolver(), or turn dial_options::https_records off)"},
    {error::malformed_service_record, "malformed_service_record",
     "an HTTPS record breaks RFC 9460 and was ignored (see the trace's dns_answer)"},
    {error::service_alias_loop, "service_alias_loop", "the HTTPS AliasMode records loop or chain deeper than 8 names"},
    {error::empty_endpoint_list, "empty_endpoint_list", "dial was given an empty list of endpoints"},
    {error::invalid_nat64_prefix, "invalid_nat64_prefix",
     "a NAT64 prefix must be an IPv6 prefix of length 32, 40, 48, 56, 64 or 96 (RFC 6052), such as 64:ff9b::/96",
     errc::invalid_argument},
    {error::no_nat64_prefix, "no_nat64_prefix",
     "no NAT64 prefix: ipv4only.arpa has no AAAA answer, so this IPv6-only host cannot reach an IPv4 address"},
};

}  // namespace

const error_entry* find_error(int value) noexcept {
    if (value < 1 || value > static_cast<int>(std::size(errors))) return nullptr;
    const auto& e = errors[value - 1];
    return static_cast<int>(e.code) == value ? &e : nullptr;
}

}  // namespace detail

namespace {

class category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "nettrace"; }

    std::string message(int ev) const override {
        if (const auto* e = detail::find_error(ev)) return std::string(e->message);
        return "unknown nettrace error " + std::to_string(ev);
    }

    // Lets callers test portable conditions: ec == std::errc::timed_out.
    boost::system::error_condition default_error_condition(int ev) const noexcept override {
        const auto* e = detail::find_error(ev);
        if (e && e->condition != boost::system::errc::success) return e->condition;
        return {ev, *this};
    }
};

}  // namespace

const boost::system::error_category& category() noexcept {
    static const category_impl instance;
    return instance;
}

std::ostream& operator<<(std::ostream& os, error e) { return os << make_error_code(e).message(); }

}  // namespace nettrace
