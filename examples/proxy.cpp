// A TCP proxy: accepts clients, dials the upstream with nettrace for each one
// (Happy Eyeballs, timed with with_timings), pipes bytes both ways, and logs
// where each dial's time went. At exit it prints the dial phases as
// Prometheus histograms: timings feeding a metrics library.
//
//   proxy --upstream HOST:PORT [--listen ADDR:PORT] [--max-clients N]
//
//   --listen ADDR:PORT  where to accept clients (default 127.0.0.1:0, any free port)
//   --max-clients N     exit once N clients have been served (default: run until SIGINT/SIGTERM)
//
// stdout: "listening on ADDR:PORT" first (flushed), the metrics at exit.
// stderr: one line per upstream connection, e.g.
//   127.0.0.1:51234 -> db.test:5432 (127.0.0.1:5432): dns 0.31 ms, connect 0.12 ms (1 attempt, won by ipv4), total 0.48 ms
#include <nettrace/nettrace.hpp>

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
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

// Stands in for a metrics library. A real program would call
// prometheus-cpp's Histogram::Observe or OpenTelemetry's Histogram::Record
// where this calls observe(); the shape is the same: one histogram per
// phase, fed from nettrace::timings after each dial. Only touched from the
// single-threaded io_context, so it needs no lock.
class dial_metrics {
public:
    void record(const nettrace::timings& t) {
        if (!t.ok()) {
            ++failed_;
            return;
        }
        ++connected_;
        if (t.source != nettrace::dns_source::none) observe("dns", t.dns);  // IP literals have no lookup
        observe("connect", t.connect);
        if (t.tls_used) observe("tls", t.tls);
        observe("total", t.total);
    }

    // The Prometheus text exposition format: cumulative buckets, +Inf, sum, count.
    void write(std::ostream& os) const {
        os << "# HELP nettrace_dial_phase_seconds Time upstream dials spent in each phase.\n"
              "# TYPE nettrace_dial_phase_seconds histogram\n";
        for (const auto& [phase, h] : phases_) {
            const std::string labels = "{phase=\"" + phase + "\"";
            for (std::size_t i = 0; i < bounds.size(); ++i)
                os << "nettrace_dial_phase_seconds_bucket" << labels << ",le=\"" << bounds[i] << "\"} "
                   << h.at_most[i] << '\n';
            os << "nettrace_dial_phase_seconds_bucket" << labels << ",le=\"+Inf\"} " << h.count << '\n'
               << "nettrace_dial_phase_seconds_sum" << labels << "} " << h.sum << '\n'
               << "nettrace_dial_phase_seconds_count" << labels << "} " << h.count << '\n';
        }
        os << "# HELP nettrace_dials_total Upstream dials by result.\n"
              "# TYPE nettrace_dials_total counter\n"
              "nettrace_dials_total{result=\"connected\"} " << connected_ << '\n'
           << "nettrace_dials_total{result=\"failed\"} " << failed_ << '\n';
    }

private:
    static constexpr std::array<double, 9> bounds{0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0};

    struct histogram {
        std::array<std::uint64_t, bounds.size()> at_most{};  // cumulative, as exposed
        std::uint64_t count = 0;
        double sum = 0;
    };

    void observe(const std::string& phase, std::chrono::steady_clock::duration d) {
        const double seconds = std::chrono::duration<double>(d).count();
        histogram& h = phases_[phase];
        for (std::size_t i = 0; i < bounds.size(); ++i)
            if (seconds <= bounds[i]) ++h.at_most[i];
        ++h.count;
        h.sum += seconds;
    }

    std::map<std::string, histogram> phases_;
    std::uint64_t connected_ = 0, failed_ = 0;
};

struct config {
    std::string upstream;
    tcp::endpoint listen{asio::ip::make_address("127.0.0.1"), 0};
    unsigned max_clients = 0;  // 0: no limit
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

asio::awaitable<void> serve(tcp::socket client, const config& cfg, const nettrace::dialer& dialer,
                            dial_metrics& metrics) {
    boost::system::error_code ignored;
    const auto peer = client.remote_endpoint(ignored);

    // with_timings fills `t` before the dial's completion resumes us. A
    // context is cheap: one per dial, so `t` is never shared.
    nettrace::timings t;
    auto [ec, upstream] = co_await dialer.dial(nettrace::with_timings({}, t), "tcp", cfg.upstream,
                                               asio::as_tuple(asio::deferred));
    std::clog << peer << " -> " << cfg.upstream;
    if (t.winner) std::clog << " (" << t.remote << ")";
    std::clog << ": " << t << std::endl;
    metrics.record(t);
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
        } else if (arg == "--listen") {
            const std::string spec = value(i);
            boost::system::error_code ec;
            const auto hp = nettrace::parse_host_port(spec, ec);
            if (!hp || !hp->ip) throw std::invalid_argument("--listen " + spec + ": want ADDR:PORT with an IP address");
            cfg.listen = tcp::endpoint(*hp->ip, hp->port);
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
        std::cerr << "proxy: " << e.what()
                  << "\nusage: proxy --upstream HOST:PORT [--listen ADDR:PORT] [--max-clients N]\n";
        return 2;
    }

    asio::io_context ioc;
    nettrace::dial_options options;
    options.timeout = std::chrono::seconds(10);  // a black-holed upstream must not hold a client forever
    const nettrace::dialer dialer(options);
    dial_metrics metrics;

    tcp::acceptor acceptor(ioc);
    try {
        acceptor = tcp::acceptor(ioc, cfg.listen);
    } catch (const boost::system::system_error& e) {
        std::cerr << "proxy: listen on " << cfg.listen << ": " << e.code().message() << '\n';
        return 1;
    }
    std::cout << "listening on " << acceptor.local_endpoint() << std::endl;

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
            asio::co_spawn(ioc, serve(std::move(client), cfg, dialer, metrics), [&](std::exception_ptr e) {
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
    metrics.write(std::cout);
    return 0;
}
