// Real proxies for the proxy tests, each started on 127.0.0.1 with a
// configuration written at run time and stopped (SIGTERM, SIGKILL after
// 2 s, reaped) when the object goes: tinyproxy (HTTP CONNECT), dante's sockd and microsocks
// (SOCKS5). Every configuration allows loopback targets only; microsocks has
// no rules of its own, so its tests run only inside a private network
// namespace (enter_private_network() in netlab.hpp), where loopback is all
// there is. Each is a server_process (child_process.hpp).
#pragma once

#include "child_process.hpp"

#include <optional>
#include <string>
#include <vector>

namespace nettrace::testing {

struct proxy_login {
    std::string user;
    std::string password;
};

/// tinyproxy: CONNECT only to 127.0.0.1 and localhost, on `ports` only
/// (any port when empty); Basic auth when a login is given.
class tinyproxy_server : public server_process {
public:
    static bool available();
    explicit tinyproxy_server(std::optional<proxy_login> login = {}, std::vector<unsigned short> ports = {},
                              unsigned short port = 0);
};

/// dante (sockd) with RFC 1929 username authentication against a passwd
/// and shadow of its own (the login becomes a user in them only), passing
/// connects to 127.0.0.0/8 and ::1 only.
class dante_server : public server_process {
public:
    static bool available();
    explicit dante_server(const proxy_login& login);
};

/// microsocks, with a login or without.
class microsocks_server : public server_process {
public:
    static bool available();
    explicit microsocks_server(std::optional<proxy_login> login = {});
};

}  // namespace nettrace::testing
