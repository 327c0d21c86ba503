#include <nettrace/error.hpp>

#include <ostream>
#include <string>

namespace nettrace {
namespace {

class category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "nettrace"; }

    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::unknown_network: return "unknown network (expected tcp, tcp4 or tcp6)";
        case error::missing_port: return "missing port in address";
        case error::invalid_port: return "invalid port (expected 0-65535 or a known service name)";
        case error::missing_host: return "missing host in address";
        case error::invalid_host: return "invalid host name (letters, digits, '-', '_' and '.' only, labels of 1-63 bytes)";
        case error::host_too_long: return "host name longer than 253 bytes";
        case error::unclosed_bracket: return "missing ']' in address";
        case error::unexpected_bracket: return "unexpected '[' or ']' in address";
        case error::junk_after_bracket: return "unexpected text after ']' in address (expected ':port')";
        case error::too_many_colons: return "too many colons in address (write IPv6 addresses as [addr]:port)";
        case error::invalid_zone: return "invalid IPv6 zone (expected an interface name or index)";
        case error::zone_on_ipv4: return "zone is only allowed on IPv6 addresses";
        case error::host_not_found: return "no such host";
        case error::no_addresses: return "host has no address for this network";
        case error::dns_failure: return "DNS server failure";
        case error::dns_timeout: return "DNS query timed out";
        case error::dns_refused: return "DNS query refused by the name server";
        case error::dns_malformed: return "malformed DNS answer";
        case error::no_resolver: return "host not in the resolver's table";
        case error::timeout: return "dial timed out";
        case error::no_suitable_address: return "no suitable address found for this network";
        case error::no_local_address: return "no local address configured for this address family";
        }
        return "unknown nettrace error " + std::to_string(ev);
    }

    // Lets callers test portable conditions: ec == std::errc::timed_out.
    boost::system::error_condition default_error_condition(int ev) const noexcept override {
        switch (static_cast<error>(ev)) {
        case error::timeout:
        case error::dns_timeout: return boost::system::errc::timed_out;
        case error::unknown_network:
        case error::missing_port:
        case error::invalid_port:
        case error::missing_host:
        case error::invalid_host:
        case error::host_too_long:
        case error::unclosed_bracket:
        case error::unexpected_bracket:
        case error::junk_after_bracket:
        case error::too_many_colons:
        case error::invalid_zone:
        case error::zone_on_ipv4: return boost::system::errc::invalid_argument;
        default: return {ev, *this};
        }
    }
};

}  // namespace

const boost::system::error_category& category() noexcept {
    static const category_impl instance;
    return instance;
}

std::ostream& operator<<(std::ostream& os, error e) { return os << make_error_code(e).message(); }

}  // namespace nettrace
