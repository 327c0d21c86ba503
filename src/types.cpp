#include <nettrace/types.hpp>

#include <cstddef>
#include <iterator>
#include <ostream>

namespace nettrace {

std::string_view to_string(address_family f) noexcept { return f == address_family::ipv6 ? "ipv6" : "ipv4"; }

std::string_view to_string(dns_source s) noexcept {
    switch (s) {
        case dns_source::none:
            return "none";
        case dns_source::hosts:
            return "hosts";
        case dns_source::cache:
            return "cache";
        case dns_source::dns:
            return "dns";
        case dns_source::static_table:
            return "static";
        case dns_source::system:
            return "system";
    }
    return "unknown";
}

std::string_view to_string(connect_outcome o) noexcept {
    switch (o) {
        case connect_outcome::won:
            return "won";
        case connect_outcome::lost:
            return "lost";
        case connect_outcome::failed:
            return "failed";
        case connect_outcome::superseded:
            return "superseded";
        case connect_outcome::cancelled:
            return "cancelled";
        case connect_outcome::connected:
            return "connected";
    }
    return "unknown";
}

std::string_view to_string(attempt_reason r) noexcept {
    // In the enumerators' order.
    constexpr std::string_view names[] = {"resolver_order", "interleave", "history_promoted", "history_demoted",
                                          "history_family"};
    const auto i = static_cast<std::size_t>(r);
    return i < std::size(names) ? names[i] : "unknown";
}

std::ostream& operator<<(std::ostream& os, address_family f) { return os << to_string(f); }
std::ostream& operator<<(std::ostream& os, attempt_reason r) { return os << to_string(r); }
std::ostream& operator<<(std::ostream& os, dns_source s) { return os << to_string(s); }
std::ostream& operator<<(std::ostream& os, connect_outcome o) { return os << to_string(o); }

}  // namespace nettrace
