// Pieces the resolvers share.
#pragma once

#include <nettrace/resolver.hpp>

#include <boost/asio/ip/address.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace nettrace::detail {

/// The key a name is looked up under: lower case, no trailing dot.
inline std::string canonical_name(std::string_view name) {
    std::string out(name);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!out.empty() && out.back() == '.') out.pop_back();
    return out;
}

/// The host an HTTPS query name is about: "svc.test" for
/// "_8443._https.svc.test" and for "svc.test" itself.
inline std::string_view service_host(std::string_view name) {
    if (name.size() > 1 && name[0] == '_') {
        const auto dot = name.find("._https.");
        if (dot != std::string_view::npos) return name.substr(dot + 8);
    }
    return name;
}

/// True for the legacy numeric forms inet_aton takes ("127.1", "0x7f.0.0.1",
/// "2130706433"). They are no IP literals to nettrace (parse_ip_literal is
/// strict) and no real names either, so every resolver refuses them with
/// host_not_found rather than let getaddrinfo turn them into addresses.
bool is_legacy_numeric_host(std::string_view host) noexcept;

/// The IP address in a sockaddr from getaddrinfo or c-ares, if it holds one.
inline std::optional<boost::asio::ip::address> to_address(const sockaddr* sa) {
    if (sa->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        boost::asio::ip::address_v6::bytes_type b;
        std::copy_n(in6->sin6_addr.s6_addr, 16, b.begin());
        return boost::asio::ip::address_v6(b, in6->sin6_scope_id);
    }
    if (sa->sa_family == AF_INET)
        return boost::asio::ip::address_v4(ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr));
    return std::nullopt;
}

/// The handle of a lookup whose answer is already posted: nothing to cancel.
inline std::shared_ptr<pending_lookup> answered_lookup() {
    struct answered final : pending_lookup {
        void cancel() noexcept override {}
    };
    static const auto instance = std::make_shared<answered>();
    return instance;
}

}  // namespace nettrace::detail
