// tls-bench: dial_tls against raw Asio (async_connect, then ssl::stream's
// async_handshake) on loopback, in one process: the two alternate in short
// blocks, round after round, and the median of the per-round ratios is
// printed with its min and max, as nettrace-bench does.
//
//   tls-bench [--rounds=N]
//
// The server (test/support/tls_server) runs on the same io_context, so both
// variants pay for its side of every handshake alike. Both use the default
// io_context and dial options, so nettrace's dials run on a strand.
#include <nettrace/tls.hpp>

#include "support.hpp"
#include "tls_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

asio::awaitable<void> raw_loop(tcp::endpoint ep, ssl::context& ctx, long n) {
    const auto ex = co_await asio::this_coro::executor;
    for (long i = 0; i < n; ++i) {
        ssl::stream<tcp::socket> s(ex, ctx);
        auto [ec] = co_await s.lowest_layer().async_connect(ep, asio::as_tuple(asio::use_awaitable));
        if (ec) throw std::runtime_error("raw connect: " + ec.message());
        SSL_set_tlsext_host_name(s.native_handle(), "tls.test");
        s.set_verify_mode(ssl::verify_peer);
        s.set_verify_callback(ssl::host_name_verification("tls.test"));
        auto [hs] = co_await s.async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
        if (hs) throw std::runtime_error("raw handshake: " + hs.message());
    }
}

asio::awaitable<void> nettrace_loop(std::string address, ssl::context& ctx, long n) {
    // Named, not temporaries: GCC 12 destroys a temporary with a destructor
    // in a co_await's full-expression twice.
    const nettrace::context none;
    const nettrace::tls_options options;
    for (long i = 0; i < n; ++i) {
        auto [ec, s] =
            co_await nettrace::dial_tls(none, "tcp", address, ctx, options, asio::as_tuple(asio::use_awaitable));
        if (ec) throw std::runtime_error("dial_tls: " + ec.message());
    }
}

void run(asio::io_context& ioc, asio::awaitable<void> loop) {
    std::exception_ptr failed;
    bool done = false;
    asio::co_spawn(ioc, std::move(loop), [&](std::exception_ptr e) {
        failed = e;
        done = true;
    });
    while (!done) ioc.run_one();  // the server's accept loop keeps the io_context busy
    if (failed) std::rethrow_exception(failed);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) try {
    int rounds = 11;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a.starts_with("--rounds=")) rounds = std::stoi(a.substr(9));
    }
    // The server keeps what it accepted: one descriptor per handshake.
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);

    asio::io_context ioc;
    const nettrace::testing::test_certificate cert({"tls.test", "IP:127.0.0.1"});
    nettrace::testing::tls_server server(ioc.get_executor(), asio::ip::make_address("127.0.0.1"), cert);
    ssl::context client(ssl::context::tls_client);
    cert.trust_in(client);
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), server.port());
    // An IP literal: no DNS, and verified against the certificate's IP SAN
    // (the raw variant checks the name tls.test, which the certificate has too).
    const std::string address = "127.0.0.1:" + std::to_string(server.port());

    const long block = 20;
    const int blocks = 10;
    run(ioc, raw_loop(ep, client, 20));  // warm up: services, the session caches
    run(ioc, nettrace_loop(address, client, 20));
    std::vector<double> ratios, raw_us, nt_us, allocs;
    for (int r = 0; r < rounds; ++r) {
        double raw = 0, nt = 0;
        std::uint64_t nt_allocs = 0;
        for (int b = 0; b < blocks; ++b) {
            const bool raw_first = (b + r) % 2 == 0;
            for (int k = 0; k < 2; ++k) {
                const bool is_raw = (k == 0) == raw_first;
                const auto a0 = nettrace::bench::allocations();
                const auto t0 = steady::now();
                run(ioc, is_raw ? raw_loop(ep, client, block) : nettrace_loop(address, client, block));
                const double s = std::chrono::duration<double>(steady::now() - t0).count();
                (is_raw ? raw : nt) += s;
                if (!is_raw) nt_allocs += nettrace::bench::allocations() - a0;
            }
        }
        const double n = double(block) * blocks;
        ratios.push_back(nt / raw);
        raw_us.push_back(raw / n * 1e6);
        nt_us.push_back(nt / n * 1e6);
        allocs.push_back(double(nt_allocs) / n);
    }
    const auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
    std::printf("| raw Asio connect + ssl handshake | %.1f µs |\n", median(raw_us));
    std::printf("| `nettrace::dial_tls` | %.1f µs | ratio %.3f [%.3f, %.3f] | %.1f allocations/dial |\n", median(nt_us),
                median(ratios), *lo, *hi, median(allocs));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "tls-bench: %s\n", e.what());
    return 1;
}
