// history-bench: the race that learns. A host whose first address is
// black-holed, dialed again and again, with a connection_history and
// without one, in one process. Loopback only.
//
//   history-bench [--rounds=N] [--repeats=K]
//
// dual.test = {[::1] black hole, 127.0.0.1 live} on one port (a static
// resolver; {127.0.0.2 black hole, 127.0.0.1 live}, the hole first in the
// resolver's order, where ::1 cannot be bound), the default attempt delay
// (250 ms), one io_context thread (single_threaded). A round is, for each of
// the two dialers (the order rotating by round): a first dial, then K repeat
// dials of the same name. The dialer with history gets a fresh
// connection_history each round, so its first dial always learns anew.
// Every connection is closed with an RST.
#include <nettrace/nettrace.hpp>

#include "loopback.hpp"
#include "support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace bench = nettrace::bench;
using nettrace::bench::run;
using nettrace::bench::show;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

double ms_since(steady::time_point t0) { return std::chrono::duration<double, std::milli>(steady::now() - t0).count(); }

// Dials once, appending its time in ms.
asio::awaitable<void> timed_dial(const nettrace::dialer& d, const nettrace::context& ctx, const std::string& address,
                                 std::vector<double>& ms) {
    const auto t0 = steady::now();
    tcp::socket s = co_await d.dial(ctx, "tcp", address);
    ms.push_back(ms_since(t0));
    bench::close_now(s);
}

asio::awaitable<void> timed_raw(tcp::endpoint ep, std::vector<double>& ms) {
    const auto t0 = steady::now();
    tcp::socket s(co_await asio::this_coro::executor);
    co_await s.async_connect(ep, asio::deferred);
    ms.push_back(ms_since(t0));
    bench::close_now(s);
}

}  // namespace

int main(int argc, char** argv) try {
    ::alarm(600);
    std::signal(SIGPIPE, SIG_IGN);
    int rounds = bench::rounds_option(argc, argv, 5), repeats = 10;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a.starts_with("--repeats="))
            repeats = std::stoi(a.substr(10));
        else if (!a.starts_with("--rounds=")) {
            std::fprintf(stderr, "usage: %s [--rounds=N] [--repeats=K]\n", argv[0]);
            return 2;
        }
    }

    const auto live_addr = asio::ip::address_v4::loopback();
    const bool v6 = nettrace::testing::ipv6_loopback_available();
    const asio::ip::address hole_addr =
        v6 ? asio::ip::address(asio::ip::address_v6::loopback()) : asio::ip::make_address("127.0.0.2");
    // The two addresses share the port: the listener picks it, the black
    // hole takes it on the other address.
    std::optional<bench::sink_listener> listener;
    std::optional<nettrace::testing::black_hole> hole;
    for (int tries = 0; !hole && tries < 50; ++tries) try {
            listener.emplace(live_addr);
            hole.emplace(hole_addr, listener->port());
        } catch (const std::exception&) {
            listener.reset();
        }
    if (!hole) throw std::runtime_error("no port free on both addresses");
    const unsigned short port = listener->port();
    const std::string address = "dual.test:" + std::to_string(port);
    const auto resolver = nettrace::make_static_resolver({{"dual.test", {hole_addr, live_addr}}});

    auto make = [&](std::shared_ptr<nettrace::connection_history> h) {
        nettrace::dial_options o;
        o.resolver = resolver;
        o.single_threaded = true;
        o.history = std::move(h);
        return nettrace::dialer(o);
    };

    // Where each repeat dial's first attempt went, and why.
    std::map<std::string, int> first_attempts;
    bool repeat_phase = false;
    nettrace::client_trace trace;
    trace.connect_start = [&](const nettrace::connect_start_info& i) {
        if (repeat_phase && i.attempt == 0)
            ++first_attempts[i.endpoint.address().to_string() + " (" + std::string(nettrace::to_string(i.reason)) +
                             ")"];
    };
    const auto ctx = nettrace::with_client_trace({}, trace);
    const nettrace::context none;

    asio::io_context ioc(1);
    const auto delay_ms = double(make(nullptr).options().attempt_delay.count());
    std::vector<double> first_with, first_without, repeat_with, repeat_without, raw;
    {
        std::vector<double> warm;
        run(ioc, timed_raw(listener->endpoint(), warm));
    }
    for (int r = 0; r < rounds; ++r) {
        for (int k = 0; k < 2; ++k) {
            const bool with_history = (k == 0) == (r % 2 == 0);
            const auto d = make(with_history ? std::make_shared<nettrace::connection_history>() : nullptr);
            auto& first = with_history ? first_with : first_without;
            auto& repeat = with_history ? repeat_with : repeat_without;
            repeat_phase = false;
            run(ioc, timed_dial(d, with_history ? ctx : none, address, first));
            std::vector<double> this_round;
            repeat_phase = with_history;
            for (int i = 0; i < repeats; ++i) run(ioc, timed_dial(d, with_history ? ctx : none, address, this_round));
            repeat.insert(repeat.end(), this_round.begin(), this_round.end());
        }
        for (int i = 0; i < repeats; ++i) run(ioc, timed_raw(listener->endpoint(), raw));
    }

    const std::time_t now = std::time(nullptr);
    std::printf("history-bench, %s", std::ctime(&now));
    std::printf(
        "\n### A host whose first address is black-holed: `dual.test` = {%s black hole, 127.0.0.1 live}, attempt "
        "delay %.0f ms (%d rounds: a first dial, then %d repeat dials)\n\n",
        v6 ? "[::1]" : "127.0.0.2", delay_ms, rounds, repeats);
    std::printf("| dial | first dial ms | repeat dial ms median [min, max] | repeat dials |\n|---|---|---|---|\n");
    std::printf("| nettrace, with a connection_history | %s | **%s** | %zu |\n",
                show(bench::summarize(first_with)).c_str(), show(bench::summarize(repeat_with), 3).c_str(),
                repeat_with.size());
    std::printf("| nettrace, without history | %s | %s | %zu |\n", show(bench::summarize(first_without)).c_str(),
                show(bench::summarize(repeat_without)).c_str(), repeat_without.size());
    std::printf("| raw Asio straight to 127.0.0.1 | — | %s | %zu |\n", show(bench::summarize(raw), 3).c_str(),
                raw.size());
    std::printf("\nRepeat dials with history, where the first attempt went (reason):");
    for (const auto& [what, n] : first_attempts) std::printf(" %s x%d;", what.c_str(), n);
    const auto with = bench::summarize(repeat_with), without = bench::summarize(repeat_without);
    std::printf(
        "\n\nRepeat dial with history: median %.3f ms, max %.3f ms (target <= 5 ms: %s); without: %.1f ms "
        "(%.2f x the attempt delay); without / with: %.0f\n",
        with.median, with.max,
        with.max <= 5      ? "met"
        : with.median <= 5 ? "met by the median"
                           : "NOT MET",
        without.median, without.median / delay_ms, without.median / with.median);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "history-bench: %s\n", e.what());
    return 1;
}
