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

#include <cstdio>
#include <stdexcept>
#include <string>

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

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

}  // namespace

int main(int argc, char** argv) try {
    const int rounds = nettrace::bench::rounds_option(argc, argv, 11);
    // The server keeps what it accepted: one descriptor per handshake.
    nettrace::bench::raise_fd_limit();

    asio::io_context ioc;
    const nettrace::testing::test_certificate cert({"tls.test", "IP:127.0.0.1"});
    nettrace::testing::tls_server server(ioc.get_executor(), asio::ip::make_address("127.0.0.1"), cert);
    ssl::context client(ssl::context::tls_client);
    cert.trust_in(client);
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), server.port());
    // An IP literal: no DNS, and verified against the certificate's IP SAN
    // (the raw variant checks the name tls.test, which the certificate has too).
    const std::string address = "127.0.0.1:" + std::to_string(server.port());

    // Blocks of 20 handshakes, 10 pairs of blocks a round (support.hpp); the
    // warm-up fills the session caches too.
    const auto m = nettrace::bench::compare_with_raw(
        rounds, 20, 10, [&](long n) { run(ioc, raw_loop(ep, client, n)); },
        [&](long n) { run(ioc, nettrace_loop(address, client, n)); });
    std::printf("| raw Asio connect + ssl handshake | %.1f µs |\n", m.raw_us.median);
    std::printf("| `nettrace::dial_tls` | %.1f µs | ratio %.3f [%.3f, %.3f] | %.1f allocations/dial |\n",
                m.nt_us.median, m.ratio.median, m.ratio.min, m.ratio.max, m.allocs.median);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "tls-bench: %s\n", e.what());
    return 1;
}
