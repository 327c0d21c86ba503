// Starting and stopping the real proxies of proxy_servers.hpp.
#include "proxy_servers.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace nettrace::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* tinyproxy_path = "/usr/bin/tinyproxy";
constexpr const char* danted_path = "/usr/sbin/danted";
constexpr const char* microsocks_path = "/usr/bin/microsocks";

unsigned short free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw std::runtime_error(std::string("no free loopback port: ") + std::strerror(errno));
    ::close(fd);
    return ntohs(a.sin_port);
}

bool accepts(unsigned short port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (fd >= 0) ::close(fd);
    return ok;
}

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

std::string make_dir() {
    char tmpl[] = "/tmp/nettrace-proxy-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    // The proxies drop to user nobody before reading some files (tinyproxy's filter).
    fs::permissions(tmpl, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
    return tmpl;
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

proxy_process::~proxy_process() {
    stop();
    std::error_code ignored;
    if (!dir_.empty()) fs::remove_all(dir_, ignored);
}

std::string proxy_process::log() const { return read_file(dir_ + "/log"); }

void proxy_process::stop() noexcept {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

bool proxy_process::spawn(const std::vector<std::string>& args, unsigned short port,
                          const std::vector<std::pair<std::string, std::string>>& etc) {
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int log_fd = ::open((dir_ + "/log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log_fd < 0 || null_fd < 0) throw std::runtime_error(std::string("open: ") + std::strerror(errno));
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
        // Async-signal-safe calls only: other threads may hold locks.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(127);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (!etc.empty()) {
            if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
                ::_exit(126);
            for (const auto& [from, to] : etc)
                if (::mount(from.c_str(), to.c_str(), nullptr, MS_BIND, nullptr) != 0) ::_exit(126);
        }
        ::dup2(null_fd, 0), ::dup2(log_fd, 1), ::dup2(log_fd, 2);
        ::close_range(3, ~0u, 0);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    const int fork_errno = errno;
    ::close(log_fd);
    ::close(null_fd);
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(fork_errno));
    port_ = port;
    // Ready when it accepts; a readiness probe, bounded, not a sleep as
    // synchronisation: each round first asks whether the child has exited.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return false;
        }
        if (accepts(port)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop();
    throw std::runtime_error(args[0] + " did not accept on 127.0.0.1:" + std::to_string(port) + " in 10 s:\n" + log());
}

bool tinyproxy_server::available() { return ::access(tinyproxy_path, X_OK) == 0; }

tinyproxy_server::tinyproxy_server(std::optional<proxy_login> login, std::vector<unsigned short> ports,
                                   unsigned short fixed_port) {
    dir_ = make_dir();
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

dante_server::dante_server(const proxy_login& login) {
    dir_ = make_dir();
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

microsocks_server::microsocks_server(std::optional<proxy_login> login) {
    dir_ = make_dir();
    for (int attempt = 0; attempt < 5; ++attempt) {
        const unsigned short port = free_port();
        std::vector<std::string> args = {microsocks_path, "-i", "127.0.0.1", "-p", std::to_string(port)};
        if (login) args.insert(args.end(), {"-u", login->user, "-P", login->password});
        if (spawn(args, port)) return;
    }
    throw std::runtime_error("microsocks did not start:\n" + log());
}

}  // namespace nettrace::testing
