// scale-bench: 100,000 dials in flight on one io_context thread, nettrace
// against raw Asio at the same concurrency, in one process (the two
// alternate round after round, the order rotating). Loopback only.
//
//   scale-bench [--in-flight=100000[,N...]] [--rounds=N] [--dials-per-worker=K]
//               [--addresses=A] [--ports=P] [--quick]
//
// One destination address and port give a client about 28,000 ephemeral
// ports (net.ipv4.ip_local_port_range), so the dials are spread over A
// loopback addresses (127.0.0.1 ..) times P listener ports: 50 x 2 = 100
// destinations by default, each with an accept queue of 4096 (somaxconn),
// served by one epoll thread that accepts and closes (spread.hpp).
//
// Throughput: `in flight` coroutines each dial one destination (worker i:
// destination i mod A*P) over and over until a shared budget of K*N dials
// is spent, closing each connection with an RST (no TIME_WAIT).
// Memory: N dials at once to as many black holes (A x P of them), all held
// in SYN_SENT; RSS and heap (mallinfo2: bytes malloc has handed out and not
// got back) grow by so much per dial in flight, and the counting allocator
// (alloc_counter.cpp) says how many allocations each dial in flight holds.
#include <nettrace/nettrace.hpp>

#include "loopback.hpp"
#include "spread.hpp"
#include "support.hpp"
#include "workers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace bench = nettrace::bench;
using nettrace::bench::seconds_since;
using nettrace::bench::show;
using nettrace::testing::open_fd_count;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

std::string text(const tcp::endpoint& e) { return e.address().to_string() + ":" + std::to_string(e.port()); }

asio::awaitable<void> raw_once(tcp::endpoint ep) {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await s.async_connect(ep, asio::deferred);
    bench::close_now(s);
}

asio::awaitable<void> dial_once(const nettrace::dialer& d, const std::string& address) {
    const nettrace::context none;
    tcp::socket s = co_await d.dial(none, "tcp", address);
    bench::close_now(s);
}

// One thread runs the io_context and the dialer is told so.
nettrace::dialer single_threaded_dialer() {
    nettrace::dial_options o;
    o.single_threaded = true;
    return nettrace::dialer(o);
}

struct run_result {
    double rate = 0;
    std::uint64_t overflows = 0;
};

run_result throughput(bool use_nettrace, const bench::sink_set& sinks, const std::vector<std::string>& addresses,
                      int in_flight, long dials) {
    asio::io_context ioc(1);
    const nettrace::dialer d = single_threaded_dialer();
    const auto& eps = sinks.endpoints();
    std::atomic<long> budget{dials};
    long failures = 0;
    const auto overflows0 = bench::listen_overflows();
    for (int i = 0; i < in_flight; ++i) {
        const std::size_t k = std::size_t(i) % eps.size();
        auto done = [&](std::exception_ptr e) {
            if (e) ++failures;
        };
        if (use_nettrace)
            asio::co_spawn(ioc, bench::dial_worker(d, addresses[k], budget), done);
        else
            asio::co_spawn(ioc, bench::raw_worker(eps[k], budget), done);
    }
    const auto t0 = steady::now();
    ioc.run();
    const double s = seconds_since(t0);
    if (failures) throw std::runtime_error(std::to_string(failures) + " workers failed");
    return {double(dials) / s, bench::listen_overflows() - overflows0};
}

struct memory_use {
    double rss = 0, heap = 0, allocs = 0;  // per dial in flight
};

