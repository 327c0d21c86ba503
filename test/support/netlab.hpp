// The network lab: network namespaces the tests make themselves, to see what
// loopback cannot show (missing routes, link-local zones, IPv6-only hosts,
// several source addresses), without touching the machine's own network.
//
// Two ways in, one mechanism (unshare(CLONE_NEWNET), then lo brought up):
//
// - netlab: a namespace for ONE test, owned by a thread of its own. The
//   constructor starts the thread, which unshares its network namespace
//   (only that thread moves: the process and its other threads stay where
//   they were); setup methods (`ip` commands, run as children of that
//   thread, so inside) and run(body) execute there. The destructor moves the
//   thread back and lets it end: the namespace, its addresses, routes and
//   veth pair go with the last reference to it, which that thread was.
// - enter_private_network(): the whole process, for proxy_test, whose real
//   proxies are child processes that must be inside too.
//
// Why a thread that unshares rather than `ip netns add` + setns: a named
// namespace is a bind mount under /run/netns that outlives the process if
// it dies (a crash, a meson timeout's SIGKILL) and must be removed by hand.
// A namespace held only by a thread cannot leak: the kernel drops it when
// the thread (or the process) ends, whatever the test did. Nothing here
// ever changes the network of the namespace the process started in.
//
// What lives in the lab: a socket belongs to the namespace of the thread
// that created it, and so does a child process; so does a thread started
// from the lab thread. Hence:
// - make listeners, DNS servers and io_contexts inside run(body), and let
//   them go there (or at least before the netlab): each socket holds the
//   namespace until it is closed;
// - in the lab, dial literals or use nettrace::make_static_resolver or
//   make_dns_resolver (c-ares runs on the io_context's thread): never the
//   system resolver, whose detached getaddrinfo threads would start inside
//   the lab and stay there;
// - interface names and indexes (zones, scope ids) are the lab's: an
//   endpoint with a scope id written out on another thread names whatever
//   interface has that index there (if_indextoname), or none.
//
// Safety: documentation (2001:db8::/32, 192.0.2.0/24, 198.51.100.0/24),
// ULA (fd00::/8), link-local and NAT64 (64:ff9b::/96) addresses are put
// only on interfaces of the lab, and lab_listener listens only on a lab
// thread; the lab's routes are its own and it has no route out (a fresh
// namespace has only lo).
#pragma once

