#include <nettrace/types.hpp>

#include "detail/enum_names.hpp"

#include <ostream>

namespace nettrace {

std::string_view to_string(address_family f) noexcept { return f == address_family::ipv6 ? "ipv6" : "ipv4"; }

// Each table in its enumerators' order.
std::string_view to_string(dns_source s) noexcept {
    constexpr std::string_view names[] = {"none", "hosts", "cache", "dns", "static", "system"};
    return detail::enum_name(s, names);
}

std::string_view to_string(connect_outcome o) noexcept {
    constexpr std::string_view names[] = {"won", "lost", "failed", "superseded", "cancelled", "connected"};
    return detail::enum_name(o, names);
}

std::string_view to_string(attempt_reason r) noexcept {
    constexpr std::string_view names[] = {"resolver_order", "interleave", "history_promoted", "history_demoted",
                                          "history_family"};
    return detail::enum_name(r, names);
}

std::ostream& operator<<(std::ostream& os, address_family f) { return os << to_string(f); }
std::ostream& operator<<(std::ostream& os, attempt_reason r) { return os << to_string(r); }
std::ostream& operator<<(std::ostream& os, dns_source s) { return os << to_string(s); }
std::ostream& operator<<(std::ostream& os, connect_outcome o) { return os << to_string(o); }

}  // namespace nettrace