memory_use in_flight_memory(bool use_nettrace, const bench::hole_set& holes, const std::vector<std::string>& hole_text,
                            const tcp::endpoint& live, int n) {
    asio::io_context ioc(1);
    const nettrace::dialer d = single_threaded_dialer();
    const std::string live_text = text(live);
    // One completed dial first, so per-io_context services (the reactor)
    // are not charged to the dials.
    asio::co_spawn(ioc, use_nettrace ? dial_once(d, live_text) : raw_once(live), asio::detached);
    ioc.run();
    ioc.restart();
    bench::trim_heap();
    const auto rss0 = bench::rss_bytes();
    const auto heap0 = bench::heap_bytes();
    const auto allocs0 = bench::allocations();
    const auto fds0 = open_fd_count();
    const auto& eps = holes.endpoints();
    for (int i = 0; i < n; ++i) {
        const std::size_t k = std::size_t(i) % eps.size();
        if (use_nettrace)
            asio::co_spawn(ioc, dial_once(d, hole_text[k]), asio::detached);
        else
            asio::co_spawn(ioc, raw_once(eps[k]), asio::detached);
    }
    while (ioc.poll() > 0) {}
    const memory_use m{double(bench::rss_bytes() - rss0) / n, double(bench::heap_bytes() - heap0) / n,
                       double(bench::allocations() - allocs0) / n};
    const auto held = open_fd_count() - fds0;
    if (held != std::size_t(n))
        throw std::runtime_error(std::to_string(held) + " descriptors held, not " + std::to_string(n) +
                                 ": not every dial is in flight");
    return m;  // destroying the io_context abandons the dials and closes their sockets
}

}  // namespace

