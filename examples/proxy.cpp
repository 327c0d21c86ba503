// A TCP proxy: accepts clients, dials the upstream with nettrace for each one
// (Happy Eyeballs), pipes bytes both ways, and logs where each dial's time
// went (with_timings). Every dial also feeds Prometheus metrics
// (with_prometheus, nettrace/prometheus.hpp), served on /metrics by
// prometheus-cpp's Exposer for Prometheus to scrape.
//
//   proxy --upstream HOST:PORT [--listen ADDR:PORT] [--metrics ADDR:PORT] [--max-clients N]
//
//   --listen ADDR:PORT   where to accept clients (default 127.0.0.1:0, any free port)
//   --metrics ADDR:PORT  serve http://ADDR:PORT/metrics (port 0: any free port; default: not served)
//   --max-clients N      exit once N clients have been served (default: run until SIGINT/SIGTERM)
//
// stdout: "listening on ADDR:PORT" first, then (with --metrics)
// "metrics on http://ADDR:PORT/metrics", each flushed; at exit, the metrics
// in the Prometheus text format (what a last scrape would have read).
// stderr: one line per upstream connection, e.g.
//   127.0.0.1:51234 -> db.test:5432 (127.0.0.1:5432): dns 0.31 ms, connect 0.12 ms (1 attempt, won by ipv4), total 0.48
//   ms
#include <nettrace/nettrace.hpp>
#include <nettrace/prometheus.hpp>

#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

struct config {
    std::string upstream;
    tcp::endpoint listen{asio::ip::make_address("127.0.0.1"), 0};
    std::optional<tcp::endpoint> metrics;  // where to serve /metrics
    unsigned max_clients = 0;              // 0: no limit
};

// Copies `from` to `to` until `from` ends, then passes the end on
// (shutdown_send), so each direction closes on its own: a client that has
// sent everything can still read the rest of the answer.
asio::awaitable<void> pipe(tcp::socket& from, tcp::socket& to) {
    std::array<char, 16 * 1024> buf;
    for (;;) {
        auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), asio::as_tuple(asio::deferred));
        if (ec == asio::error::eof) break;
        // Anything else (a reset) ends both directions: throwing makes the
        // && below cancel the other one.
        if (ec) throw boost::system::system_error(ec);
        co_await asio::async_write(to, asio::buffer(buf, n), asio::deferred);
    }
    boost::system::error_code ignored;
    to.shutdown(tcp::socket::shutdown_send, ignored);
}

// `metered` carries the metrics layer, shared by every dial at once.
asio::awaitable<void> serve(tcp::socket client, const config& cfg, const nettrace::dialer& dialer,
                            const nettrace::context& metered) {
    boost::system::error_code ignored;
    const auto peer = client.remote_endpoint(ignored);

    // with_timings fills `t` before the dial's completion resumes us. It
    // writes `t` without a lock, so each dial gets a context of its own, on
    // top of the shared one (a context is cheap).
    nettrace::timings t;
    auto [ec, upstream] =
        co_await dialer.dial(nettrace::with_timings(metered, t), "tcp", cfg.upstream, asio::as_tuple(asio::deferred));
    std::clog << peer << " -> " << cfg.upstream;
    if (t.winner) std::clog << " (" << t.remote << ")";
    std::clog << ": " << t << std::endl;
    if (ec) co_return;  // closing the client is all it learns

    co_await (pipe(client, upstream) && pipe(upstream, client));
}

config parse_args(int argc, char** argv) {
    config cfg;
    auto value = [&](int& i) -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(std::string(argv[i]) + " needs a value");
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--upstream") {
            cfg.upstream = value(i);
        } else if (arg == "--listen" || arg == "--metrics") {
            const std::string spec = value(i);
            boost::system::error_code ec;
            const auto hp = nettrace::parse_host_port(spec, ec);
            if (!hp || !hp->ip)
                throw std::invalid_argument(std::string(arg) + " " + spec + ": want ADDR:PORT with an IP address");
            (arg == "--listen" ? cfg.listen : cfg.metrics.emplace()) = tcp::endpoint(*hp->ip, hp->port);
        } else if (arg == "--max-clients") {
            cfg.max_clients = static_cast<unsigned>(std::stoul(value(i)));
        } else {
            throw std::invalid_argument("unknown argument " + std::string(arg));
        }
    }
    if (cfg.upstream.empty()) throw std::invalid_argument("--upstream HOST:PORT is required");
    return cfg;
}

}  // namespace

