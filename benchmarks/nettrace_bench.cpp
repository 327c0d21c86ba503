// nettrace-bench: what nettrace costs over raw Asio, side by side in one
// process. Every figure is a ratio against a baseline measured in the same
// run: the two alternate, round after round (the order rotating), and the
// median ratio is reported with its min and max. Loopback only.
//
//   nettrace-bench [--cases=1,2,3,4,5,6] [--rounds=N] [--quick] [--default-hint]
//   nettrace-bench --serve                       listener for go/compare.sh
//   nettrace-bench --loop=nettrace|raw --port=P --dials=N
//                                                sequential dials, prints dials/s
//
// Cases (benchmarks/README.md): 1 literal dial vs raw async_connect; 2 the
// cost of tracing on and off; 3 dials by name; 4 concurrency and memory;
// 5 a black-holed first address; 6 coalesced DNS lookups.
#include <nettrace/nettrace.hpp>

#include "dns_server.hpp"
#include "loopback.hpp"
#include "support.hpp"
#include "workers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace bench = nettrace::bench;
using nettrace::bench::run;
using nettrace::bench::seconds_since;
using nettrace::bench::show;
using nettrace::testing::open_fd_count;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

const asio::ip::address localhost = asio::ip::address_v4::loopback();

// CPU time of the calling thread (user and system), in seconds.
double thread_cpu_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

std::string endpoint_string(const asio::ip::address& a, unsigned short port) {
    return a.to_string() + ":" + std::to_string(port);
}

// ---------------------------------------------------------------------------
// The two ways to connect, written the way a user would.

asio::awaitable<void> raw_loop(tcp::endpoint ep, long n) {
    auto ex = co_await asio::this_coro::executor;
    for (long i = 0; i < n; ++i) {
        tcp::socket s(ex);
        co_await s.async_connect(ep, asio::deferred);
        bench::close_now(s);
    }
}

// nettrace::dial(ctx, ...) is dialer().dial(ctx, ...); a dialer is passed so
// the resolver variants share the loop.
asio::awaitable<void> dial_loop(const nettrace::dialer& d, nettrace::context ctx, std::string address, long n) {
    for (long i = 0; i < n; ++i) {
        tcp::socket s = co_await d.dial(ctx, "tcp", address);
        bench::close_now(s);
    }
}

struct config {
    std::set<int> cases{1, 2, 3, 4, 5, 6};
    int rounds = 0;  // 0: each case's default
    bool quick = false;
    bool default_hint = false;  // cases 1-3 on io_context() rather than io_context(1)
    int rounds_or(int dflt) const { return rounds > 0 ? rounds : quick ? 2 : dflt; }
    long dials(long dflt) const { return quick ? std::max(dflt / 20, 1L) : dflt; }
};

// A DNS server on loopback with its own thread, answering what the cases ask.
struct dns_fixture {
    asio::io_context ioc;
    nettrace::testing::fake_dns_server server{ioc.get_executor()};
    std::thread thread;

    dns_fixture() {
        using nettrace::testing::query_type;
        server.add("bench.test", query_type::a, {.addresses = {localhost}, .ttl = 3600, .negative_ttl = 3600});
        server.add("bench.test", query_type::aaaa, {.negative_ttl = 3600});  // NODATA, cached as such
        server.add("warm.test", query_type::a, {.addresses = {localhost}});
        server.add("warm.test", query_type::aaaa, {.addresses = {asio::ip::address_v6::loopback()}});
        server.add("coalesce.test", query_type::a, {.addresses = {localhost}});
        server.add("coalesce.test", query_type::aaaa, {.addresses = {asio::ip::address_v6::loopback()}});
        thread = std::thread([this] { ioc.run(); });
    }
    ~dns_fixture() {
        ioc.stop();
        thread.join();
    }

