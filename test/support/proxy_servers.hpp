// Real proxies for the proxy tests, each started on 127.0.0.1 with a
// configuration written at run time and stopped (SIGTERM, then reaped) when
// the object goes: tinyproxy (HTTP CONNECT), dante's sockd and microsocks
// (SOCKS5). Every configuration allows loopback targets only; microsocks has
// no rules of its own, so its tests run only inside a private network
// namespace (private_network() in netns.hpp), where loopback is all there is.
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace nettrace::testing {

struct proxy_login {
    std::string user;
    std::string password;
};

/// A proxy program run as a child of the test, killed with it (PDEATHSIG).
class proxy_process {
public:
    proxy_process(const proxy_process&) = delete;
    proxy_process& operator=(const proxy_process&) = delete;
    ~proxy_process();

    unsigned short port() const noexcept { return port_; }
    /// What the program wrote to stdout and stderr, for failure messages.
    std::string log() const;

protected:
    proxy_process() = default;
    /// Runs argv (argv[0] a path) and waits until 127.0.0.1:port accepts;
    /// false if it exited first (the port was taken, say). `etc` lists
    /// files to bind-mount over /etc files in a mount namespace of the
    /// child's own ({"/tmp/x/passwd", "/etc/passwd"}): the host's stay as
    /// they are.
    bool spawn(const std::vector<std::string>& argv, unsigned short port,
               const std::vector<std::pair<std::string, std::string>>& etc = {});
    std::string dir_;  // a temporary directory for configuration and log, removed with the object

private:
    void stop() noexcept;
    pid_t pid_ = -1;
    unsigned short port_ = 0;
};

/// tinyproxy: CONNECT only to 127.0.0.1 and localhost, on `ports` only
/// (any port when empty); Basic auth when a login is given.
class tinyproxy_server : public proxy_process {
public:
    static bool available();
    explicit tinyproxy_server(std::optional<proxy_login> login = {}, std::vector<unsigned short> ports = {},
                              unsigned short port = 0);
};

/// dante (sockd) with RFC 1929 username authentication against a passwd
/// and shadow of its own (the login becomes a user in them only), passing
/// connects to 127.0.0.0/8 and ::1 only.
class dante_server : public proxy_process {
public:
    static bool available();
    explicit dante_server(const proxy_login& login);
};

/// microsocks, with a login or without.
class microsocks_server : public proxy_process {
public:
    static bool available();
    explicit microsocks_server(std::optional<proxy_login> login = {});
};

}  // namespace nettrace::testing