int main(int argc, char** argv) {
    config cfg;
    try {
        cfg = parse_args(argc, argv);
    } catch (const std::exception& e) {
        std::cerr
            << "proxy: " << e.what()
            << "\nusage: proxy --upstream HOST:PORT [--listen ADDR:PORT] [--metrics ADDR:PORT] [--max-clients N]\n";
        return 2;
    }

    asio::io_context ioc;
    nettrace::dial_options options;
    options.timeout = std::chrono::seconds(10);  // a black-holed upstream must not hold a client forever
    const nettrace::dialer dialer(options);

    // The metrics: registered once, fed by every dial through one context.
    // prometheus-cpp locks what it shares, so the Exposer's threads may
    // scrape while this thread dials.
    const auto registry = std::make_shared<prometheus::Registry>();
    const nettrace::context metered = nettrace::with_prometheus({}, nettrace::prometheus_metrics(registry));

    tcp::acceptor acceptor(ioc);
    try {
        acceptor = tcp::acceptor(ioc, cfg.listen);
    } catch (const boost::system::system_error& e) {
        std::cerr << "proxy: listen on " << cfg.listen << ": " << e.code().message() << '\n';
        return 1;
    }
    std::cout << "listening on " << acceptor.local_endpoint() << std::endl;

    std::optional<prometheus::Exposer> exposer;
    if (cfg.metrics) {
        // civetweb's listening_ports syntax: "127.0.0.1:9464", "[::1]:9464".
        const auto& m = *cfg.metrics;
        const std::string host = m.address().is_v6() ? "[" + m.address().to_string() + "]" : m.address().to_string();
        try {
            exposer.emplace(host + ":" + std::to_string(m.port()));
        } catch (const std::exception& e) {
            std::cerr << "proxy: serve metrics on " << m << ": " << e.what() << '\n';
            return 1;
        }
        exposer->RegisterCollectable(registry);  // served on /metrics
        std::cout << "metrics on http://" << host << ":" << exposer->GetListeningPorts().at(0) << "/metrics"
                  << std::endl;
    }

    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int) {
        if (!ec) ioc.stop();
    });

    unsigned finished = 0;
    auto accept_clients = [&]() -> asio::awaitable<void> {
        asio::steady_timer backoff(ioc);
        for (unsigned accepted = 0; cfg.max_clients == 0 || accepted < cfg.max_clients;) {
            auto [ec, client] = co_await acceptor.async_accept(asio::as_tuple(asio::deferred));
            if (ec == asio::error::operation_aborted) break;
            if (ec) {
                // A client that gave up before we accepted it, or no descriptor
                // free for now: the next client may do better. Wait a little,
                // so that a lasting EMFILE does not become a busy loop.
                std::clog << "proxy: accept: " << ec.message() << std::endl;
                backoff.expires_after(std::chrono::milliseconds(100));
                co_await backoff.async_wait(asio::as_tuple(asio::deferred));
                continue;
            }
            ++accepted;
            asio::co_spawn(ioc, serve(std::move(client), cfg, dialer, metered), [&](std::exception_ptr e) {
                if (e) try {
                        std::rethrow_exception(e);
                    } catch (const std::exception& ex) {
                        std::clog << "connection ended: " << ex.what() << std::endl;
                    }
                // Once the last client is served nothing is left to wait for.
                if (++finished == cfg.max_clients) signals.cancel();
            });
        }
        acceptor.close();
    };
    asio::co_spawn(ioc, accept_clients(), [](std::exception_ptr e) {
        if (e) try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                std::clog << "proxy: accept: " << ex.what() << std::endl;
            }
    });

    ioc.run();
    std::cout << prometheus::TextSerializer().Serialize(registry->Collect());
    return 0;
}