    std::shared_ptr<nettrace::resolver> resolver() const {
        nettrace::dns_resolver_options o;
        o.nameservers = {server.address()};
        o.use_hosts_file = false;
        o.negative_ttl = 3600s;  // the AAAA NODATA of bench.test stays cached for the whole run
        return nettrace::make_dns_resolver(o);
    }
};

// One thread runs the io_context, and the dialer is told so
// (dial_options::single_threaded): no per-dial strand, as before the option
// replaced the concurrency-hint test.
nettrace::dialer dialer_with(std::shared_ptr<nettrace::resolver> r, bool single_threaded = true) {
    nettrace::dial_options o;
    o.resolver = std::move(r);
    o.single_threaded = single_threaded;
    return nettrace::dialer(o);
}

// ---------------------------------------------------------------------------
// Cases 1-3: sequential dials, one io_context thread.

void sequential_cases(const config& cfg) {
    bench::sink_listener listener(localhost);
    const auto literal = endpoint_string(localhost, listener.port());
    const auto by_name = "bench.test:" + std::to_string(listener.port());
    // A round interleaves short blocks of every variant, so that the others'
    // load on this shared machine falls on all of them alike.
    const long block = 100;
    const int blocks = cfg.quick ? 4 : 20, rounds = cfg.rounds_or(21);
    const long n = block * blocks;  // dials per variant and round

    std::size_t hook_calls = 0;
    nettrace::client_trace all_hooks;
    all_hooks.dial_start = [&](const nettrace::dial_start_info&) { ++hook_calls; };
    all_hooks.dns_start = [&](const nettrace::dns_start_info&) { ++hook_calls; };
    all_hooks.dns_answer = [&](const nettrace::dns_answer_info&) { ++hook_calls; };
    all_hooks.dns_done = [&](const nettrace::dns_done_info&) { ++hook_calls; };
    all_hooks.connect_start = [&](const nettrace::connect_start_info&) { ++hook_calls; };
    all_hooks.connect_done = [&](const nettrace::connect_done_info&) { ++hook_calls; };
    all_hooks.dial_done = [&](const nettrace::dial_done_info&) { ++hook_calls; };
    const auto traced = nettrace::with_client_trace({}, all_hooks);
    const auto trace_off = nettrace::with_client_trace({}, nettrace::client_trace{});

    std::optional<dns_fixture> dns;
    if (nettrace::dns_resolver_available()) dns.emplace();
    const bool one = !cfg.default_hint;
    const nettrace::dialer plain = dialer_with(nullptr, one),
                           by_static = dialer_with(nettrace::make_static_resolver({{"bench.test", {localhost}}}), one);
    const nettrace::dialer by_dns = dns ? dialer_with(dns->resolver(), one) : plain;

    struct variant {
        const char* name;
        std::function<asio::awaitable<void>(long)> loop;
        std::vector<double> us{};      // per dial, one entry per round
        std::vector<double> cpu_us{};  // the same in CPU time of the dialing thread
        double allocs = 0;             // per dial, last round
    };
    std::vector<variant> v;
    v.push_back({"raw Asio `async_connect`", [&](long k) { return raw_loop(listener.endpoint(), k); }});
    v.push_back({"`nettrace::dial`, literal, no trace", [&](long k) { return dial_loop(plain, {}, literal, k); }});
    v.push_back({"literal, tracing off (empty `client_trace`)",
                 [&](long k) { return dial_loop(plain, trace_off, literal, k); }});
    v.push_back({"literal, tracing on (all 7 hooks)", [&](long k) { return dial_loop(plain, traced, literal, k); }});
    v.push_back({"by name, static resolver", [&](long k) { return dial_loop(by_static, {}, by_name, k); }});
    if (dns) v.push_back({"by name, c-ares, warm cache", [&](long k) { return dial_loop(by_dns, {}, by_name, k); }});

    // One thread runs it, and says so (concurrency hint 1), as Beast's
    // examples do: Asio then drops its locks, and nettrace its per-dial strand.
    asio::io_context ioc(cfg.default_hint ? BOOST_ASIO_CONCURRENCY_HINT_DEFAULT : 1);
    for (auto& x : v) run(ioc, x.loop(200));  // warm up: services, caches, the DNS answer
    for (int r = 0; r < rounds; ++r) {
        std::vector<double> seconds(v.size()), cpu(v.size());
        std::vector<std::uint64_t> allocs(v.size());
        for (int b = 0; b < blocks; ++b) {
            for (std::size_t j = 0; j < v.size(); ++j) {
                const auto i = (j + b + r) % v.size();  // rotating, so no variant always follows the same one
                const auto a0 = bench::allocations();
                const auto t0 = steady::now();
                const auto c0 = thread_cpu_seconds();
                run(ioc, v[i].loop(block));
                seconds[i] += seconds_since(t0);
                cpu[i] += thread_cpu_seconds() - c0;
                allocs[i] += bench::allocations() - a0;
            }
        }
        for (std::size_t i = 0; i < v.size(); ++i) {
            v[i].us.push_back(seconds[i] * 1e6 / n);
            v[i].cpu_us.push_back(cpu[i] * 1e6 / n);
            v[i].allocs = double(allocs[i]) / n;
        }
    }

    // Wall time is what a caller waits; CPU time (of the dialing thread,
    // kernel included) is what the dial costs, without the waits for the
    // listener's thread that this shared machine stretches now and then.
    auto ratio = [&](std::size_t a, std::size_t b, bool cpu = false) {
        std::vector<double> r;
        for (int i = 0; i < rounds; ++i) r.push_back(cpu ? v[a].cpu_us[i] / v[b].cpu_us[i] : v[a].us[i] / v[b].us[i]);
        return bench::summarize(r);
    };
    std::printf(
        "\n### Cases 1-3: sequential dials, one thread, `io_context(%s)` (%d rounds of %ld dials per variant, "
        "interleaved in blocks of %ld)\n\n",
        cfg.default_hint ? "" : "1", rounds, n, block);
    std::printf(
        "| case | dial | wall µs/dial | CPU µs/dial | baseline | wall ratio | CPU ratio | wall ratio to raw "
        "Asio | allocs/dial |\n|---|---|---|---|---|---|---|---|---|\n");
    const int cases[] = {1, 1, 2, 2, 3, 3};
    const std::size_t base[] = {0, 0, 1, 2, 1, 1};
    for (std::size_t i = 0; i < v.size(); ++i) {
        const bool b = i != 0;
        std::printf("| %d | %s | %s | %s | %s | %s | %s | %s | %.1f |\n", cases[i], v[i].name,
                    show(bench::summarize(v[i].us)).c_str(), show(bench::summarize(v[i].cpu_us)).c_str(),
                    b ? v[base[i]].name : "—", b ? show(ratio(i, base[i]), 3).c_str() : "—",
                    b ? show(ratio(i, base[i], true), 3).c_str() : "—", b ? show(ratio(i, 0), 3).c_str() : "—",
                    v[i].allocs);
    }
    std::printf("\nMedians [min, max] over the rounds; ratios are per round.\n");
    std::printf("\nTrace hooks called: %zu. Listener accepted %llu connections.\n", hook_calls,
                static_cast<unsigned long long>(listener.accepted()));
}