#include "loopback.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/types.h>

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace nettrace::testing {

class netlab {
public:
    /// Empty when a lab can be made here; otherwise why not
    /// ("unshare(CLONE_NEWNET): Operation not permitted" when not root, or
    /// "ip (iproute2) not found"). Probed once per process, by making a lab.
    static const std::string& unavailable_reason();
    static bool available() { return unavailable_reason().empty(); }

    /// Makes the namespace (lo up: 127.0.0.1 and ::1, nothing else). Throws
    /// std::runtime_error saying why when it cannot.
    netlab();
    /// Deletes the veth pairs, moves the lab thread back to the namespace
    /// the netlab was made in and joins it: once this returns nothing of
    /// the lab holds the namespace, and it is gone unless a socket made in
    /// it is still open. Never throws.
    ~netlab();
    netlab(const netlab&) = delete;
    netlab& operator=(const netlab&) = delete;

    /// Runs `body()` on the lab's thread, inside the namespace, and returns
    /// what it returns; an exception it throws is rethrown here. The caller
    /// waits meanwhile, so Boost.Test assertions work in the body (one
    /// thread uses them at a time). An io_context made and run in the body
    /// runs there, so its sockets live in the lab. Called from the lab
    /// thread (a body calling a setup method), it just calls.
    template <class F>
    std::invoke_result_t<F&> run(F&& body) {
        using R = std::invoke_result_t<F&>;
        if constexpr (std::is_void_v<R>) {
            execute([&] { body(); });
        } else {
            std::optional<R> result;
            execute([&] { result.emplace(body()); });
            return std::move(*result);
        }
    }

    /// Runs `ip ARGS` (split on spaces) inside the lab. Throws
    /// std::runtime_error with the command and its output when it fails.
    /// Returns its output (stdout and stderr).
    std::string ip(std::string_view args);

    /// `ip addr del 127.0.0.1/8 dev lo`: no IPv4 address at all, as on an
    /// IPv6-only host (::1 stays).
    void remove_ipv4_loopback();
    /// `ip addr add CIDR dev DEV` (IPv6: nodad), e.g.
    /// ("64:ff9b::7f00:1/128", "lo"), ("fd00:6724::1/64", "lo"). Returns
    /// once connects to the address are delivered locally: the kernel
    /// gives an IPv6 address its local route from a work queue after `ip`
    /// returns (a veth's once its carrier is seen), and a connect before
    /// that fails with ENETUNREACH; this polls, for at most 5 s.
    void add_address(std::string_view cidr, std::string_view dev = "lo");
    /// `ip route add TYPE PREFIX`: type "unreachable", "prohibit",
    /// "blackhole" or "throw". What a connect then reports (kernel 6.x, both
    /// families, at once): unreachable EHOSTUNREACH, prohibit EACCES,
    /// blackhole EINVAL; with no route at all, ENETUNREACH.
    void add_route(std::string_view type, std::string_view prefix);
    /// A veth pair `a` <-> `b`, both up, with fe80::1/64 on `a` and
    /// fe80::2/64 on `b` (nodad), besides the kernel's own link-local
    /// addresses. Deleted by the destructor (the namespace would take it
    /// along anyway).
    void add_veth(std::string_view a, std::string_view b);
    /// Routes PREFIX out of `dev` (a veth of add_veth) to a neighbour with
    /// a permanent entry whose MAC no interface has: packets leave and are
    /// dropped by the peer, so a connect hangs (its SYNs vanish, as behind
    /// a dropping firewall) instead of failing. This is the silent black
    /// hole; `add_route("blackhole", ...)` fails at once with EINVAL, and a
    /// route to a neighbour that merely never answers fails with
    /// EHOSTUNREACH after about 3 s of neighbour discovery.
    void add_dropping_route(std::string_view prefix, std::string_view dev);

    /// if_nametoindex(dev) inside the lab; 0 when there is no such interface.
    unsigned interface_index(std::string_view dev);

    /// The lab namespace's inode (st_ino of the lab thread's
    /// /proc/thread-self/ns/net) and the lab thread's id: what
    /// namespace_references() looks for once the netlab is gone.
    ino_t namespace_inode() const noexcept;
    pid_t thread_id() const noexcept;

    /// What in this process still refers to network namespace `inode`:
    /// threads in it, descriptors of it (nsfs), and sockets created in it
    /// (SIOCGSKNS), one line each. Empty: nothing here keeps it alive.
    static std::vector<std::string> namespace_references(ino_t inode);

    /// Whether the calling thread is a lab's thread (inside run()).
    static bool inside() noexcept;

private:
    void execute(std::function<void()> task);
    struct worker;
    std::unique_ptr<worker> worker_;
};

/// Accepts every connection on `addr` (any address of the lab: its
/// documentation, ULA, NAT64 or link-local ones, with the scope id) and
/// keeps it open, served on `ex`: a live_listener (peers/loopback.hpp, which
/// by itself takes loopback only) for the lab. Made only inside a lab (netlab::run);
/// elsewhere the constructor throws std::logic_error, so that nothing
/// listens on an address of the machine's own network. Throws
/// boost::system::system_error when the address cannot be bound.
class lab_listener : public live_listener {
public:
    lab_listener(const boost::asio::any_io_executor& ex, const boost::asio::ip::address& addr, unsigned short port = 0);
    lab_listener(const lab_listener&) = delete;
    lab_listener& operator=(const lab_listener&) = delete;
};

/// Moves this whole process into a new network namespace and brings its
/// loopback interface up (127.0.0.1 and ::1), for tests whose child
/// processes must be inside too (proxy_test's real proxies). Call before
/// any thread starts (a Boost.Test global fixture): the threads made later
/// and the children share it; it goes with the process. Returns an empty
/// string on success, else why not, and the process stays where it was.
std::string enter_private_network();

/// Whether enter_private_network() succeeded in this process.
bool in_private_network() noexcept;

/// Whether NETTRACE_REQUIRE_NETNS=1 (CI, .ci/run): a lab that cannot be
/// made is then a failure, not a skip.
bool netns_required() noexcept;

/// Boost.Test precondition of the lab's tests:
/// `*boost::unit_test::precondition(nettrace::testing::netlab_available{})`.
/// Unavailable, the test is skipped (counted as skipped, never passed) with
/// the reason.
struct netlab_available {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result r(netlab::available());
        if (!r) r.message() << "no network lab (" << netlab::unavailable_reason() << "): skipped";
        return r;
    }
};

}  // namespace nettrace::testing
