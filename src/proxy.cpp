// proxy.cpp — proxy configuration: proxy URLs as curl writes them, and the
// choice, per target, of a proxy or none (NO_PROXY as curl reads it, the
// environment as curl and Go read it).
#include <nettrace/proxy.hpp>

#include <nettrace/address.hpp>
#include <nettrace/error.hpp>

#include "detail/enum_names.hpp"

#include <boost/system/system_error.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <utility>

namespace nettrace {
namespace {

constexpr auto npos = std::string_view::npos;
constexpr std::size_t max_credential = 255;  // RFC 1929: one length byte each

// Indexed by proxy_scheme.
constexpr std::string_view scheme_names[] = {"http", "socks5", "socks5h"};

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }  // curl's ISBLANK
constexpr char to_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return to_lower(x) == to_lower(y); });
}

int hex_value(char c) noexcept {
    return is_digit(c) ? c - '0' : (to_lower(c) >= 'a' && to_lower(c) <= 'f') ? to_lower(c) - 'a' + 10 : -1;
}

// Every byte that `keep` refuses written as `mark` and two hex digits.
template <class Keep>
std::string escaped(std::string_view text, Keep keep, std::string_view mark, const char* hex) {
    std::string out;
    for (unsigned char c : text)
        out += keep(c) ? std::string(1, char(c)) : std::string(mark) + hex[c >> 4] + hex[c & 15];
    return out;
}

// Control bytes shown as \xNN: a URL from the environment must not forge
// lines in a log through an error message.
std::string printable(std::string_view text) {
    return escaped(
        text, [](unsigned char c) { return c >= 0x20 && c < 0x7f; }, "\\x", "0123456789abcdef");
}

// The length of the scheme before "://", when what precedes it can be one
// (RFC 3986: a letter, then letters, digits, '+', '-', '.'): a password
// holding "://" in a URL without a scheme thus stays a password.
std::optional<std::size_t> scheme_length(std::string_view url) noexcept {
    const auto sep = url.find("://");
    if (sep == npos || sep == 0 || !is_alpha(url[0])) return std::nullopt;
    const bool ok = std::all_of(url.begin(), url.begin() + sep,
                                [](char c) { return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.'; });
    return ok ? std::optional(sep) : std::nullopt;
}

// The URL as a message may show it, malformed or not: whatever lies between
// the authority's first ':' and the last '@' is taken for a password. That
// over-redacts some malformed URLs ("h:1/a:b@c"), but a password that a
// parse would cut elsewhere ("u:p/w@h") never shows.
std::string redact_input(std::string_view url) {
    const auto at = url.rfind('@');
    const auto scheme = scheme_length(url);
    const auto colon = at == npos ? npos : url.find(':', scheme && *scheme < at ? *scheme + 3 : 0);
    if (colon == npos || colon > at) return printable(url);
    return printable(url.substr(0, colon + 1)) + "***" + printable(url.substr(at));
}

std::string describe(std::string_view url, std::string_view problem) {
    return "proxy URL \"" + redact_input(url) + "\": " + std::string(problem);
}

// curl decodes user and password (CURLU_URLDECODE) and refuses a '%' that
// starts no %XX; so do we.
bool percent_decode(std::string_view in, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
        } else {
            const int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1, lo = hi >= 0 ? hex_value(in[i + 2]) : -1;
            if (lo < 0) return false;
            out += char(hi * 16 + lo);
            i += 2;
        }
    }
    return true;
}

struct parts {
    proxy_scheme scheme = proxy_scheme::http;
    std::string host, user, password;
    std::uint16_t port = 1080;
    bool credentials = false;
};