// ---------------------------------------------------------------------------
// Case 4: throughput at 1 to 10,000 dials in flight, and memory per dial in flight.

double throughput(bool use_nettrace, const tcp::endpoint& ep, int concurrency, int threads, long dials) {
    // The concurrency hint says how many threads run it: with 1, nettrace
    // needs no strand per dial; with 2, every dial has one.
    asio::io_context ioc(threads);
    const nettrace::dialer d = dialer_with(nullptr, threads == 1);
    const auto address = endpoint_string(ep.address(), ep.port());
    std::atomic<long> budget{dials};
    std::atomic<int> failures{0};
    for (int i = 0; i < concurrency; ++i) {
        auto done = [&](std::exception_ptr e) {
            if (e) ++failures;
        };
        if (use_nettrace)
            asio::co_spawn(ioc, bench::dial_worker(d, address, budget), done);
        else
            asio::co_spawn(ioc, bench::raw_worker(ep, budget), done);
    }
    const auto t0 = steady::now();
    std::vector<std::thread> extra;
    for (int t = 1; t < threads; ++t) extra.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : extra) t.join();
    const double s = seconds_since(t0);
    if (failures) throw std::runtime_error(std::to_string(failures.load()) + " dials failed");
    return double(dials) / s;
}

struct memory_use {
    double rss = 0, heap = 0;  // bytes per dial in flight
};

