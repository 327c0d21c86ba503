// nettrace/proxy.hpp — dialing through a proxy: an HTTP/1.1 CONNECT tunnel
// or SOCKS5, written as curl writes it, and chosen per target as curl and Go
// choose from the environment (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY).
//
// A proxy is one more stage of every attempt in the race: the dialer races
// the proxy's addresses (with DNS hooks for the proxy's name), and an
// attempt wins when its tunnel (and, for dial_tls, the TLS handshake to the
// target inside it) is up. docs/proxies.md is the subject page.
//
// Thread safety: proxy and proxy_settings are plain values; const use from
// several threads is safe.
//
// Credentials: a proxy's password never leaves it. redacted() is the form
// the trace, the exporters, the tool and every error message use
// ("http://user:***@proxy.test:3128").
#pragma once

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nettrace {

enum class proxy_scheme : std::uint8_t {
    http,     ///< http://: an HTTP/1.1 CONNECT tunnel; the proxy resolves the target
    socks5,   ///< socks5://: the target is resolved here and the proxy gets an address
    socks5h,  ///< socks5h://: the proxy resolves the target's name
};

std::string_view to_string(proxy_scheme s) noexcept;

/// One proxy, parsed from a URL: `scheme://[user[:password]@]host[:port]`.
///
/// - Schemes: http, socks5, socks5h (case-insensitive); a URL without
///   "scheme://" is http, as in curl.
/// - host: a name (letters, digits, '-', '_', '.'), an IPv4 address or a
///   bracketed IPv6 address without a zone.
/// - port: 1 to 65535; 1080 when absent, as curl assumes for every proxy
///   type.
/// - user and password are percent-decoded (curl's rule; a '%' that starts
///   no %XX is an error); each is at most 255 bytes, SOCKS5's limit
///   (RFC 1929). A password with an unencoded '@' still parses (the last '@'
///   ends the user information).
/// - A trailing "/" is allowed; any other path, a query, a fragment, a
///   space or a control character is not.
class proxy {
public:
    /// Parses `url`. Errors: throws boost::system::system_error with
    /// error::invalid_proxy_url or error::unsupported_proxy_scheme, whose
    /// what() names the problem and the URL (its password redacted).
    explicit proxy(std::string_view url);

    /// The non-throwing form: nullopt and `ec` set on a malformed URL; `why`,
    /// when given, receives the same text what() would hold.
    static std::optional<proxy> parse(std::string_view url, boost::system::error_code& ec, std::string* why = nullptr);

    proxy_scheme scheme() const noexcept { return scheme_; }
    const std::string& host() const noexcept { return host_; }  ///< without brackets
    std::uint16_t port() const noexcept { return port_; }
    const std::string& username() const noexcept { return username_; }
    const std::string& password() const noexcept { return password_; }
    bool has_credentials() const noexcept { return credentials_; }

    /// "scheme://[user:***@]host:port", the password (if any) as "***".
    std::string redacted() const;

    friend bool operator==(const proxy&, const proxy&) = default;

private:
    proxy() = default;

    proxy_scheme scheme_ = proxy_scheme::http;
    std::string host_;
    std::uint16_t port_ = 1080;
    std::string username_;
    std::string password_;
    bool credentials_ = false;
};

/// Which proxy a dial goes through, if any: dial_options::proxy.
///
/// - dial_tls uses `https`, dial uses `http`; either falls back to `all`.
/// - A target that matches `no_proxy` is dialed directly.
/// - An empty proxy_settings (the default) dials everything directly.
///
/// `no_proxy` is a list as curl (8.9 and later, lib/noproxy.c) reads
/// NO_PROXY: entries separated by commas, blanks (spaces, tabs) around them
/// and empty entries ignored; blanks alone separate nothing ("a b" is read
/// as "a", the rest ignored). `*` as the whole list matches every host; it is
/// no wildcard within a list or a name. A host name matches itself and its
/// subdomains, with or without a leading dot ("example.com" and
/// ".example.com" both match "example.com" and "a.example.com", not
/// "notexample.com"), case-insensitively, a trailing dot on either side
/// ignored. An IP address matches itself; a CIDR block ("10.0.0.0/8",
/// "::1/128") matches the IP literals inside it (names are not resolved to
/// match it; as in curl, "/0" means the address alone). Names match names
/// only, addresses addresses only. Write IPv6 entries without brackets, as
/// curl says: an entry in brackets ("[::1]") or with a port
/// ("example.com:8080") matches nothing, in curl as here, so the port of a
/// dial plays no part in bypass().
struct proxy_settings {
    std::optional<proxy> http;   ///< for dial (HTTP_PROXY)
    std::optional<proxy> https;  ///< for dial_tls (HTTPS_PROXY)
    std::optional<proxy> all;    ///< when the one above is not set (ALL_PROXY)
    std::string no_proxy;        ///< targets dialed directly (NO_PROXY)

    proxy_settings() = default;
    /// Every dial through `p` (it becomes `all`).
    proxy_settings(proxy p) : all(std::move(p)) {}  // NOLINT: implicit on purpose

    /// The proxy for a dial of host:port (host without brackets; brackets
    /// around an IPv6 address are tolerated), or null to dial directly.
    const proxy* select(bool tls, std::string_view host, std::uint16_t port) const noexcept;

    /// True when no_proxy says to dial host:port directly.
    bool bypass(std::string_view host, std::uint16_t port) const noexcept;

    /// Reads the environment: https_proxy / HTTPS_PROXY, http_proxy /
    /// HTTP_PROXY, all_proxy / ALL_PROXY, no_proxy / NO_PROXY; the
    /// lower-case name wins when both are set, as in curl (Go prefers the
    /// upper-case one). HTTP_PROXY (upper case) is ignored when
    /// REQUEST_METHOD is set and not empty, Go's CGI test: in a CGI program
    /// it comes from the request's "Proxy:" header (httpoxy; curl never
    /// reads HTTP_PROXY, Go refuses the HTTP proxy). An empty variable
    /// counts as unset. Errors: a malformed URL throws
    /// boost::system::system_error naming the variable and the problem.
    static proxy_settings from_environment();
};

}  // namespace nettrace
