// The network lab (netlab.hpp).
#include "netlab.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <spawn.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace nettrace::testing {
namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// A fresh namespace's lo is down; SIOCSIFFLAGS brings it up (with 127.0.0.1
// and ::1) without needing iproute2. Empty, or why not.
std::string bring_loopback_up() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno_text("socket");
    ifreq req{};
    std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
    std::string why;
    if (::ioctl(fd, SIOCGIFFLAGS, &req) != 0) why = errno_text("SIOCGIFFLAGS lo");
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
    if (why.empty() && ::ioctl(fd, SIOCSIFFLAGS, &req) != 0) why = errno_text("SIOCSIFFLAGS lo");
    ::close(fd);
    return why;
}

// The inode of network namespace link `path` ("net:[N]"), or 0.
ino_t namespace_inode_of(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

const char* ip_program() {
    for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
        if (::access(p, X_OK) == 0) return p;
    return nullptr;
}

std::vector<std::string> split(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') ++i;
        std::size_t j = i;
        while (j < s.size() && s[j] != ' ') ++j;
        if (j > i) out.emplace_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

// Runs `ip ARGS` as a child of the calling thread (so in its namespace),
// waits for it, and returns its output; throws when it fails.
std::string spawn_ip(std::string_view args) {
    const char* program = ip_program();
    if (!program) throw std::runtime_error("ip (iproute2) not found");
    std::vector<std::string> words = split(args);
    std::vector<char*> argv{const_cast<char*>("ip")};
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);

    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error(errno_text("pipe2"));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, out[1], 2);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, program, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    std::string output;
    if (rc == 0) {
        std::array<char, 4096> buf;
        for (;;) {
            const ssize_t n = ::read(out[0], buf.data(), buf.size());
            if (n > 0)
                output.append(buf.data(), static_cast<std::size_t>(n));
            else if (n == 0 || errno != EINTR)
                break;
        }
    }
    ::close(out[0]);
    if (rc != 0) throw std::runtime_error("posix_spawn ip: " + std::string(std::strerror(rc)));
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("ip " + std::string(args) + " failed: " + output);
    return output;
}