// Dials a black hole `n` times at once: every connect stays in SYN_SENT, so
// exactly `n` dials are in flight when the io_context has nothing left to
// run. Destroying the io_context then abandons them all and closes their
// sockets.
memory_use in_flight_memory(bool use_nettrace, const tcp::endpoint& hole, const tcp::endpoint& live, int n) {
    asio::io_context ioc(1);  // one thread
    const nettrace::dialer d = dialer_with(nullptr);
    const auto hole_address = endpoint_string(hole.address(), hole.port());
    const auto live_address = endpoint_string(live.address(), live.port());
    // One completed dial first, so per-io_context services (strands, the
    // reactor) are not charged to the dials.
    run(ioc, use_nettrace ? dial_loop(d, {}, live_address, 1) : raw_loop(live, 1));
    ioc.restart();
    bench::trim_heap();
    const auto rss0 = bench::rss_bytes();
    const auto heap0 = bench::heap_bytes();
    const auto fds0 = open_fd_count();
    for (int i = 0; i < n; ++i) {
        if (use_nettrace)
            asio::co_spawn(ioc, dial_loop(d, {}, hole_address, 1), asio::detached);
        else
            asio::co_spawn(ioc, raw_loop(hole, 1), asio::detached);
    }
    while (ioc.poll() > 0) {}
    const memory_use m{double(bench::rss_bytes() - rss0) / n, double(bench::heap_bytes() - heap0) / n};
    if (open_fd_count() - fds0 != std::size_t(n)) throw std::runtime_error("not every dial is in flight");
    return m;
}

