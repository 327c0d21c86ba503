// Starting, probing and stopping the tests' child processes (child_process.hpp).
#include "child_process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace nettrace::testing {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

sockaddr_in loopback(unsigned short port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return a;
}

bool accepts(unsigned short port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in a = loopback(port);
    const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
    if (fd >= 0) ::close(fd);
    return ok;
}

// Whether `pid` exits within `grace`, told by a pidfd, which becomes
// readable when it does. Without pidfds (Linux before 5.3): false at once.
// The system call itself: glibc 2.36's <sys/pidfd.h> lacks extern "C".
bool exits_within(pid_t pid, std::chrono::milliseconds grace) {
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) return false;
    pollfd p{fd, POLLIN, 0};
    int n;
    do n = ::poll(&p, 1, static_cast<int>(grace.count()));
    while (n < 0 && errno == EINTR);
    ::close(fd);
    return n > 0;
}

}  // namespace

child_process::child_process(const std::vector<std::string>& args, const std::string& log_path,
                             const bind_mounts& mounts) {
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log_fd < 0 || null_fd < 0) {
        const int saved = errno;
        if (log_fd >= 0) ::close(log_fd);
        if (null_fd >= 0) ::close(null_fd);
        errno = saved;
        fail("open " + log_path);
    }
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
        // Async-signal-safe calls only: other threads may hold locks.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(127);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);  // a blocked SIGTERM would survive exec
        if (!mounts.empty()) {
            if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
                ::_exit(126);
            for (const auto& [from, to] : mounts)
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
    if (pid_ < 0) {
        errno = fork_errno;
        fail("fork " + args.at(0));
    }
}

child_process::child_process(child_process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(other.status_) {}

child_process& child_process::operator=(child_process&& other) noexcept {
    if (this != &other) {
        stop();
        pid_ = std::exchange(other.pid_, -1);
        status_ = other.status_;
    }
    return *this;
}

child_process::~child_process() { stop(); }

child_process::readiness child_process::wait_until_ready(const std::function<bool()>& ready,
                                                         std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pid_ > 0 && ::waitpid(pid_, &status_, WNOHANG) == pid_) {
            pid_ = -1;
            return readiness::exited;
        }
        if (ready()) return readiness::ready;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // pacing the probe
    }
    return readiness::timed_out;
}

void child_process::stop() noexcept {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (!exits_within(pid_, std::chrono::seconds(2))) ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

server_process::server_process(const std::string& name) {
    std::string tmpl = "/tmp/nettrace-" + name + "-XXXXXX";
    if (!::mkdtemp(tmpl.data())) fail("mkdtemp");
    dir_ = tmpl;
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
}

server_process::~server_process() {
    child_.stop();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
}

std::string server_process::log() const {
    std::ifstream in(dir_ + "/log");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

unsigned short server_process::free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        const int saved = errno;
        if (fd >= 0) ::close(fd);
        errno = saved;
        fail("no free loopback port");
    }
    ::close(fd);
    return ntohs(a.sin_port);
}

bool server_process::spawn(const std::vector<std::string>& argv, unsigned short port,
                           const child_process::bind_mounts& mounts) {
    child_ = child_process(argv, dir_ + "/log", mounts);
    port_ = port;
    switch (child_.wait_until_ready([port] { return accepts(port); })) {
        case child_process::readiness::ready:
            return true;
        case child_process::readiness::exited:
            return false;
        case child_process::readiness::timed_out:
            break;
    }
    child_.stop();
    throw std::runtime_error(argv.at(0) + " did not accept on 127.0.0.1:" + std::to_string(port) + " in 10 s:\n" +
                             log());
}

}  // namespace nettrace::testing