// What is wrong with `url` and its code in `e`; empty when `out` holds the
// URL's parts. Refusals come first: nothing below sees a control byte.
std::string parse_parts(std::string_view url, parts& out, error& e) {
    e = error::invalid_proxy_url;
    if (url.empty()) return "empty URL";
    if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; }))
        return "control character or space in the URL";

    std::string_view rest = url;
    if (const auto length = scheme_length(url)) {
        const auto scheme = url.substr(0, *length);
        const auto* known = std::find_if(std::begin(scheme_names), std::end(scheme_names),
                                         [&](std::string_view name) { return iequals(name, scheme); });
        if (known == std::end(scheme_names)) {
            e = error::unsupported_proxy_scheme;
            return "scheme \"" + printable(scheme) + "\" is not http, socks5 or socks5h";
        }
        out.scheme = proxy_scheme(known - std::begin(scheme_names));
        rest.remove_prefix(*length + 3);
    }

    const auto end = rest.find_first_of("/?#");
    auto authority = rest.substr(0, end);
    if (end != npos) {
        const auto tail = rest.substr(end);
        if (const auto mark = tail.find_first_of("?#"); mark != npos)
            return tail[mark] == '?' ? "a query (\"?\") is not allowed" : "a fragment (\"#\") is not allowed";
        if (tail != "/") return "a path is not allowed (only a trailing \"/\")";
    }

    // The last '@' ends the user information, as in Go: an unencoded '@' in
    // a password still parses.
    if (const auto at = authority.rfind('@'); at != npos) {
        const auto userinfo = authority.substr(0, at);
        const auto colon = userinfo.find(':');
        authority.remove_prefix(at + 1);
        out.credentials = true;
        if (!percent_decode(userinfo.substr(0, colon), out.user))
            return "invalid percent-encoding in the user name ('%' must start %XX)";
        if (colon != npos && !percent_decode(userinfo.substr(colon + 1), out.password))
            return "invalid percent-encoding in the password ('%' must start %XX)";
        if (out.user.size() > max_credential) return "user name longer than 255 bytes";
        if (out.password.size() > max_credential) return "password longer than 255 bytes";
    }

    std::string_view host = authority;
    std::optional<std::string_view> port;
    boost::system::error_code literal_ec;
    if (!host.empty() && host.front() == '[') {
        const auto close = host.find(']');
        if (close == npos) return "missing ']' after the IPv6 address";
        const auto after = host.substr(close + 1);
        host = host.substr(1, close - 1);
        if (!after.empty() && after.front() != ':') return "unexpected text after ']' (expected \":port\")";
        if (!after.empty()) port = after.substr(1);
        if (host.empty()) return "empty host";
        // A zone would have parse_ip_literal look the interface up, and a
        // proxy on a link-local address is not worth that.
        if (host.find('%') != npos) return "an IPv6 zone is not allowed in a proxy URL";
        const auto ip = parse_ip_literal(host, literal_ec);
        if (!ip || !ip->is_v6()) return "\"[" + printable(host) + "]\" is not an IPv6 address";
    } else {
        if (const auto colon = host.find(':'); colon != npos) {
            if (host.find(':', colon + 1) != npos) return "an IPv6 address must be in brackets";
            port = host.substr(colon + 1);
            host = host.substr(0, colon);
        }
        if (host.empty()) return "empty host";
        const auto ip = parse_ip_literal(host, literal_ec);
        if (literal_ec || (!ip && !is_valid_host_name(host)))
            return "invalid host name \"" + printable(host) +
                   "\" (letters, digits, '-', '_' and '.', labels of 1-63 bytes)";
    }

    if (port) {
        if (port->empty()) return "empty port after ':'";
        std::uint32_t value = 0;
        for (char c : *port) {
            if (!is_digit(c)) return "port \"" + printable(*port) + "\" is not a number";
            value = std::min<std::uint32_t>(value * 10 + std::uint32_t(c - '0'), 65536);  // no wrap-around
        }
        if (value < 1 || value > 65535) return "port " + printable(*port) + " is not in 1-65535";
        out.port = std::uint16_t(value);
    }
    out.host = host;
    return {};
}

// curl's match_host (lib/noproxy.c): the name itself or a parent domain,
// case-insensitively, one leading and one trailing dot of the entry ignored.
bool matches_name(std::string_view entry, std::string_view name) noexcept {
    if (entry.back() == '.') entry.remove_suffix(1);
    if (!entry.empty() && entry.front() == '.') entry.remove_prefix(1);
    if (entry.empty() || entry.size() > name.size()) return false;
    if (entry.size() == name.size()) return iequals(entry, name);
    return name[name.size() - entry.size() - 1] == '.' && iequals(entry, name.substr(name.size() - entry.size()));
}

// curl's match_ip, cidr4_match and cidr6_match, quirks included: no prefix
// and "/0" both mean the address alone; a prefix too long for the family
// matches nothing.
bool matches_ip(std::string_view entry, const boost::asio::ip::address& target) {
    unsigned bits = 0;
    if (const auto slash = entry.find('/'); slash != npos) {
        const auto digits = entry.substr(slash + 1);
        if (digits.empty()) return false;
        for (char c : digits)
            if (!is_digit(c) || (bits = bits * 10 + unsigned(c - '0')) > 128) return false;
        entry = entry.substr(0, slash);
    }
    if (entry.empty() || entry.find('%') != npos) return false;  // a zone: no interface lookups here
    boost::system::error_code ec;
    const auto network = parse_ip_literal(entry, ec);
    if (!network || network->is_v4() != target.is_v4()) return false;
    if (target.is_v4()) {
        if (bits > 32) return false;
        const auto mask = (bits == 0 || bits == 32) ? ~0u : ~0u << (32 - bits);
        return ((target.to_v4().to_uint() ^ network->to_v4().to_uint()) & mask) == 0;
    }
    if (bits == 0) bits = 128;
    const auto a = target.to_v6().to_bytes(), b = network->to_v6().to_bytes();
    const unsigned bytes = bits / 8, rest = bits % 8;
    if (std::memcmp(a.data(), b.data(), bytes) != 0) return false;
    return rest == 0 || ((a[bytes] ^ b[bytes]) & (0xff << (8 - rest)) & 0xff) == 0;
}