void concurrency_case(const config& cfg) {
    bench::sink_listener listener(localhost, 0, 3);  // 3 x 4096 queued handshakes > 10,000 dials
    nettrace::testing::black_hole hole(localhost);
    const tcp::endpoint ep = listener.endpoint(), hole_ep(localhost, hole.port());
    const int rounds = cfg.rounds_or(7);
    std::printf(
        "\n### Case 4: dials in flight (%d rounds; raw Asio and nettrace alternate; `io_context(threads)`: "
        "with 2 threads every dial has a strand)\n\n",
        rounds);
    std::printf(
        "| in flight | threads | dials | raw Asio dials/s | nettrace dials/s | ratio median [min, max] | "
        "listen overflows |\n|---|---|---|---|---|---|---|\n");
    for (int concurrency : {1, 64, 1024, 10000}) {
        for (int threads : {1, 2}) {
            const long dials = cfg.dials(concurrency == 1 ? 4000 : concurrency < 10000 ? 10000 : 20000);
            std::vector<double> raw, nt, ratio;
            const auto overflows0 = bench::listen_overflows();
            for (int r = 0; r < rounds; ++r) {
                const bool nettrace_first = r % 2;
                double a = throughput(nettrace_first, ep, concurrency, threads, dials);
                double b = throughput(!nettrace_first, ep, concurrency, threads, dials);
                if (nettrace_first) std::swap(a, b);
                raw.push_back(a);
                nt.push_back(b);
                ratio.push_back(b / a);
            }
            std::printf("| %d | %d | %ld | %s | %s | %s | %llu |\n", concurrency, threads, dials,
                        show(bench::summarize(raw), 0).c_str(), show(bench::summarize(nt), 0).c_str(),
                        show(bench::summarize(ratio), 3).c_str(),
                        static_cast<unsigned long long>(bench::listen_overflows() - overflows0));
            std::fflush(stdout);
        }
    }

    const int mem_rounds = cfg.quick ? 1 : 3;
    std::printf(
        "\n### Case 4: memory per dial in flight (dials held in SYN_SENT by a black hole, one thread, "
        "`io_context(1)`; %d rounds)\n\n",
        mem_rounds);
    std::printf(
        "| in flight | raw Asio RSS B/dial | nettrace RSS B/dial | ratio | raw Asio heap B/dial | "
        "nettrace heap B/dial | ratio |\n|---|---|---|---|---|---|---|\n");
    for (int concurrency : {1, 64, 1024, 10000}) {
        std::vector<double> raw_rss, nt_rss, raw_heap, nt_heap;
        for (int r = 0; r < mem_rounds; ++r) {
            const auto a = in_flight_memory(false, hole_ep, ep, concurrency);
            const auto b = in_flight_memory(true, hole_ep, ep, concurrency);
            raw_rss.push_back(a.rss), nt_rss.push_back(b.rss), raw_heap.push_back(a.heap), nt_heap.push_back(b.heap);
        }
        const auto rr = bench::summarize(raw_rss).median, nr = bench::summarize(nt_rss).median;
        const auto rh = bench::summarize(raw_heap).median, nh = bench::summarize(nt_heap).median;
        char rss_ratio[32] = "—";  // a few dials may fit in pages already resident
        if (rr > 0) std::snprintf(rss_ratio, sizeof rss_ratio, "%.2f", nr / rr);
        char heap_ratio[32] = "—";
        if (rh > 0) std::snprintf(heap_ratio, sizeof heap_ratio, "%.2f", nh / rh);
        std::printf("| %d | %.0f | %.0f | %s | %.0f | %.0f | %s |\n", concurrency, rr, nr, rss_ratio, rh, nh,
                    heap_ratio);
    }
}

// ---------------------------------------------------------------------------
// Case 5: a black-holed first address and a live second one.

void race_case(const config& cfg) {
    // The name's two addresses share the port: the live listener picks it,
    // the black hole takes the same port on 127.0.0.2.
    const auto hole_addr = asio::ip::make_address("127.0.0.2");
    std::optional<bench::sink_listener> listener;
    std::optional<nettrace::testing::black_hole> hole;
    for (int tries = 0; !hole && tries < 20; ++tries) try {
            listener.emplace(localhost);
            hole.emplace(hole_addr, listener->port());
        } catch (const std::exception&) {
            listener.reset();
        }
    if (!hole) throw std::runtime_error("no port free on both 127.0.0.1 and 127.0.0.2");
    const int n = cfg.quick ? 100 : 1000, rounds = cfg.rounds_or(5);
    nettrace::dial_options o;
    o.resolver = nettrace::make_static_resolver({{"race.test", {hole_addr, localhost}}});
    const nettrace::dialer d(o);
    const auto address = "race.test:" + std::to_string(listener->port());
    const double delay_ms = double(d.options().attempt_delay.count());

    std::vector<double> nt_ms, raw_ms;
    std::size_t connected = 0, fds_before = 0, fds_after = 0, fds_during = 0;
    asio::io_context ioc;
    run(ioc, dial_loop(d, {}, endpoint_string(localhost, listener->port()), 1));  // warm up
    for (int r = 0; r < rounds; ++r) {
        fds_before = open_fd_count();
        std::vector<tcp::socket> won;
        for (int i = 0; i < n; ++i)
            asio::co_spawn(
                ioc,
                [&]() -> asio::awaitable<void> {
                    const auto t0 = steady::now();
                    won.push_back(co_await d.dial({}, "tcp", address));
                    nt_ms.push_back(seconds_since(t0) * 1e3);
                },
                asio::detached);
        ioc.restart();
        ioc.run();
        connected += won.size();
        fds_during = open_fd_count();  // the winners, still open
        for (auto& s : won) bench::close_now(s);
        fds_after = open_fd_count();
        // Baseline: raw Asio straight to the live address, as many at once.
        for (int i = 0; i < n; ++i)
            asio::co_spawn(
                ioc,
                [&]() -> asio::awaitable<void> {
                    const auto t0 = steady::now();
                    co_await raw_loop(listener->endpoint(), 1);
                    raw_ms.push_back(seconds_since(t0) * 1e3);
                },
                asio::detached);
        ioc.restart();
        ioc.run();
    }
    const auto nt = bench::summarize(nt_ms), raw = bench::summarize(raw_ms);
    std::printf("\n### Case 5: black-holed first address, live second (%d dials at once, %d rounds)\n\n", n, rounds);
    std::printf(
        "| dial | connected | ms/dial median [min, max] | ratio to attempt delay (%.0f ms) | fds before / "
        "with winners open / after closing |\n|---|---|---|---|---|\n",
        delay_ms);
    std::printf(
        "| nettrace, `race.test` = {127.0.0.2 black hole, 127.0.0.1} | %zu / %d | %s | %.3f | %zu / %zu / %zu |\n",
        connected, n * rounds, show(nt).c_str(), nt.median / delay_ms, fds_before, fds_during, fds_after);
    std::printf("| baseline: raw Asio to 127.0.0.1 only | %zu / %d | %s | — | — |\n", raw_ms.size(), n * rounds,
                show(raw).c_str());
}

