// address.cpp — Go-style network names and "host:port" strings.
//
// The splitting rules follow Go's net.SplitHostPort; validation is stricter
// than Go's Dial so that bad input is reported before any DNS query.

#include <nettrace/address.hpp>

#include "detail/enum_names.hpp"
#include "detail/host_port_view.hpp"

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>

#include <algorithm>
#include <array>
#include <limits>

#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>

namespace nettrace {
namespace {

constexpr std::size_t max_name_length = 253;
constexpr std::size_t max_label_length = 63;

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr char to_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool is_number(std::string_view s) noexcept { return !s.empty() && std::all_of(s.begin(), s.end(), is_digit); }

// Accumulates digit by digit so that "99999999999999999999" fails instead of
// wrapping around to a plausible value.
bool parse_decimal(std::string_view s, std::uint32_t max, std::uint32_t& out) noexcept {
    if (s.empty()) return false;
    std::uint64_t value = 0;
    for (char c : s) {
        if (!is_digit(c)) return false;
        value = value * 10 + std::uint64_t(c - '0');
        if (value > max) return false;
    }
    out = std::uint32_t(value);
    return true;
}

struct service {
    std::string_view name;
    std::uint16_t port;
};

// Answers the common cases without the services database, which minimal
// containers often lack.
constexpr service well_known_services[] = {
    {"http", 80},        {"https", 443},  {"ftp", 21},     {"ssh", 22},          {"telnet", 23},  {"smtp", 25},
    {"domain", 53},      {"pop3", 110},   {"imap", 143},   {"ldap", 389},        {"imaps", 993},  {"pop3s", 995},
    {"submission", 587}, {"socks", 1080}, {"mysql", 3306}, {"postgresql", 5432}, {"redis", 6379}, {"http-alt", 8080},
};

std::optional<std::uint16_t> lookup_service(std::string_view name) {
    // Screening here keeps arbitrary bytes (and embedded NULs) away from NSS.
    bool plausible = !name.empty() && std::all_of(name.begin(), name.end(),
                                                  [](char c) { return is_alpha(c) || is_digit(c) || c == '-'; });
    if (!plausible) return std::nullopt;

    // Go lower-cases service names before every lookup; the services
    // database itself compares case-sensitively.
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(), to_lower);

    for (const auto& s : well_known_services)
        if (s.name == lower) return s.port;

