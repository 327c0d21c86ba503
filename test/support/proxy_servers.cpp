// Starting and stopping the real proxies of proxy_servers.hpp.
#include "proxy_servers.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace nettrace::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* tinyproxy_path = "/usr/bin/tinyproxy";
constexpr const char* danted_path = "/usr/sbin/danted";
constexpr const char* microsocks_path = "/usr/bin/microsocks";

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The password's SHA-512 crypt(3) hash, for a shadow line. Through Python's
// crypt module rather than crypt(3) itself: AddressSanitizer's crypt
// interceptor calls a null pointer when libcrypt is linked as-needed. The
// password is the test's own fixed text; single quotes keep the shell out.
std::string sha512_crypt(const std::string& password) {
    if (password.find('\'') != std::string::npos) throw std::runtime_error("a test password with a quote");
    const std::string cmd =
        "python3 -W ignore -c 'import crypt, sys; print(crypt.crypt(sys.argv[1], \"$6$nettrace$\"))' '" + password +
        "'";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) throw std::runtime_error("popen python3 failed");
    char buf[256] = {};
    const bool got = std::fgets(buf, sizeof buf, p) != nullptr;
    ::pclose(p);
    std::string hash = got ? buf : "";
    while (!hash.empty() && (hash.back() == '\n' || hash.back() == '\r')) hash.pop_back();
    if (!hash.starts_with("$6$")) throw std::runtime_error("no SHA-512 crypt hash from python3: '" + hash + "'");
    return hash;
}

}  // namespace

bool tinyproxy_server::available() { return ::access(tinyproxy_path, X_OK) == 0; }

tinyproxy_server::tinyproxy_server(std::optional<proxy_login> login, std::vector<unsigned short> ports,
                                   unsigned short fixed_port)
    : server_process("proxy") {
    // Extended regular expressions over the CONNECT host: loopback only.
    write_file(dir_ + "/filter", "^127\\.0\\.0\\.1$\n^localhost$\n");
    for (int attempt = 0; attempt < 5; ++attempt) {
        const unsigned short port = fixed_port ? fixed_port : free_port();
        std::string conf = "User nobody\nGroup nogroup\nListen 127.0.0.1\nPort " + std::to_string(port) +
                           "\nTimeout 30\nMaxClients 64\nAllow 127.0.0.1\nLogLevel Info\n"
                           "Filter \"" +
                           dir_ + "/filter\"\nFilterType ere\nFilterDefaultDeny Yes\n";
        for (auto p : ports) conf += "ConnectPort " + std::to_string(p) + "\n";
        if (login) conf += "BasicAuth " + login->user + " " + login->password + "\n";
        write_file(dir_ + "/tinyproxy.conf", conf);
        if (spawn({tinyproxy_path, "-d", "-c", dir_ + "/tinyproxy.conf"}, port)) return;
        if (fixed_port) break;
    }
    throw std::runtime_error("tinyproxy did not start:\n" + log());
}

bool dante_server::available() { return ::access(danted_path, X_OK) == 0; }

dante_server::dante_server(const proxy_login& login) : server_process("proxy") {
    // sockd checks RFC 1929 logins against the system's users: give it a
    // passwd and shadow of its own, with the test's user added, bind-mounted
    // in the child's mount namespace only.
    const std::string hash = sha512_crypt(login.password);
    write_file(dir_ + "/passwd",
               read_file("/etc/passwd") + login.user + ":x:64999:65534::/nonexistent:/usr/sbin/nologin\n");
    write_file(dir_ + "/shadow", read_file("/etc/shadow") + login.user + ":" + hash + ":19000:0:99999:7:::\n");
    fs::permissions(dir_ + "/shadow", fs::perms::owner_read | fs::perms::owner_write);
    for (int attempt = 0; attempt < 5; ++attempt) {
        const unsigned short port = free_port();
        write_file(dir_ + "/sockd.conf",
                   "logoutput: stderr\n"
                   "internal: 127.0.0.1 port = " +
                       std::to_string(port) +
                       "\n"
                       "external: lo\n"
                       "socksmethod: username\n"
                       "clientmethod: none\n"
                       "user.privileged: root\n"
                       "user.unprivileged: nobody\n"
                       "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\n"
                       "socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 command: connect }\n"
                       "socks pass { from: 127.0.0.0/8 to: ::1/128 command: connect }\n"
                       "socks block { from: 0.0.0.0/0 to: 0.0.0.0/0 }\n"
                       "socks block { from: 0.0.0.0/0 to: ::/0 }\n");
        if (spawn({danted_path, "-f", dir_ + "/sockd.conf"}, port,
                  {{dir_ + "/passwd", "/etc/passwd"}, {dir_ + "/shadow", "/etc/shadow"}}))
            return;
    }
    throw std::runtime_error("sockd did not start:\n" + log());
}

bool microsocks_server::available() { return ::access(microsocks_path, X_OK) == 0; }

microsocks_server::microsocks_server(std::optional<proxy_login> login) : server_process("proxy") {
    for (int attempt = 0; attempt < 5; ++attempt) {
        const unsigned short port = free_port();
        std::vector<std::string> args = {microsocks_path, "-i", "127.0.0.1", "-p", std::to_string(port)};
        if (login) args.insert(args.end(), {"-u", login->user, "-P", login->password});
        if (spawn(args, port)) return;
    }
    throw std::runtime_error("microsocks did not start:\n" + log());
}

}  // namespace nettrace::testing