// The kernel finishes adding an address after `ip` has returned: an IPv6
// address gets its local route (the one that delivers packets to it) from
// the DAD work item, even with nodad, and on a veth only once the link
// watcher has seen the carrier. Until then a connect to it may go out by
// the prefix route and fail later with ENETUNREACH. Waits (polling: there
// is no event to wait on short of a netlink listener), at most 5 s, until
// a TCP connect from the calling thread to a closed port of the address is
// refused, which only local delivery does.
void wait_until_usable(const std::string& cidr, const std::string& dev) {
    const std::string text = cidr.substr(0, cidr.find('/'));
    sockaddr_storage ss{};
    socklen_t len = 0;
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    if (::inet_pton(AF_INET6, text.c_str(), &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        if (IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr)) a6->sin6_scope_id = ::if_nametoindex(dev.c_str());
        len = sizeof(sockaddr_in6);
    } else if (::inet_pton(AF_INET, text.c_str(), &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        len = sizeof(sockaddr_in);
    } else {
        throw std::runtime_error("not an address: " + cidr);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::string why;
    for (;;) {
        // A bound, never listening socket: a closed port of the address.
        const int closed = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int probe = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (closed < 0 || probe < 0) throw std::runtime_error(errno_text("socket"));
        sockaddr_storage target = ss;
        socklen_t target_len = len;
        int error = 0;
        if (::bind(closed, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
            ::getsockname(closed, reinterpret_cast<sockaddr*>(&target), &target_len) != 0) {
            error = errno;
        } else if (::connect(probe, reinterpret_cast<sockaddr*>(&target), target_len) != 0) {
            error = errno;
            if (error == EINPROGRESS) {
                pollfd p{probe, POLLOUT, 0};
                error = ::poll(&p, 1, 200) == 1 ? 0 : ETIMEDOUT;
                socklen_t n = sizeof error;
                if (error == 0) ::getsockopt(probe, SOL_SOCKET, SO_ERROR, &error, &n);
            }
        }
        ::close(closed);
        ::close(probe);
        if (error == ECONNREFUSED) return;
        why = error ? std::strerror(error) : "connected to a port nobody listens on";
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error(cidr + " on " + dev + " still not usable after 5 s: " + why);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

bool entered_private_network = false;
thread_local bool lab_thread = false;  // set on a lab's thread, inherited by none

}  // namespace

// ---------------------------------------------------------------------------
// The lab thread

struct netlab::worker {
    std::mutex mutex;
    std::condition_variable cv;
    struct job {
        std::function<void()>* body;
        std::exception_ptr error{};
        bool done = false;
    };
    job* task = nullptr;  // set by execute(), cleared by the thread once done
    bool ready = false, stop = false;
    std::string why;  // set before ready: the namespace could not be made

    int home = -1;  // the namespace the netlab was made in, to go back to
    ino_t inode = 0;
    pid_t tid = 0;
    std::thread::id id;
    std::vector<std::string> veths;  // one end of each pair
    std::thread thread;

    void main() {
        {
            std::string failure;
            if (::unshare(CLONE_NEWNET) != 0) failure = errno_text("unshare(CLONE_NEWNET)");
            if (failure.empty()) failure = bring_loopback_up();
            lab_thread = failure.empty();
            std::lock_guard lock(mutex);
            why = failure;
            inode = namespace_inode_of("/proc/thread-self/ns/net");
            tid = ::gettid();
            ready = true;
            cv.notify_all();
            if (!why.empty()) return leave();
        }
        for (;;) {
            std::unique_lock lock(mutex);
            cv.wait(lock, [&] { return task || stop; });
            if (task) {
                job* j = task;
                lock.unlock();
                std::exception_ptr error;
                try {
                    (*j->body)();
                } catch (...) {
                    error = std::current_exception();
                }
                lock.lock();
                j->error = error;
                j->done = true;
                task = nullptr;
                cv.notify_all();
                continue;
            }
            break;
        }
        for (const auto& v : veths) {
            try {
                spawn_ip("link del " + v);
            } catch (...) {}
        }
        leave();
    }

    // Back to the namespace the netlab was made in, so that the lab's
    // reference is dropped now rather than somewhere in the thread's exit,
    // after join() has already returned.
    void leave() {
        lab_thread = false;
        if (home >= 0) ::setns(home, CLONE_NEWNET);
    }
};

netlab::netlab() : worker_(std::make_unique<worker>()) {
    worker& w = *worker_;
    w.home = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (w.home < 0) throw std::runtime_error(errno_text("open /proc/thread-self/ns/net"));
    w.thread = std::thread([&w] { w.main(); });
    w.id = w.thread.get_id();
    std::unique_lock lock(w.mutex);
    w.cv.wait(lock, [&] { return w.ready; });
    if (!w.why.empty()) {
        const std::string why = w.why;
        lock.unlock();
        w.thread.join();
        ::close(w.home);
        throw std::runtime_error(why);
    }
}

netlab::~netlab() {
    worker& w = *worker_;
    {
        std::lock_guard lock(w.mutex);
        w.stop = true;
        w.cv.notify_all();
    }
    w.thread.join();
    ::close(w.home);
}

void netlab::execute(std::function<void()> task) {
    worker& w = *worker_;
    if (std::this_thread::get_id() == w.id) return task();
    worker::job j{&task};
    {
        std::unique_lock lock(w.mutex);
        w.cv.wait(lock, [&] { return !w.task; });  // one body at a time
        w.task = &j;
        w.cv.notify_all();
        w.cv.wait(lock, [&] { return j.done; });
    }
    if (j.error) std::rethrow_exception(j.error);
}

const std::string& netlab::unavailable_reason() {
    static const std::string why = [] {
        if (!ip_program()) return std::string("ip (iproute2) not found");
        try {
            netlab probe;
            probe.ip("link show lo");
            return std::string();
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
    }();
    return why;
}

std::string netlab::ip(std::string_view args) {
    return run([&] { return spawn_ip(args); });
}

void netlab::remove_ipv4_loopback() { ip("addr del 127.0.0.1/8 dev lo"); }

void netlab::add_address(std::string_view cidr, std::string_view dev) {
    const bool v6 = cidr.find(':') != std::string_view::npos;
    ip(std::string(v6 ? "-6 " : "-4 ") + "addr add " + std::string(cidr) + " dev " + std::string(dev) +
       (v6 ? " nodad" : ""));
    run([&] { wait_until_usable(std::string(cidr), std::string(dev)); });
}

void netlab::add_route(std::string_view type, std::string_view prefix) {
    const bool v6 = prefix.find(':') != std::string_view::npos;
    ip(std::string(v6 ? "-6 " : "-4 ") + "route add " + std::string(type) + " " + std::string(prefix));
}

void netlab::add_veth(std::string_view a, std::string_view b) {
    const std::string A(a), B(b);
    ip("link add " + A + " type veth peer name " + B);
    {
        std::lock_guard lock(worker_->mutex);
        worker_->veths.push_back(A);
    }
    ip("link set " + A + " up");
    ip("link set " + B + " up");
    add_address("fe80::1/64", A);
    add_address("fe80::2/64", B);
}

void netlab::add_dropping_route(std::string_view prefix, std::string_view dev) {
    const std::string D(dev);
    // A locally administered MAC that no interface of the lab has: the
    // peer's stack drops the frames as addressed to another host.
    const std::string nobody = " lladdr 02:00:00:00:de:ad nud permanent";
    if (prefix.find(':') != std::string_view::npos) {
        ip("-6 neigh replace fe80::dead dev " + D + nobody);
        ip("-6 route add " + std::string(prefix) + " via fe80::dead dev " + D);
    } else {
        ip("-4 neigh replace 192.0.2.254 dev " + D + nobody);
        ip("-4 route add " + std::string(prefix) + " via 192.0.2.254 dev " + D + " onlink");
    }
}

unsigned netlab::interface_index(std::string_view dev) {
    return run([&] { return ::if_nametoindex(std::string(dev).c_str()); });
}

ino_t netlab::namespace_inode() const noexcept { return worker_->inode; }
pid_t netlab::thread_id() const noexcept { return worker_->tid; }

std::vector<std::string> netlab::namespace_references(ino_t inode) {
    std::vector<std::string> found;
    const auto each_entry = [](const std::string& dir, auto&& f) {
        if (DIR* d = ::opendir(dir.c_str())) {
            std::vector<std::string> names;
            while (dirent* e = ::readdir(d))
                if (e->d_name[0] != '.') names.emplace_back(e->d_name);
            ::closedir(d);
            for (const auto& n : names) f(n);
        }
    };
    each_entry("/proc/self/task", [&](const std::string& tid) {
        if (namespace_inode_of("/proc/self/task/" + tid + "/ns/net") == inode) found.push_back("thread " + tid);
    });
    each_entry("/proc/self/fd", [&](const std::string& fd) {
        std::array<char, 256> link{};
        const std::string path = "/proc/self/fd/" + fd;
        const ssize_t n = ::readlink(path.c_str(), link.data(), link.size() - 1);
        if (n <= 0) return;
        const std::string target(link.data(), static_cast<std::size_t>(n));
        if (target == "net:[" + std::to_string(inode) + "]") found.push_back("descriptor " + fd + " (nsfs)");
        if (target.rfind("socket:[", 0) != 0) return;
        const int ns = ::ioctl(std::atoi(fd.c_str()), SIOCGSKNS);
        if (ns < 0) return;
        struct stat st {};
        if (::fstat(ns, &st) == 0 && st.st_ino == inode) found.push_back("descriptor " + fd + " (a socket)");
        ::close(ns);
    });
    return found;
}

bool netlab::inside() noexcept { return lab_thread; }

// ---------------------------------------------------------------------------
// The lab's listener

namespace {

const boost::asio::ip::address& inside_a_lab(const boost::asio::ip::address& addr) {
    if (!netlab::inside())
        throw std::logic_error("lab_listener outside a lab: " + addr.to_string() + " would be the machine's");
    return addr;
}

}  // namespace

lab_listener::lab_listener(const boost::asio::any_io_executor& ex, const boost::asio::ip::address& addr,
                           unsigned short port)
    : live_listener(any_address{}, ex, inside_a_lab(addr), port) {}

// ---------------------------------------------------------------------------
// The whole process

std::string enter_private_network() {
    if (entered_private_network) return {};
    if (::unshare(CLONE_NEWNET) != 0) return errno_text("unshare(CLONE_NEWNET)");
    std::string why = bring_loopback_up();
    entered_private_network = why.empty();
    return why;
}

bool in_private_network() noexcept { return entered_private_network; }

bool netns_required() noexcept {
    const char* v = std::getenv("NETTRACE_REQUIRE_NETNS");
    return v && v[0] == '1' && v[1] == '\0';
}

}  // namespace nettrace::testing