// ---------------------------------------------------------------------------
// Case 6: 10,000 concurrent lookups of one name, coalesced.

void coalescing_case(const config& cfg) {
    if (!nettrace::dns_resolver_available()) {
        std::printf("\n### Case 6: skipped (nettrace built without c-ares)\n");
        return;
    }
    dns_fixture dns;
    const int n = cfg.quick ? 1000 : 10000, rounds = cfg.rounds_or(5);
    std::vector<double> single_ms, burst_ms, ratio;
    std::vector<double> single_q, burst_q;
    asio::io_context ioc;
    // A fresh resolver each time, so the name is never cached; one lookup
    // of another name first creates its c-ares channel on this io_context.
    auto fresh = [&] {
        auto d = dialer_with(dns.resolver());
        run(ioc, [&]() -> asio::awaitable<void> { co_await d.resolve({}, "warm.test"); }());
        return d;
    };
    auto measure = [&](int count, std::vector<double>& ms, std::vector<double>& queries) {
        const auto d = fresh();
        const auto q0 = dns.server.total_queries();
        const auto t0 = steady::now();
        int resolved = 0;
        for (int i = 0; i < count; ++i)
            asio::co_spawn(
                ioc,
                [&]() -> asio::awaitable<void> {
                    auto addrs = co_await d.resolve({}, "coalesce.test");
                    if (addrs.size() == 2) ++resolved;
                },
                asio::detached);
        ioc.restart();
        while (resolved < count) ioc.run_one();
        ms.push_back(seconds_since(t0) * 1e3);
        queries.push_back(double(dns.server.total_queries() - q0));
    };
    for (int r = 0; r < rounds; ++r) {
        measure(1, single_ms, single_q);
        measure(n, burst_ms, burst_q);
        ratio.push_back(burst_ms.back() / single_ms.back());
    }
    std::printf("\n### Case 6: %d concurrent resolves of one name, loopback DNS server (%d rounds)\n\n", n, rounds);
    std::printf(
        "| resolves at once | DNS queries sent median [min, max] | ms to finish median [min, max] | "
        "ratio to one resolve |\n|---|---|---|---|\n");
    std::printf("| 1 | %s | %s | — |\n", show(bench::summarize(single_q), 0).c_str(),
                show(bench::summarize(single_ms)).c_str());
    std::printf("| %d | %s | %s | %s |\n", n, show(bench::summarize(burst_q), 0).c_str(),
                show(bench::summarize(burst_ms)).c_str(), show(bench::summarize(ratio), 1).c_str());
}

