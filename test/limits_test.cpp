// limits_test.cpp — dialing at the process's file-descriptor limit.
//
// RLIMIT_NOFILE is lowered to just above the descriptors in use: the dials
// that cannot get a socket fail at once with EMFILE (asio::error::
// no_descriptors), named in their description; none hangs, nothing leaks,
// and once the limit is restored dials connect again. The limit is restored
// by an RAII guard, whatever happens.
#define BOOST_TEST_MODULE limits
#include <boost/test/unit_test.hpp>

#include <nettrace/dns_resolver.hpp>
#include <nettrace/nettrace.hpp>
#include <nettrace/tls.hpp>

#include "support/common.hpp"
#include "support/dns_server.hpp"
#include "support/trace_recorder.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <dirent.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using nettrace::testing::open_reactor;
using nettrace::testing::trace_recorder;

namespace {

constexpr int dials = 50;
constexpr int spare = 4;  // descriptors left free under the lowered limit

// The limit under which exactly `free` descriptor numbers are unused. A new
// descriptor takes the lowest free number, and RLIMIT_NOFILE bounds that
// number, not the count: descriptors above the limit (a shell's 255, say)
// stay open and do not count.
int limit_leaving(int free) {
    std::vector<int> open;
    DIR* d = ::opendir("/proc/self/fd");
    BOOST_TEST_REQUIRE(d != nullptr);
    const int own = ::dirfd(d);
    while (const dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        const int fd = std::atoi(e->d_name);
        if (fd != own) open.push_back(fd);
    }
    ::closedir(d);
    std::sort(open.begin(), open.end());
    for (int fd = 0, left = free;; ++fd) {
        if (std::binary_search(open.begin(), open.end(), fd)) continue;
        if (left-- == 0) return fd;
    }
}

// Lowers the soft RLIMIT_NOFILE for its lifetime.
class lowered_fd_limit {
public:
    explicit lowered_fd_limit(rlim_t soft) {
        BOOST_TEST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
        rlimit lowered = saved_;
        lowered.rlim_cur = soft;
        BOOST_TEST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
        active_ = true;
    }
    ~lowered_fd_limit() { restore(); }
    void restore() {
        if (active_) ::setrlimit(RLIMIT_NOFILE, &saved_);
        active_ = false;
    }
    lowered_fd_limit(const lowered_fd_limit&) = delete;
    lowered_fd_limit& operator=(const lowered_fd_limit&) = delete;

private:
    rlimit saved_{};
    bool active_ = false;
};

// A listening socket that never accepts: connects complete in its backlog
// without this process spending a descriptor per connection (an accepting
// listener would itself run out of descriptors under the lowered limit).
class backlog_listener {
public:
    explicit backlog_listener(const asio::ip::address& addr) {
        fd_ = ::socket(addr.is_v6() ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        BOOST_TEST_REQUIRE(fd_ >= 0);
        tcp::endpoint ep(addr, 0);
        BOOST_TEST_REQUIRE(::bind(fd_, ep.data(), static_cast<socklen_t>(ep.size())) == 0);
        BOOST_TEST_REQUIRE(::listen(fd_, 4 * dials) == 0);
        socklen_t len = static_cast<socklen_t>(ep.capacity());
        ::getsockname(fd_, ep.data(), &len);
        port_ = ep.port();
    }
    ~backlog_listener() { ::close(fd_); }
    unsigned short port() const { return port_; }

private:
    int fd_ = -1;
    unsigned short port_ = 0;
};

struct one_dial {
    trace_recorder rec;
    nettrace::dial_report report;
    int calls = 0;
    error_code ec;
    std::optional<tcp::socket> socket;
    steady::duration elapsed{};
};

// Sanitizer runtimes need descriptors of their own: UBSan's vptr check, on
// the first sight of a (type, vtable) pair, probes memory through a pipe(),
// and reports a false "invalid vptr" when there is no descriptor for it.
// So under the lowered limit only the dials run (no Boost.Test assertion),
// and one dial that fails in a similar way walks the same code before the
// limit is lowered, so the sanitizers know it already.
void warm_up(asio::io_context& ioc, const nettrace::dialer& d, const std::string& address,
             error_code expected = asio::error::connection_refused) {
    trace_recorder rec;
    nettrace::dial_report report;
    int calls = 0;
    d.dial(ioc.get_executor(), nettrace::with_dial_report(rec.attach(), report), "tcp", address,
           [&](error_code ec, tcp::socket) {
               ++calls;
               BOOST_TEST(ec == expected, ec.message());
           });
    ioc.restart();
    ioc.run_for(10s);
    BOOST_TEST_REQUIRE(calls == 1);
    BOOST_TEST(!report.description.empty());
}

// Starts `n` dials at once and runs them to completion (bounded); `stopped`:
// whether they all did (the io_context ran out of work).
std::vector<std::unique_ptr<one_dial>> dial_all(asio::io_context& ioc, const nettrace::dialer& d,
                                                const std::string& address, int n, bool& stopped) {
    std::vector<std::unique_ptr<one_dial>> out;
    const auto start = steady::now();
    for (int i = 0; i < n; ++i) {
        auto& od = *out.emplace_back(std::make_unique<one_dial>());
        d.dial(ioc.get_executor(), nettrace::with_dial_report(od.rec.attach(), od.report), "tcp", address,
               [&od, start](error_code ec, tcp::socket s) {
                   od.rec.completed();
                   ++od.calls;
                   od.ec = ec;
                   od.elapsed = steady::now() - start;
                   if (s.is_open()) od.socket.emplace(std::move(s));
               });
    }
    ioc.restart();
    ioc.run_for(10s);  // the listener has no pending operation: run() ends when the dials do
    stopped = ioc.stopped();
    return out;
}

// `dials` dials of `address` with only `spare` descriptors free. The limit
// is lowered only while they run: the checks, here and after, need
// descriptors of their own (the sanitizer runtimes do).
std::vector<std::unique_ptr<one_dial>> dial_all_at_limit(asio::io_context& ioc, const nettrace::dialer& d,
                                                         const std::string& address) {
    const int limit = limit_leaving(spare);
    std::vector<std::unique_ptr<one_dial>> results;
    bool stopped = false;
    {
        lowered_fd_limit lowered{static_cast<rlim_t>(limit)};
        results = dial_all(ioc, d, address, dials, stopped);
    }
    BOOST_TEST(stopped, "dials still pending 10 s after they started");
    BOOST_TEST_REQUIRE(results.size() == std::size_t(dials));
    return results;
}

// The checks of one run at the limit: every dial either connected or failed
// with EMFILE, promptly, named in its description; at most `free_slots`
// connected.
void check_at_limit(const std::vector<std::unique_ptr<one_dial>>& results, int free_slots, std::size_t attempts_each) {
    const error_code emfile = asio::error::no_descriptors;
    int connected = 0, exhausted = 0;
    for (const auto& r : results) {
        BOOST_TEST(r->calls == 1);
        r->rec.check_contract();
        if (!r->ec) {
            ++connected;
            BOOST_TEST(r->socket.has_value());
            continue;
        }
        BOOST_TEST(r->ec == emfile, "failed with " << r->ec.message() << " instead of EMFILE");
        BOOST_TEST((r->ec == std::errc::too_many_files_open));
        exhausted += r->ec == emfile;
        BOOST_TEST(!r->socket.has_value());
        BOOST_TEST(ms(r->elapsed) < 2000.0, "failed after " << ms(r->elapsed) << " ms");
        // Named: with_dial_report's description and dial_done's.
        const std::string named = emfile.message();  // "Too many open files"
        BOOST_TEST(r->report.error == emfile);
        BOOST_TEST(r->report.description.find(named) != std::string::npos, r->report.description);
        const auto done = r->rec.of("dial_done");
        BOOST_TEST_REQUIRE(done.size() == 1u);
        BOOST_TEST(done[0].description.find(named) != std::string::npos, done[0].description);
        BOOST_TEST(r->report.attempts.size() == attempts_each);
        for (const auto& a : r->report.attempts) {
            BOOST_TEST(a.error == emfile);
            BOOST_TEST((a.outcome == nettrace::connect_outcome::failed));
        }
    }
    BOOST_TEST_MESSAGE(connected << " connected, " << exhausted << " failed with EMFILE (" << free_slots
                                 << " descriptors were free)");
    BOOST_TEST(connected <= free_slots);
    BOOST_TEST(connected >= 1, "no dial got one of the " << free_slots << " free descriptors");
    BOOST_TEST(exhausted == int(results.size()) - connected);
    BOOST_TEST(exhausted >= dials - free_slots);
}

// An io_context whose reactor (and nettrace's spare one) is open before the
// limit is lowered: those descriptors stay, whatever the case does.
struct open_io_context {
    asio::io_context ioc;
    open_io_context() { open_reactor(ioc); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(dials_at_the_limit, open_io_context)

BOOST_AUTO_TEST_CASE(dials_at_the_descriptor_limit_fail_with_emfile_and_recover) {
    backlog_listener listener(v4);
    const std::string address = "127.0.0.1:" + std::to_string(listener.port());
    const nettrace::dialer d;
    {
        nettrace::testing::refused_port refused(v4);
        warm_up(ioc, d, "127.0.0.1:" + std::to_string(refused.port()));
    }
    const auto fds_before = nettrace::testing::open_fd_count();
    {
        const auto results = dial_all_at_limit(ioc, d, address);
        check_at_limit(results, spare, 1);
    }
    BOOST_TEST(nettrace::testing::open_fd_count() == fds_before, "descriptors leaked");

    // The limit is back: every dial connects.
    bool stopped = false;
    auto again = dial_all(ioc, d, address, dials, stopped);
    BOOST_TEST(stopped);
    int connected = 0;
    for (const auto& r : again) {
        BOOST_TEST(r->calls == 1);
        BOOST_TEST(!r->ec, r->ec.message());
        connected += !r->ec;
        r->rec.check_contract();
    }
    BOOST_TEST(connected == dials);
    again.clear();
    BOOST_TEST(nettrace::testing::open_fd_count() == fds_before, "descriptors leaked");
}

// A name with two addresses: both attempts fail at socket(); the dial reports
// EMFILE (a local failure, the only kind there is) and lists both attempts.
BOOST_AUTO_TEST_CASE(every_attempt_of_a_named_dial_fails_with_emfile) {
    backlog_listener listener(v4);
    nettrace::dial_options o;
    o.resolver = nettrace::make_static_resolver({{"limit.test", {v4, v4_other}}});
    o.attempt_delay = 5s;  // a second attempt starts at once only because the first failed
    const nettrace::dialer d(o);
    const std::string address = "limit.test:" + std::to_string(listener.port());
    {
        nettrace::testing::refused_port refused1(v4);
        nettrace::testing::refused_port refused2(v4_other, refused1.port());
        warm_up(ioc, d, "limit.test:" + std::to_string(refused1.port()));
    }
    const auto fds_before = nettrace::testing::open_fd_count();
    {
        const int free_slots = spare;
        const auto results = dial_all_at_limit(ioc, d, address);
        // A dial that got a descriptor for its first attempt connected with
        // it; the others tried both addresses.
        const error_code emfile = asio::error::no_descriptors;
        int connected = 0;
        for (const auto& r : results) {
            BOOST_TEST(r->calls == 1);
            r->rec.check_contract();
            if (!r->ec) {
                ++connected;
                continue;
            }
            BOOST_TEST(r->ec == emfile, r->ec.message());
            BOOST_TEST(ms(r->elapsed) < 2000.0, "failed after " << ms(r->elapsed) << " ms");
            BOOST_TEST(r->report.description.find(emfile.message()) != std::string::npos, r->report.description);
            BOOST_TEST(r->report.description.find("limit.test") != std::string::npos, r->report.description);
            BOOST_TEST_REQUIRE(r->report.attempts.size() == 2u);
            for (const auto& a : r->report.attempts) BOOST_TEST(a.error == emfile);
            BOOST_TEST(r->report.description.find("2 attempts") != std::string::npos, r->report.description);
        }
        BOOST_TEST(connected <= free_slots);
        BOOST_TEST(connected >= 1);
        BOOST_TEST(dials - connected >= dials - free_slots);
    }
    BOOST_TEST(nettrace::testing::open_fd_count() == fds_before, "descriptors leaked");
    bool stopped = false;
    auto again = dial_all(ioc, d, address, 5, stopped);
    BOOST_TEST(stopped);
    for (const auto& r : again) BOOST_TEST(!r->ec, r->ec.message());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Names at the limit: the lookup itself needs a descriptor (getaddrinfo reads
// /etc/hosts, c-ares opens a UDP socket). The dial must still name EMFILE,
// not blame the name or the DNS server.
//
// Both resolvers see only a symptom ("no such host" from getaddrinfo,
// "could not contact the server" from c-ares) and look at errno / the failed
// socket() to report EMFILE instead.

namespace {

// Runs one dial of `address` with every descriptor number below the limit in
// use: it must fail with EMFILE, name it in its report, and leave the
// process's descriptors as they were.
void dial_with_no_free_descriptor_names_emfile(asio::io_context& ioc, const nettrace::dialer& d,
                                               const std::string& address) {
    const auto fds_before = nettrace::testing::open_fd_count();
    one_dial od;
    {
        lowered_fd_limit lowered{static_cast<rlim_t>(limit_leaving(0))};
        d.dial(ioc.get_executor(), nettrace::with_dial_report(od.rec.attach(), od.report), "tcp", address,
               [&od](error_code ec, tcp::socket) {
                   od.rec.completed();
                   ++od.calls;
                   od.ec = ec;
               });
        ioc.restart();
        ioc.run_for(10s);
    }
    BOOST_TEST(od.calls == 1);
    od.rec.check_contract();
    BOOST_TEST(od.report.error == asio::error::no_descriptors, od.report.error.message());
    BOOST_TEST(od.report.description.find(error_code(asio::error::no_descriptors).message()) != std::string::npos,
               od.report.description);
    BOOST_TEST(nettrace::testing::open_fd_count() == fds_before, "descriptors leaked");
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(names_at_the_limit, open_io_context)

BOOST_AUTO_TEST_CASE(system_resolver_at_the_limit_names_emfile) {
    nettrace::dial_options o;
    o.resolver = nettrace::make_system_resolver();
    const nettrace::dialer d(o);
    {
        nettrace::testing::refused_port refused(v4);
        warm_up(ioc, d, "localhost:" + std::to_string(refused.port()));
    }
    dial_with_no_free_descriptor_names_emfile(ioc, d, "localhost:80");
}

BOOST_AUTO_TEST_CASE(dns_resolver_at_the_limit_names_emfile) {
    if (!nettrace::dns_resolver_available()) {
        BOOST_TEST_MESSAGE("built without c-ares: skipped");
        return;
    }
    // A name server that never answers, on a socket of our own.
    asio::ip::udp::socket server(ioc, asio::ip::udp::endpoint(v4, 0));
    nettrace::dns_resolver_options ro;
    ro.nameservers = {"127.0.0.1:" + std::to_string(server.local_endpoint().port())};
    ro.use_hosts_file = false;
    ro.tries = 1;
    ro.timeout = 100ms;
    nettrace::dial_options o;
    o.resolver = nettrace::make_dns_resolver(ro);
    const nettrace::dialer d(o);
    // The io_context's c-ares channel is made on first use: make it now, so
    // that only the query's socket meets the limit (and warm the sanitizers).
    warm_up(ioc, d, "warm.test:80", nettrace::error::dns_timeout);
    dial_with_no_free_descriptor_names_emfile(ioc, d, "name.test:80");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// A fresh io_context at the limit: its first I/O object would create the
// reactor, which needs descriptors of its own. The dial still completes, with
// no_descriptors and a paired trace, and run() returns normally.

namespace {

struct fresh_context_dial {
    trace_recorder rec;
    int calls = 0;
    error_code ec;
    bool socket_open = true;
    bool run_threw = false;
};

template <class Start>
void run_on_fresh_context_at_limit(fresh_context_dial& out, Start start) {
    asio::io_context ioc;  // no I/O object yet: no reactor
    lowered_fd_limit lowered{static_cast<rlim_t>(limit_leaving(0))};
    start(ioc, out);
    try {
        ioc.run_for(10s);
    } catch (...) {
        out.run_threw = true;
    }
    lowered.restore();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fresh_io_context_at_the_limit)

BOOST_AUTO_TEST_CASE(first_dial_on_a_fresh_io_context_at_the_limit_completes_with_emfile) {
    const nettrace::dialer d;  // made while descriptors are free, as programs make theirs
    nettrace::testing::refused_port refused(v4);
    const std::string address = "127.0.0.1:" + std::to_string(refused.port());
    {
        asio::io_context warm;  // the same path, with descriptors, for the sanitizers
        open_reactor(warm);
        warm_up(warm, d, address);
    }
    fresh_context_dial out;
    run_on_fresh_context_at_limit(out, [&](asio::io_context& ioc, fresh_context_dial& o) {
        d.dial(ioc.get_executor(), o.rec.attach(), "tcp", address, [&o](error_code ec, tcp::socket s) {
            o.rec.completed();
            ++o.calls;
            o.ec = ec;
            o.socket_open = s.is_open();
        });
    });
    BOOST_TEST(!out.run_threw, "an exception left io_context::run()");
    BOOST_TEST_REQUIRE(out.calls == 1);
    BOOST_TEST(out.ec == asio::error::no_descriptors, out.ec.message());
    BOOST_TEST(!out.socket_open);
    out.rec.check_contract();
    const auto done = out.rec.of("dial_done");
    BOOST_TEST_REQUIRE(done.size() == 1u);
    BOOST_TEST(done[0].description.find(error_code(asio::error::no_descriptors).message()) != std::string::npos,
               done[0].description);

    // Descriptors are back: a fresh io_context dials as usual.
    asio::io_context again;
    open_reactor(again);
    warm_up(again, d, address);
}

BOOST_AUTO_TEST_CASE(first_dial_tls_on_a_fresh_io_context_at_the_limit_completes_with_emfile) {
    const nettrace::dialer d;
    asio::ssl::context ssl_ctx(asio::ssl::context::tls_client);
    nettrace::testing::refused_port refused(v4);
    const std::string address = "127.0.0.1:" + std::to_string(refused.port());
    fresh_context_dial out;
    run_on_fresh_context_at_limit(out, [&](asio::io_context& ioc, fresh_context_dial& o) {
        nettrace::tls_dialer(ssl_ctx, {}, d)
            .dial(ioc.get_executor(), o.rec.attach(), "tcp", address, [&o](error_code ec, nettrace::tls_stream s) {
                o.rec.completed();
                ++o.calls;
                o.ec = ec;
                o.socket_open = s.lowest_layer().is_open();
            });
    });
    BOOST_TEST(!out.run_threw, "an exception left io_context::run()");
    BOOST_TEST_REQUIRE(out.calls == 1);
    BOOST_TEST(out.ec == asio::error::no_descriptors, out.ec.message());
    BOOST_TEST(!out.socket_open);
    out.rec.check_contract();
}

// A c-ares channel starts at the io_context's first lookup. One that cannot
// start (here: its timer is the fresh io_context's first I/O object, and the
// reactor cannot be made at the limit) fails the lookup with EMFILE, is not
// kept, and leaves the io_context safe to destroy (a failed start once left
// an empty channel that the io_context's shutdown dereferenced); the next
// io_context starts one as usual.
BOOST_AUTO_TEST_CASE(dns_channel_that_cannot_start_at_the_limit_is_not_kept) {
    if (!nettrace::dns_resolver_available()) {
        BOOST_TEST_MESSAGE("built without c-ares: skipped");
        return;
    }
    asio::io_context server_io;
    nettrace::testing::fake_dns_server dns(server_io.get_executor());
    dns.add("start.test", nettrace::testing::query_type::a, {.addresses = {v4}});
    dns.add("start.test", nettrace::testing::query_type::aaaa, {});
    nettrace::dns_resolver_options ro;
    ro.use_hosts_file = false;
    ro.tries = 1;
    ro.timeout = 500ms;
    ro.nameservers = {dns.address()};
    nettrace::dial_options o;
    o.resolver = nettrace::make_dns_resolver(ro);
    const nettrace::dialer d(o);
    std::optional<error_code> at_limit;
    bool run_threw = false;
    {
        asio::io_context ioc;  // nothing made on it yet: no reactor
        lowered_fd_limit lowered{static_cast<rlim_t>(limit_leaving(0))};
        d.resolve(ioc.get_executor(), {}, "start.test",
                  [&](error_code ec, std::vector<asio::ip::address>) { at_limit = ec; });
        try {
            ioc.run_for(10s);
        } catch (...) {
            run_threw = true;
        }
        lowered.restore();
    }  // the io_context shuts down its channels here
    BOOST_TEST(!run_threw);
    BOOST_TEST_REQUIRE(at_limit.has_value());
    BOOST_TEST(*at_limit == asio::error::no_descriptors, at_limit->message());

    // Descriptors are back: a fresh io_context starts its channel and resolves.
    asio::io_context ioc;
    std::thread server([&] { server_io.run_for(10s); });
    std::optional<error_code> again;
    std::vector<asio::ip::address> addrs;
    d.resolve(ioc.get_executor(), {}, "start.test", [&](error_code ec, std::vector<asio::ip::address> a) {
        again = ec;
        addrs = std::move(a);
        server_io.stop();
    });
    ioc.run_for(10s);
    server_io.stop();
    server.join();
    BOOST_TEST_REQUIRE(again.has_value());
    BOOST_TEST(!*again, again->message());
    BOOST_TEST(addrs == std::vector<asio::ip::address>{v4});
}

BOOST_AUTO_TEST_SUITE_END()