// The first of the variables (a null one is skipped) set and not empty.
std::pair<const char*, const char*> first_set(const char* lower, const char* upper) noexcept {
    for (const char* name : {lower, upper})
        if (const char* value = name ? std::getenv(name) : nullptr; value && *value) return {name, value};
    return {nullptr, nullptr};
}

std::optional<proxy> proxy_from_environment(const char* lower, const char* upper) {
    const auto [name, value] = first_set(lower, upper);
    if (!value) return std::nullopt;
    parts unused;
    error e{};
    if (const auto problem = parse_parts(value, unused, e); !problem.empty())
        throw boost::system::system_error(make_error_code(e), std::string(name) + ": " + describe(value, problem));
    return proxy(value);
}

}  // namespace

std::string_view to_string(proxy_scheme s) noexcept { return detail::enum_name(s, scheme_names, "http"); }

proxy::proxy(std::string_view url) {
    parts p;
    error e{};
    if (const auto problem = parse_parts(url, p, e); !problem.empty())
        throw boost::system::system_error(make_error_code(e), describe(url, problem));
    scheme_ = p.scheme;
    host_ = std::move(p.host);
    port_ = p.port;
    username_ = std::move(p.user);
    password_ = std::move(p.password);
    credentials_ = p.credentials;
}

std::optional<proxy> proxy::parse(std::string_view url, boost::system::error_code& ec, std::string* why) {
    parts unused;
    error e{};
    if (const auto problem = parse_parts(url, unused, e); !problem.empty()) {
        ec = e;
        if (why) *why = boost::system::system_error(ec, describe(url, problem)).what();
        return std::nullopt;
    }
    ec.clear();
    return proxy(url);  // parsed twice, at configuration time, so that one place fills a proxy
}

std::string proxy::redacted() const {
    std::string out = std::string(to_string(scheme_)) + "://";
    // The user percent-encoded, so that what is printed parses back.
    const auto unreserved = [](unsigned char c) {
        return is_alpha(char(c)) || is_digit(char(c)) || c == '-' || c == '.' || c == '_' || c == '~';
    };
    if (credentials_)
        out += escaped(username_, unreserved, "%", "0123456789ABCDEF") + (password_.empty() ? "@" : ":***@");
    return out + join_host_port(host_, port_);
}

const proxy* proxy_settings::select(bool tls, std::string_view host, std::uint16_t port) const noexcept {
    const auto& chosen = tls ? https : http;
    const proxy* p = chosen ? &*chosen : all ? &*all : nullptr;
    return p && !bypass(host, port) ? p : nullptr;
}

// curl's Curl_check_noproxy (lib/noproxy.c; proxy_check_noproxy in lib/proxy.c
// since 8.21). Its entries carry no port: one with a port never equals a
// name, so `port` plays no part.
bool proxy_settings::bypass(std::string_view host, [[maybe_unused]] std::uint16_t port) const noexcept {
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);  // tolerated, as curl did before 8.18
    if (host.empty() || no_proxy.empty()) return false;
    if (no_proxy == "*") return true;

    // An IPv6 target's zone is no part of its address (curl keeps it apart).
    boost::system::error_code ec;
    const auto target = parse_ip_literal(host.find(':') != npos ? host.substr(0, host.find('%')) : host, ec);
    if (!target && host.back() == '.') host.remove_suffix(1);

    std::string_view list = no_proxy;
    const auto skip = [&list](auto pred) {
        while (!list.empty() && pred(list.front())) list.remove_prefix(1);
    };
    const auto is_comma = [](char c) { return c == ','; };
    while (!list.empty()) {
        skip(is_blank);
        const auto entry = list.substr(0, std::min(list.find_first_of(" \t,"), list.size()));
        list.remove_prefix(entry.size());
        if (!entry.empty() && (target ? matches_ip(entry, *target) : matches_name(entry, host))) return true;
        // Since curl 8.9 only commas separate entries: "a b" ends after "a".
        skip(is_blank);
        if (list.empty() || list.front() != ',') break;
        skip(is_comma);
    }
    return false;
}

proxy_settings proxy_settings::from_environment() {
    proxy_settings s;
    s.https = proxy_from_environment("https_proxy", "HTTPS_PROXY");
    // In a CGI program HTTP_PROXY comes from the request's "Proxy:" header
    // (httpoxy); no request can set the lower-case name.
    const char* cgi = std::getenv("REQUEST_METHOD");
    s.http = proxy_from_environment("http_proxy", cgi && *cgi ? nullptr : "HTTP_PROXY");
    s.all = proxy_from_environment("all_proxy", "ALL_PROXY");
    if (const char* value = first_set("no_proxy", "NO_PROXY").second) s.no_proxy = value;
    return s;
}

}  // namespace nettrace