int main(int argc, char** argv) try {
    ::alarm(1500);  // a watchdog, should the kernel drop something a run waits for
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<int> in_flight{100000};
    int rounds = 7, mem_rounds = 3, addresses = 50, ports = 2;
    long per_worker = 4;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](const char* flag) { return a.substr(std::strlen(flag)); };
        if (a.starts_with("--in-flight=")) {
            in_flight.clear();
            std::string v = value("--in-flight=");
            for (std::size_t pos = 0; pos < v.size();) {
                const auto comma = v.find(',', pos);
                in_flight.push_back(std::stoi(v.substr(pos, comma - pos)));
                pos = comma == std::string::npos ? v.size() : comma + 1;
            }
        } else if (a.starts_with("--rounds="))
            rounds = std::stoi(value("--rounds="));
        else if (a.starts_with("--dials-per-worker="))
            per_worker = std::stol(value("--dials-per-worker="));
        else if (a.starts_with("--addresses="))
            addresses = std::stoi(value("--addresses="));
        else if (a.starts_with("--ports="))
            ports = std::stoi(value("--ports="));
        else if (a == "--quick") {
            in_flight = {2000};
            rounds = 2;
            mem_rounds = 1;
        } else {
            std::fprintf(stderr,
                         "usage: %s [--in-flight=100000[,N...]] [--rounds=N] [--dials-per-worker=K] "
                         "[--addresses=A] [--ports=P] [--quick]\n",
                         argv[0]);
            return 2;
        }
    }
    int most = 0;
    for (int n : in_flight) most = std::max(most, n);
    // Each dial in flight holds one descriptor; the listeners hold A*P, the
    // black holes 2*A*P; the sinks close what they accept at once.
    const std::size_t fixed = 3 * std::size_t(addresses) * ports + 500;
    const auto limit = bench::raise_fd_limit_to(std::size_t(most) + fixed);
    // Where the hard limit cannot be raised (no CAP_SYS_RESOURCE), run at the
    // most dials in flight that fit, and say so.
    std::string clamped;
    if (limit < std::size_t(most) + fixed) {
        const int fit = limit > fixed + 1000 ? int((limit - fixed) / 1000 * 1000) : 0;
        if (fit < 1000) throw std::runtime_error("RLIMIT_NOFILE " + std::to_string(limit) + " is too low");
        for (int& n : in_flight)
            if (n > fit) {
                clamped += (clamped.empty() ? "" : ", ") + std::to_string(n) + " -> " + std::to_string(fit);
                n = fit;
            }
    }

    const auto addrs = bench::loopback_addresses(addresses);
    const bench::sink_set sinks(addrs, ports);
    const bench::hole_set holes(addrs, ports);
    std::vector<std::string> sink_text, hole_text;
    for (const auto& e : sinks.endpoints()) sink_text.push_back(text(e));
    for (const auto& e : holes.endpoints()) hole_text.push_back(text(e));

    const std::time_t now = std::time(nullptr);
    std::printf("scale-bench, %s", std::ctime(&now));
    std::printf("%s", bench::describe_limits().c_str());
    std::printf("- destinations: %d addresses (127.0.0.1 ..) x %d ports = %zu sink listeners, as many black holes\n",
                addresses, ports, sinks.endpoints().size());
    if (!clamped.empty())
        std::printf(
            "- NOT AT THE ASKED CONCURRENCY: RLIMIT_NOFILE %zu cannot hold it (the hard limit cannot be raised "
            "here), so dials in flight %s\n",
            limit, clamped.c_str());
    std::fflush(stdout);

    std::printf(
        "\n### Dials in flight on one thread, `io_context(1)`, `single_threaded` (%d rounds; raw Asio and "
        "nettrace alternate, the order rotating)\n\n",
        rounds);
    std::printf(
        "| in flight | dials per run | raw Asio dials/s | nettrace dials/s | ratio median [min, max] | listen "
        "overflows |\n|---|---|---|---|---|---|\n");
    for (int n : in_flight) {
        const long dials = per_worker * n;
        // Warm-up at this concurrency, both.
        throughput(false, sinks, sink_text, n, n);
        throughput(true, sinks, sink_text, n, n);
        std::vector<double> raw, nt, ratio;
        std::uint64_t overflows = 0;
        for (int r = 0; r < rounds; ++r) {
            const bool nettrace_first = r % 2;
            auto a = throughput(nettrace_first, sinks, sink_text, n, dials);
            auto b = throughput(!nettrace_first, sinks, sink_text, n, dials);
            if (nettrace_first) std::swap(a, b);
            raw.push_back(a.rate);
            nt.push_back(b.rate);
            ratio.push_back(b.rate / a.rate);
            overflows += a.overflows + b.overflows;
        }
        std::printf("| %d | %ld | %s | %s | %s | %llu |\n", n, dials, show(bench::summarize(raw), 0).c_str(),
                    show(bench::summarize(nt), 0).c_str(), show(bench::summarize(ratio), 3).c_str(),
                    static_cast<unsigned long long>(overflows));
        std::fflush(stdout);
    }

    std::printf(
        "\n### Memory per dial in flight (held in SYN_SENT by %zu black holes, one thread, `io_context(1)`; "
        "%d rounds, medians)\n\n",
        holes.endpoints().size(), mem_rounds);
    std::printf(
        "| in flight | raw Asio RSS B/dial | nettrace RSS B/dial | ratio | raw Asio heap B/dial | nettrace heap "
        "B/dial | ratio | allocations per dial in flight, raw / nettrace |\n|---|---|---|---|---|---|---|---|\n");
    for (int n : in_flight) {
        std::vector<double> raw_rss, nt_rss, raw_heap, nt_heap, raw_allocs, nt_allocs, heap_ratio;
        for (int r = 0; r < mem_rounds; ++r) {
            const bool nettrace_first = r % 2;
            auto a = in_flight_memory(nettrace_first, holes, hole_text, sinks.endpoints().front(), n);
            auto b = in_flight_memory(!nettrace_first, holes, hole_text, sinks.endpoints().front(), n);
            if (nettrace_first) std::swap(a, b);
            raw_rss.push_back(a.rss), nt_rss.push_back(b.rss), raw_heap.push_back(a.heap), nt_heap.push_back(b.heap);
            raw_allocs.push_back(a.allocs), nt_allocs.push_back(b.allocs);
            heap_ratio.push_back(b.heap / a.heap);
        }
        const auto rr = bench::summarize(raw_rss).median, nr = bench::summarize(nt_rss).median;
        char rss_ratio[32] = "—";
        if (rr > 0) std::snprintf(rss_ratio, sizeof rss_ratio, "%.2f", nr / rr);
        std::printf("| %d | %.0f | %.0f | %s | %.0f | %.0f | %s | %.2f / %.2f |\n", n, rr, nr, rss_ratio,
                    bench::summarize(raw_heap).median, bench::summarize(nt_heap).median,
                    show(bench::summarize(heap_ratio), 2).c_str(), bench::summarize(raw_allocs).median,
                    bench::summarize(nt_allocs).median);
        std::fflush(stdout);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "scale-bench: %s\n", e.what());
    return 1;
}
