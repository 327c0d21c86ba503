// soak-bench: 1,000,000 sequential traced dials with a connection_history,
// in one process, on loopback; RSS, heap and open descriptors sampled every
// 100,000 dials. What a long-lived process dialing the same upstreams sees:
// nothing may grow with the number of dials (the history is bounded).
//
//   soak-bench [--dials=N] [--every=M] [--addresses=A] [--ports=P]
//              [--capacity=C] [--trace=hooks|record]
//
// The dials go round-robin over A x P literal endpoints (127.0.0.1 .. x P
// listener ports; 50 x 100 = 5,000 by default, sink listeners that accept
// and close, spread.hpp), more than the history's default capacity (4,096):
// the LRU is full after the first 4,096 dials and evicts on every dial from
// then on, the worst case for its bound. Each dial is traced: every hook of
// client_trace set (--trace=hooks, counting the calls), or with_recording
// into one dial_record that each dial_start clears (--trace=record).
// Connections are closed with an RST (no TIME_WAIT). io_context(1),
// dial_options::single_threaded.
//
// Heap is malloc's own count of bytes handed out and not got back
// (mallinfo2), which sees every allocation of the process, operator new's,
// Asio's aligned_alloc and C code's; the counting allocator gives the
// allocations per dial. Descriptors are sampled once the sinks have accepted
// (and closed) every connection made, so none of theirs is in flight.
#include <nettrace/nettrace.hpp>

#include "loopback.hpp"
#include "spread.hpp"
#include "support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
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
using nettrace::bench::run;
using nettrace::bench::seconds_since;
using nettrace::testing::open_fd_count;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

asio::awaitable<void> dial_range(const nettrace::dialer& d, const nettrace::context& ctx,
                                 const std::vector<std::string>& targets, long from, long to) {
    for (long i = from; i < to; ++i) {
        tcp::socket s = co_await d.dial(ctx, "tcp", targets[std::size_t(i) % targets.size()]);
        bench::close_now(s);
    }
}

struct sample {
    long dials = 0;
    double seconds = 0, rate = 0;  // rate: dials/s over the chunk just done
    std::size_t rss = 0, heap = 0, fds = 0, history = 0;
    double allocs_per_dial = 0;
};

}  // namespace