// ---------------------------------------------------------------------------
// Helpers for benchmarks/go/compare.sh.

int serve() {
    bench::sink_listener listener(localhost);
    std::printf("%u\n", listener.port());
    std::fflush(stdout);
    char buf[64];
    while (::read(0, buf, sizeof buf) > 0) {  // until the script closes our stdin
    }
    return 0;
}

int dial_loop_rate(const std::string& kind, unsigned short port, long n) {
    asio::io_context ioc(1);  // one thread, as in cases 1-3
    const nettrace::dialer d = dialer_with(nullptr);
    const tcp::endpoint ep(localhost, port);
    run(ioc, kind == "raw" ? raw_loop(ep, 200) : dial_loop(d, {}, endpoint_string(localhost, port), 200));
    const auto t0 = steady::now();
    run(ioc, kind == "raw" ? raw_loop(ep, n) : dial_loop(d, {}, endpoint_string(localhost, port), n));
    std::printf("%.0f\n", double(n) / seconds_since(t0));
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    // Bounded by construction, and by this watchdog should the kernel drop
    // something a loop waits for.
    ::alarm(290);
    std::signal(SIGPIPE, SIG_IGN);
    const auto fd_limit = bench::raise_fd_limit();

    config cfg;
    std::string loop;
    unsigned short port = 0;
    long dials = 20000;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](const char* flag) { return a.substr(std::strlen(flag)); };
        if (a == "--serve") return serve();
        if (a == "--quick")
            cfg.quick = true;
        else if (a == "--default-hint")
            cfg.default_hint = true;
        else if (a.starts_with("--rounds="))
            cfg.rounds = std::stoi(value("--rounds="));
        else if (a.starts_with("--loop="))
            loop = value("--loop=");
        else if (a.starts_with("--port="))
            port = static_cast<unsigned short>(std::stoi(value("--port=")));
        else if (a.starts_with("--dials="))
            dials = std::stol(value("--dials="));
        else if (a.starts_with("--cases=")) {
            cfg.cases.clear();
            for (char c : value("--cases="))
                if (c >= '1' && c <= '6') cfg.cases.insert(c - '0');
        } else {
            std::fprintf(stderr,
                         "usage: %s [--cases=1,2,3,4,5,6] [--rounds=N] [--quick] [--default-hint] | --serve | "
                         "--loop=nettrace|raw --port=P --dials=N\n",
                         argv[0]);
            return 2;
        }
    }
    if (!loop.empty()) return dial_loop_rate(loop, port, std::min(dials, 1000000L));

    // 10,000 dials in flight hold 10,000 fds here; the listener closes what
    // it accepts at once, so it holds none.
    if (fd_limit < 10500 && cfg.cases.contains(4))
        throw std::runtime_error("RLIMIT_NOFILE hard limit " + std::to_string(fd_limit) + " < 10500");
    const std::time_t now = std::time(nullptr);
    std::printf("nettrace-bench, %s", std::ctime(&now));
    std::printf("fd limit %zu; %u hardware threads\n", fd_limit, std::thread::hardware_concurrency());
    std::fflush(stdout);
    if (cfg.cases.contains(1) || cfg.cases.contains(2) || cfg.cases.contains(3)) sequential_cases(cfg);
    std::fflush(stdout);
    if (cfg.cases.contains(4)) concurrency_case(cfg);
    std::fflush(stdout);
    if (cfg.cases.contains(5)) race_case(cfg);
    std::fflush(stdout);
    if (cfg.cases.contains(6)) coalescing_case(cfg);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "nettrace-bench: %s\n", e.what());
    return 1;
}
