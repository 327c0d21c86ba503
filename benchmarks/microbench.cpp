// nettrace-microbench: Google Benchmark timings of single operations, for
// profiling and for watching one piece at a time. Absolute times on a shared
// machine drift; nettrace-bench gives the side-by-side ratios. Each benchmark
// also reports heap allocations per iteration ("allocs").
#include <nettrace/nettrace.hpp>

#include "dns_server.hpp"
#include "racer.hpp"
#include "support.hpp"

#include <benchmark/benchmark.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include <thread>

namespace {

namespace asio = boost::asio;
namespace bench = nettrace::bench;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

const asio::ip::address localhost = asio::ip::address_v4::loopback();

bench::sink_listener& listener() {
    static bench::sink_listener l(localhost);
    return l;
}

// Runs the benchmark loop inside a coroutine on a fresh io_context and
// reports allocations per iteration.
template <class Loop>
void in_coroutine(benchmark::State& state, Loop loop) {
    asio::io_context ioc;
    bool done = false;
    std::exception_ptr error;
    const auto a0 = bench::allocations();
    asio::co_spawn(ioc, loop(), [&](std::exception_ptr e) {
        error = e;
        done = true;
    });
    while (!done) ioc.run_one();
    state.counters["allocs"] =
        benchmark::Counter(double(bench::allocations() - a0), benchmark::Counter::kAvgIterations);
    if (error) state.SkipWithError("the loop threw");
}

void raw_async_connect(benchmark::State& state) {
    const auto ep = listener().endpoint();
    in_coroutine(state, [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        for (auto _ : state) {
            tcp::socket s(ex);
            co_await s.async_connect(ep, asio::deferred);
            bench::close_now(s);
        }
    });
}
BENCHMARK(raw_async_connect)->UseRealTime();

void dial_loop(benchmark::State& state, const nettrace::dialer& d, const nettrace::context& ctx,
               const std::string& address) {
    in_coroutine(state, [&]() -> asio::awaitable<void> {
        for (auto _ : state) {
            tcp::socket s = co_await d.dial(ctx, "tcp", address);
            bench::close_now(s);
        }
    });
}

// Arg: 0 no trace, 1 tracing off (an empty client_trace), 2 all seven hooks.
void dial_literal(benchmark::State& state) {
    static std::size_t calls = 0;
    nettrace::client_trace t;
    if (state.range(0) == 2) {
        t.dial_start = [](const nettrace::dial_start_info&) { ++calls; };
        t.dns_start = [](const nettrace::dns_start_info&) { ++calls; };
        t.dns_answer = [](const nettrace::dns_answer_info&) { ++calls; };
        t.dns_done = [](const nettrace::dns_done_info&) { ++calls; };
        t.connect_start = [](const nettrace::connect_start_info&) { ++calls; };
        t.connect_done = [](const nettrace::connect_done_info&) { ++calls; };
        t.dial_done = [](const nettrace::dial_done_info&) { ++calls; };
    }
    const auto ctx = state.range(0) == 0 ? nettrace::context{} : nettrace::with_client_trace({}, t);
    dial_loop(state, nettrace::dialer{}, ctx, "127.0.0.1:" + std::to_string(listener().port()));
}
BENCHMARK(dial_literal)->Arg(0)->Arg(1)->Arg(2)->UseRealTime();

void dial_static_name(benchmark::State& state) {
    nettrace::dial_options o;
    o.resolver = nettrace::make_static_resolver({{"bench.test", {localhost}}});
    dial_loop(state, nettrace::dialer(o), {}, "bench.test:" + std::to_string(listener().port()));
}
BENCHMARK(dial_static_name)->UseRealTime();

void dial_dns_warm_cache(benchmark::State& state) {
    if (!nettrace::dns_resolver_available()) return state.SkipWithError("built without c-ares");
    asio::io_context server_ioc;
    nettrace::testing::fake_dns_server dns(server_ioc.get_executor());
    dns.add("bench.test", nettrace::testing::query_type::a, {.addresses = {localhost}, .ttl = 3600});
    dns.add("bench.test", nettrace::testing::query_type::aaaa, {.negative_ttl = 3600});
    std::thread server([&] { server_ioc.run(); });
    {
        nettrace::dns_resolver_options r;
        r.nameservers = {dns.address()};
        r.use_hosts_file = false;
        r.negative_ttl = 3600s;
        nettrace::dial_options o;
        o.resolver = nettrace::make_dns_resolver(r);
        dial_loop(state, nettrace::dialer(o), {}, "bench.test:" + std::to_string(listener().port()));
    }
    server_ioc.stop();
    server.join();
}
BENCHMARK(dial_dns_warm_cache)->UseRealTime();

void parse_host_port(benchmark::State& state) {
    const std::string_view inputs[] = {"127.0.0.1:8080", "[2001:db8::1]:443", "example.com:https"};
    const auto input = inputs[state.range(0)];
    boost::system::error_code ec;
    for (auto _ : state) benchmark::DoNotOptimize(nettrace::parse_host_port(input, ec));
}
BENCHMARK(parse_host_port)->DenseRange(0, 2);

// The racer alone, for a literal: start, one answer, the attempt connects.
void racer_literal(benchmark::State& state) {
    const nettrace::detail::racer_config config;
    const auto now = nettrace::detail::clock::now();
    const auto a0 = bench::allocations();
    for (auto _ : state) {
        nettrace::detail::racer racer(config, 80);
        racer.start(now, false, true);
        racer.on_answer(nettrace::address_family::ipv4, std::span(&localhost, 1), {}, now);
        while (auto a = racer.next()) benchmark::DoNotOptimize(a);
        racer.on_attempt_done(0, {}, now);
        while (auto a = racer.next()) benchmark::DoNotOptimize(a);
    }
    state.counters["allocs"] =
        benchmark::Counter(double(bench::allocations() - a0), benchmark::Counter::kAvgIterations);
}
BENCHMARK(racer_literal);

void with_client_trace(benchmark::State& state) {
    nettrace::client_trace t;
    t.connect_done = [](const nettrace::connect_done_info&) {};
    for (auto _ : state) benchmark::DoNotOptimize(nettrace::with_client_trace({}, t));
}
BENCHMARK(with_client_trace);

}  // namespace

int main(int argc, char** argv) {
    bench::raise_fd_limit();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