int main(int argc, char** argv) try {
    ::alarm(1500);
    std::signal(SIGPIPE, SIG_IGN);
    long dials = 1000000, every = 100000;
    int addresses = 50, ports = 100;
    std::size_t capacity = nettrace::history_options{}.capacity;
    std::string trace = "hooks";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](const char* flag) { return a.substr(std::strlen(flag)); };
        if (a.starts_with("--dials="))
            dials = std::stol(value("--dials="));
        else if (a.starts_with("--every="))
            every = std::stol(value("--every="));
        else if (a.starts_with("--addresses="))
            addresses = std::stoi(value("--addresses="));
        else if (a.starts_with("--ports="))
            ports = std::stoi(value("--ports="));
        else if (a.starts_with("--capacity="))
            capacity = std::stoul(value("--capacity="));
        else if (a.starts_with("--trace="))
            trace = value("--trace=");
        else {
            std::fprintf(stderr,
                         "usage: %s [--dials=N] [--every=M] [--addresses=A] [--ports=P] [--capacity=C] "
                         "[--trace=hooks|record]\n",
                         argv[0]);
            return 2;
        }
    }
    if (trace != "hooks" && trace != "record") throw std::invalid_argument("--trace=hooks|record");
    if (every < 1 || dials < every) throw std::invalid_argument("--every must be in [1, dials]");
    const std::size_t want = std::size_t(addresses) * ports + 1000;  // the listeners, and a few dials' worth
    if (bench::raise_fd_limit_to(want) < want) throw std::runtime_error("RLIMIT_NOFILE too low for the listeners");

    const bench::sink_set sinks(bench::loopback_addresses(addresses), ports);
    std::vector<std::string> targets;
    for (const auto& e : sinks.endpoints()) targets.push_back(e.address().to_string() + ":" + std::to_string(e.port()));

    nettrace::history_options ho;
    ho.capacity = capacity;
    const auto history = std::make_shared<nettrace::connection_history>(ho);
    nettrace::dial_options o;
    o.single_threaded = true;
    o.history = history;
    const nettrace::dialer d(o);

    std::uint64_t calls[7] = {};
    nettrace::client_trace hooks;
    hooks.dial_start = [&](const nettrace::dial_start_info&) { ++calls[0]; };
    hooks.dns_start = [&](const nettrace::dns_start_info&) { ++calls[1]; };
    hooks.dns_answer = [&](const nettrace::dns_answer_info&) { ++calls[1]; };
    hooks.dns_done = [&](const nettrace::dns_done_info&) { ++calls[1]; };
    hooks.connect_start = [&](const nettrace::connect_start_info&) { ++calls[2]; };
    hooks.connect_done = [&](const nettrace::connect_done_info&) { ++calls[3]; };
    hooks.dial_done = [&](const nettrace::dial_done_info&) { ++calls[4]; };
    hooks.tls_handshake_start = [&](const nettrace::tls_handshake_start_info&) { ++calls[5]; };
    hooks.tls_handshake_done = [&](const nettrace::tls_handshake_done_info&) { ++calls[5]; };
    hooks.proxy_connect_start = [&](const nettrace::proxy_connect_start_info&) { ++calls[6]; };
    hooks.proxy_connect_done = [&](const nettrace::proxy_connect_done_info&) { ++calls[6]; };
    nettrace::dial_record record;  // with --trace=record: holds the latest dial only
    const nettrace::context ctx =
        trace == "hooks" ? nettrace::with_client_trace({}, hooks) : nettrace::with_recording({}, record);

    const std::time_t now = std::time(nullptr);
    std::printf("soak-bench, %s", std::ctime(&now));
    std::printf("%s", bench::describe_limits().c_str());
    std::printf(
        "- %ld sequential dials round-robin over %zu endpoints (%d addresses x %d ports), trace: %s, history "
        "capacity %zu, ttl %lld s\n",
        dials, targets.size(), addresses, ports, trace == "hooks" ? "all 11 client_trace hooks" : "with_recording",
        capacity, static_cast<long long>(ho.ttl.count()));
    std::fflush(stdout);

    asio::io_context ioc(1);
    std::vector<sample> samples;
    auto take = [&](long done, double seconds, double chunk_seconds, std::uint64_t chunk_allocs, long chunk) {
        if (!sinks.wait_accepted(std::uint64_t(done)))
            throw std::runtime_error("the sinks did not accept every connection");
        sample s;
        s.dials = done;
        s.seconds = seconds;
        s.rate = chunk_seconds > 0 ? double(chunk) / chunk_seconds : 0;
        s.rss = bench::rss_bytes();
        s.heap = bench::heap_bytes();
        s.fds = open_fd_count();
        s.history = history->size();
        s.allocs_per_dial = chunk > 0 ? double(chunk_allocs) / double(chunk) : 0;
        samples.push_back(s);
    };
    const auto t0 = steady::now();
    take(0, 0, 0, 0, 0);
    for (long done = 0; done < dials;) {
        const long next = std::min(done + every, dials);
        const auto a0 = bench::allocations();
        const auto c0 = steady::now();
        run(ioc, dial_range(d, ctx, targets, done, next));
        const double chunk_s = seconds_since(c0);
        const auto chunk_allocs = bench::allocations() - a0;
        take(next, seconds_since(t0), chunk_s, chunk_allocs, next - done);
        done = next;
        std::fprintf(stderr, "soak: %ld dials, %.0f s\n", done, seconds_since(t0));
    }

    std::printf(
        "\n| dials | s | dials/s since the last sample | RSS MiB | heap KiB (mallinfo2) | open fds | history entries | "
        "allocations/dial |\n|---|---|---|---|---|---|---|---|\n");
    for (const auto& s : samples)
        std::printf("| %ld | %.1f | %.0f | %.2f | %.1f | %zu | %zu | %.2f |\n", s.dials, s.seconds, s.rate,
                    double(s.rss) / 1048576, double(s.heap) / 1024, s.fds, s.history, s.allocs_per_dial);
    const auto& first = samples.at(1);  // the first sample taken after dials
    const auto& last = samples.back();
    const auto grow = [](std::size_t a, std::size_t b) { return double(b) - double(a); };
    std::printf("\nGrowth from the first sample (%ld dials) to the last (%ld dials):\n\n", first.dials, last.dials);
    std::printf("- RSS: %+.0f KiB (%+.1f B per 1,000 dials)\n", grow(first.rss, last.rss) / 1024,
                grow(first.rss, last.rss) / double(last.dials - first.dials) * 1000);
    std::printf("- heap: %+.1f KiB (%+.1f B per 1,000 dials)\n", grow(first.heap, last.heap) / 1024,
                grow(first.heap, last.heap) / double(last.dials - first.dials) * 1000);
    std::printf("- open descriptors: %+.0f\n", grow(first.fds, last.fds));
    std::printf("- history entries: %zu -> %zu (capacity %zu)\n", first.history, last.history, capacity);
    std::size_t max_history = 0;
    for (const auto& s : samples) max_history = std::max(max_history, s.history);
    if (trace == "hooks")
        std::printf(
            "- hook calls: dial_start %llu, dns %llu, connect_start %llu, connect_done %llu, dial_done %llu, "
            "tls %llu, proxy %llu\n",
            (unsigned long long)calls[0], (unsigned long long)calls[1], (unsigned long long)calls[2],
            (unsigned long long)calls[3], (unsigned long long)calls[4], (unsigned long long)calls[5],
            (unsigned long long)calls[6]);
    std::printf("- total: %ld dials in %.1f s (%.0f dials/s), sinks accepted %llu\n", last.dials, last.seconds,
                double(last.dials) / last.seconds, static_cast<unsigned long long>(sinks.accepted()));
    const bool flat_fds = last.fds == first.fds;
    const bool bounded = max_history <= capacity;
    const bool hooks_ok = trace != "hooks" || (calls[0] == std::uint64_t(dials) && calls[4] == std::uint64_t(dials));
    std::printf("- verdict: descriptors %s, history %s%s\n", flat_fds ? "flat" : "GREW",
                bounded ? "within its capacity" : "ABOVE ITS CAPACITY", hooks_ok ? "" : ", HOOK COUNTS WRONG");
    return flat_fds && bounded && hooks_ok ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "soak-bench: %s\n", e.what());
    return 1;
}