    servent entry{};
    servent* found = nullptr;
    std::array<char, 4096> buffer;
    if (::getservbyname_r(lower.c_str(), "tcp", &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr)
        return std::nullopt;
    return ntohs(static_cast<std::uint16_t>(found->s_port));
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
    std::uint32_t port = 0;
    if (parse_decimal(text, std::numeric_limits<std::uint16_t>::max(), port)) return std::uint16_t(port);
    if (is_number(text)) return std::nullopt;  // digits, but above 65535
    return lookup_service(text);
}

// A zone must name an interface that exists, by name or by index: a scope
// id that names none would only fail later, at connect, with a less telling
// error (or be silently ignored for a global address).
std::optional<unsigned long> zone_index(std::string_view zone) {
    if (zone.empty() || zone.size() >= IF_NAMESIZE || zone.find('\0') != std::string_view::npos) return std::nullopt;
    std::uint32_t index = 0;
    if (parse_decimal(zone, std::numeric_limits<std::uint32_t>::max(), index)) {
        char name[IF_NAMESIZE];
        if (index == 0 || ::if_indextoname(index, name) == nullptr) return std::nullopt;
        return index;
    }
    unsigned int found = ::if_nametoindex(std::string(zone).c_str());
    if (found == 0) return std::nullopt;
    return found;
}

bool is_valid_label(std::string_view label) noexcept {
    if (label.empty() || label.size() > max_label_length) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    return std::all_of(label.begin(), label.end(),
                       [](char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '_'; });
}

std::string_view without_trailing_dot(std::string_view host) noexcept {
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    return host;
}

// inet_pton's strict dotted quad, by hand (no copy to a C string, no libc
// call on every dial): four decimal parts of 1 to 3 digits, each at most
// 255 and without a leading zero; no "1.2.3", "0x7f.1" or "01.2.3.4". Reads
// the longest prefix of `text` that is one and says how long it was.
std::optional<boost::asio::ip::address_v4> parse_ipv4_prefix(std::string_view text, std::size_t& length) {
    const char *p = text.data(), *const end = p + text.size();
    std::uint32_t value = 0;
    for (int k = 0; k < 4; ++k) {
        if (k != 0) {
            if (p == end || *p != '.') return std::nullopt;
            ++p;
        }
        if (p == end || !is_digit(*p)) return std::nullopt;
        std::uint32_t part = std::uint32_t(*p++ - '0');
        // A leading zero ends its part: "01" leaves a digit where a dot must be.
        for (int d = 1; part != 0 && d < 3 && p != end && is_digit(*p); ++d) part = part * 10 + std::uint32_t(*p++ - '0');
        if (part > 255) return std::nullopt;
        value = value << 8 | part;
    }
    length = std::size_t(p - text.data());
    return boost::asio::ip::address_v4(value);
}

std::optional<boost::asio::ip::address_v4> parse_ipv4(std::string_view text) {
    std::size_t length = 0;
    auto v4 = parse_ipv4_prefix(text, length);
    if (!v4 || length != text.size()) return std::nullopt;
    return v4;
}

// Only digits and dots: what an IPv4 literal is made of (and no name is,
// for a name needs a letter in its last label).
bool is_dotted(std::string_view s) noexcept {
    return std::all_of(s.begin(), s.end(), [](char c) { return is_digit(c) || c == '.'; });
}

std::nullopt_t fail(boost::system::error_code& ec, error e) {
    ec = e;
    return std::nullopt;
}

}  // namespace

std::optional<network> parse_network(std::string_view text, boost::system::error_code& ec) noexcept {
    // Every dial asks: compared by hand, not through the names table.
    if (text.size() >= 3 && text[0] == 't' && text[1] == 'c' && text[2] == 'p') {
        if (text.size() == 3) return ec.clear(), network::tcp;
        if (text.size() == 4 && text[3] == '4') return ec.clear(), network::tcp4;
        if (text.size() == 4 && text[3] == '6') return ec.clear(), network::tcp6;
    }
    ec = error::unknown_network;
    return std::nullopt;
}

std::string_view to_string(network n) noexcept {
    // In the enumerators' order.
    constexpr std::string_view names[] = {"tcp", "tcp4", "tcp6"};
    return detail::enum_name(n, names, "tcp");
}

bool is_valid_host_name(std::string_view host) noexcept {
    host = without_trailing_dot(host);
    if (host.empty() || host.size() > max_name_length) return false;
    for (std::size_t start = 0;;) {
        auto dot = host.find('.', start);
        if (!is_valid_label(host.substr(start, dot - start))) return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

std::optional<boost::asio::ip::address> parse_ip_literal(std::string_view host, boost::system::error_code& ec) {
    ec.clear();
    // The C parsers below stop at a NUL, so "127.0.0.1\0junk" would pass.
    if (host.find('\0') != std::string_view::npos) {
        ec = error::invalid_host;
        return std::nullopt;
    }
    const auto percent = host.find('%');
    const auto literal = host.substr(0, percent);
    if (literal.find(':') == std::string_view::npos) {
        auto v4 = parse_ipv4(literal);
        if (percent != std::string_view::npos) {
            ec = v4 ? error::zone_on_ipv4 : error::invalid_host;
            return std::nullopt;
        }
        if (!v4) return std::nullopt;  // a name, not a literal
        return boost::asio::ip::address(*v4);
    }
    // A colon is never part of a name: this is an IPv6 literal or nothing.
    boost::system::error_code parse_ec;
    auto v6 = boost::asio::ip::make_address_v6(std::string(literal), parse_ec);
    if (parse_ec) {
        ec = error::invalid_host;
        return std::nullopt;
    }
    if (percent != std::string_view::npos) {
        auto scope = zone_index(host.substr(percent + 1));
        if (!scope) {
            ec = error::invalid_zone;
            return std::nullopt;
        }
        v6.scope_id(*scope);
    }
    return boost::asio::ip::address(v6);
}

namespace detail {

bool is_legacy_numeric_host(std::string_view host) noexcept {
    // inet_aton's forms: 1 to 4 parts, each decimal, octal (leading 0) or
    // hex (0x), the last filling the remaining bytes. Anything else a name
    // may hold (a letter other than a hex digit after 0x) makes it a name.
    host = without_trailing_dot(host);
    if (host.empty()) return false;
    int parts = 0;
    for (std::size_t start = 0;;) {
        auto dot = host.find('.', start);
        auto part = host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (part.empty() || ++parts > 4) return false;
        if (part.size() > 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
            if (!std::all_of(part.begin() + 2, part.end(),
                             [](char c) { return is_digit(c) || (to_lower(c) >= 'a' && to_lower(c) <= 'f'); }))
                return false;
        } else if (!is_number(part)) {
            return false;
        }
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

}  // namespace detail

namespace {

struct ipv4_and_port {
    boost::asio::ip::address_v4 ip;
    std::size_t host_length;
    std::uint16_t port;
};

// The form most dials take, "192.0.2.1:80", in one pass. Anything else (a
// name, a bracket, a bad port) is for the general parser, which names what
// is wrong.
std::optional<ipv4_and_port> split_ipv4_literal(std::string_view address) {
    if (address.empty() || !is_digit(address.front())) return std::nullopt;
    std::size_t length = 0;
    std::uint32_t port = 0;
    const auto v4 = parse_ipv4_prefix(address, length);
    if (!v4 || length == address.size() || address[length] != ':' ||
        !parse_decimal(address.substr(length + 1), std::numeric_limits<std::uint16_t>::max(), port))
        return std::nullopt;
    return ipv4_and_port{*v4, length, std::uint16_t(port)};
}

std::optional<detail::host_port_view> parse_any_host_port(std::string_view address, boost::system::error_code& ec) {
    constexpr auto npos = std::string_view::npos;
    std::string_view host, port;

    const bool bracketed = !address.empty() && address.front() == '[';
    if (bracketed) {
        auto close = address.find(']');
        if (close == npos) return fail(ec, error::unclosed_bracket);
        if (address.find('[', 1) != npos || address.find(']', close + 1) != npos)
            return fail(ec, error::unexpected_bracket);
        host = address.substr(1, close - 1);
        auto rest = address.substr(close + 1);
        if (rest.empty()) return fail(ec, error::missing_port);
        if (rest.front() != ':') return fail(ec, error::junk_after_bracket);
        port = rest.substr(1);
    } else {
        // One pass for what the checks below need: every dial comes here.
        std::size_t colons = 0, colon = npos;
        bool bracket = false;
        for (std::size_t i = 0; i < address.size(); ++i) {
            const char c = address[i];
            if (c == ':') {
                ++colons;
                colon = i;
            } else if (c == '[' || c == ']') {
                bracket = true;
            }
        }
        if (bracket) return fail(ec, error::unexpected_bracket);
        if (colon == npos) return fail(ec, error::missing_port);
        host = address.substr(0, colon);
        port = address.substr(colon + 1);
        if (colons > 1) return fail(ec, error::too_many_colons);
    }

    if (host.empty()) return fail(ec, error::missing_host);

    detail::host_port_view result;
    boost::system::error_code literal_ec;
    std::optional<boost::asio::ip::address> ip;
    // The common literal first (a name fails parse_ipv4 at its first
    // letter); digits and dots that make no dotted quad are a name.
    if (!bracketed && is_digit(host.front())) {
        if (auto v4 = parse_ipv4(host)) ip = boost::asio::ip::address(*v4);
    }
    if (!ip && (bracketed || !is_dotted(host))) ip = parse_ip_literal(host, literal_ec);
    if (literal_ec) {
        // parse_ip_literal reports only nettrace errors.
        const auto e = static_cast<error>(literal_ec.value());
        return fail(ec, bracketed && e == error::zone_on_ipv4 ? error::invalid_host : e);
    }
    if (bracketed) {
        // Unlike Go, "[::ffff:1.2.3.4]" stays IPv6: the brackets say the
        // user asked for an IPv6 address, and we keep what was written.
        if (!ip || !ip->is_v6()) return fail(ec, error::invalid_host);
        auto percent = host.find('%');
        result.host = host.substr(0, percent);
        if (percent != npos) result.zone = host.substr(percent + 1);
        result.ip = ip;
    } else {
        // An unbracketed IPv6 literal was refused above (too_many_colons).
        if (ip) {
            result.ip = ip;
        } else {
            // Names such as "256.1.1.1" that are not IPv4 literals are names,
            // as in Go; resolvers refuse the numeric-looking ones.
            if (without_trailing_dot(host).size() > max_name_length) return fail(ec, error::host_too_long);
            if (!is_valid_host_name(host)) return fail(ec, error::invalid_host);
        }
        result.host = host;
    }

    auto number = parse_port(port);
    if (!number) return fail(ec, error::invalid_port);
    result.port = *number;

    ec.clear();
    return result;
}

}  // namespace

namespace detail {

std::optional<host_port_view> split_host_port(std::string_view address, boost::system::error_code& ec) {
    if (const auto literal = split_ipv4_literal(address)) {
        ec.clear();
        return host_port_view{.host = address.substr(0, literal->host_length),
                              .port = literal->port,
                              .ip = boost::asio::ip::address(literal->ip),
                              .zone = {}};
    }
    return parse_any_host_port(address, ec);
}

}  // namespace detail

std::optional<host_port> parse_host_port(std::string_view address, boost::system::error_code& ec) {
    const auto view = detail::split_host_port(address, ec);
    if (!view) return std::nullopt;
    return host_port{.host = std::string(view->host), .port = view->port, .ip = view->ip, .zone = std::string(view->zone)};
}

std::string join_host_port(const boost::asio::ip::tcp::endpoint& endpoint) {
    return join_host_port(endpoint.address().to_string(), endpoint.port());
}

std::string join_host_port(std::string_view host, std::uint16_t port) {
    const std::string p = std::to_string(port);
    if (host.find(':') != std::string_view::npos) return "[" + std::string(host) + "]:" + p;
    return std::string(host) + ":" + p;
}

}  // namespace nettrace
