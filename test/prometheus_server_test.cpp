// End to end: the proxy example's /metrics scraped by a real Prometheus
// server (Debian: prometheus), all on 127.0.0.1. Two proxies, one in front
// of a listening upstream and one in front of a refused port, take a known
// number of clients; Prometheus scrapes both every second with a
// configuration written here, and its HTTP query API must read back exactly
// the dials made. Without the prometheus program the case is skipped (it
// says so), unless NETTRACE_REQUIRE_PROXIES=1 (CI) makes that a failure.
// The proxy example's path follows the Boost.Test arguments (after --).
#define BOOST_TEST_MODULE prometheus_server
#include <boost/test/unit_test.hpp>

#include "support/child_process.hpp"
#include "support/common.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr const char* prometheus_path = "/usr/bin/prometheus";

bool prometheus_installed() { return ::access(prometheus_path, X_OK) == 0; }

bool required() {
    const char* v = std::getenv("NETTRACE_REQUIRE_PROXIES");
    return v && std::string(v) == "1";
}

std::string proxy_example_path() {
    auto& suite = boost::unit_test::framework::master_test_suite();
    BOOST_REQUIRE_MESSAGE(suite.argc > 1, "pass the path of the proxy example after --");
    return suite.argv[suite.argc - 1];
}

// The programs below run as children of the test (server_process in
// support/child_process.hpp: killed with the test, stopped and reaped when
// the object goes, on every path), each ready when its port accepts, in a
// temporary directory of its own that goes with it.

// The proxy example in front of `upstream`, serving /metrics.
class proxy_example : public nettrace::testing::server_process {
public:
    explicit proxy_example(const std::string& upstream) : server_process("prometheus") {
        for (int attempt = 0; attempt < 5; ++attempt) {
            listen_ = free_port();
            metrics_ = free_port();
            // Ready when /metrics accepts: the client listener is open before it.
            if (spawn({proxy_example_path(), "--upstream", upstream, "--listen", "127.0.0.1:" + std::to_string(listen_),
                       "--metrics", "127.0.0.1:" + std::to_string(metrics_)},
                      metrics_))
                return;
        }
        throw std::runtime_error("the proxy example did not start:\n" + log());
    }
    unsigned short listen_port() const { return listen_; }
    std::string target() const { return "127.0.0.1:" + std::to_string(metrics_); }

private:
    unsigned short listen_ = 0, metrics_ = 0;
};

// Prometheus scraping `targets` every second, its TSDB in the temporary directory.
class prometheus_server : public nettrace::testing::server_process {
public:
    explicit prometheus_server(const std::vector<std::string>& targets) : server_process("prometheus") {
        std::string list;
        for (const auto& t : targets) list += (list.empty() ? "'" : ", '") + t + "'";
        std::ofstream(dir_ + "/prometheus.yml") << "global:\n"
                                                   "  scrape_interval: 1s\n"
                                                   "  scrape_timeout: 1s\n"
                                                   "scrape_configs:\n"
                                                   "  - job_name: nettrace\n"
                                                   "    static_configs:\n"
                                                   "      - targets: ["
                                                << list << "]\n";
        for (int attempt = 0; attempt < 5; ++attempt) {
            const unsigned short port = free_port();
            if (spawn(
                    {prometheus_path, "--config.file=" + dir_ + "/prometheus.yml",
                     "--storage.tsdb.path=" + dir_ + "/data", "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                    port))
                return;
        }
        throw std::runtime_error("prometheus did not start:\n" + log());
    }
    unsigned short http_port() const { return port(); }
};

std::string url_encode(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// One instant query through Prometheus's HTTP API; the value of its single
// sample, or nullopt when the result is empty (nothing scraped yet) or the
// request failed (not ready yet). `body` gets the answer, for messages.
std::optional<double> query(unsigned short port, const std::string& promql, std::string& body) {
    asio::io_context ioc;
    tcp::socket s(ioc);
    boost::system::error_code ec;
    s.connect({v4, port}, ec);
    if (ec) return std::nullopt;
    const std::string request =
        "GET /api/v1/query?query=" + url_encode(promql) + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    asio::write(s, asio::buffer(request), ec);
    if (ec) return std::nullopt;
    std::string response;
    asio::read(s, asio::dynamic_buffer(response), ec);  // to EOF
    const auto header_end = response.find("\r\n\r\n");
    body = header_end == std::string::npos ? response : response.substr(header_end + 4);
    if (response.rfind("HTTP/1.0 200", 0) != 0 && response.rfind("HTTP/1.1 200", 0) != 0) return std::nullopt;
    // {"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.123,"3"]}]}}
    static const std::regex value_re(R"re("value":\[[0-9.e+]+,"([^"]+)"\])re");
    std::smatch m;
    if (!std::regex_search(body, m, value_re)) return std::nullopt;
    return std::stod(m[1]);
}

struct expectation {
    std::string promql;
    double want;
    std::optional<double> got{};
    std::string body{};
};

boost::test_tools::assertion_result prometheus_available(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(prometheus_installed() || required());
    if (!r)
        r.message() << prometheus_path
                    << " is not installed (Debian: prometheus; scripts/setup.sh installs it): skipped";
    return r;
}

// Says why the case is skipped: Boost.Test tells a failed precondition only
// at log levels above "message".
struct say_why_skipped {
    say_why_skipped() {
        if (!prometheus_installed() && !required())
            BOOST_TEST_MESSAGE(prometheus_path
                               << " is not installed (Debian: prometheus; scripts/setup.sh installs it): "
                                  "the end-to-end case is skipped");
    }
};
BOOST_TEST_GLOBAL_FIXTURE(say_why_skipped);

}  // namespace

BOOST_AUTO_TEST_CASE(a_real_prometheus_scrapes_the_proxy_example_and_reads_back_every_dial,
                     *boost::unit_test::precondition(prometheus_available)) {
    BOOST_REQUIRE_MESSAGE(prometheus_installed(), prometheus_path
                                                      << " is not installed, and NETTRACE_REQUIRE_PROXIES=1 "
                                                         "asks for it (scripts/setup.sh installs it)");
    const auto started = std::chrono::steady_clock::now();
    constexpr int connected = 3, refused_dials = 2;

    // The upstreams: a listener nobody accepts from (the kernel completes
    // each handshake from the backlog, so dials to it connect) and a port
    // that refuses.
    asio::io_context ioc;
    tcp::acceptor live(ioc, {v4, 0});
    live.listen(16);
    nettrace::testing::refused_port refused(v4);

    // In optionals, to be stopped side by side at the end (each takes a
    // second or two: civetweb's shutdown); on a failure, one after the other.
    std::optional<proxy_example> good_proxy, bad_proxy;
    proxy_example& good = good_proxy.emplace("127.0.0.1:" + std::to_string(live.local_endpoint().port()));
    proxy_example& bad = bad_proxy.emplace("127.0.0.1:" + std::to_string(refused.port()));
    prometheus_server prometheus({good.target(), bad.target()});

    // The clients: each makes its proxy dial the upstream once. They stay
    // open until the end, so the good proxy's tunnels do too.
    std::vector<tcp::socket> clients;
    for (int i = 0; i < connected; ++i) clients.emplace_back(ioc).connect({v4, good.listen_port()});
    for (int i = 0; i < refused_dials; ++i) clients.emplace_back(ioc).connect({v4, bad.listen_port()});

    const std::string g = "instance=\"" + good.target() + "\"", b = "instance=\"" + bad.target() + "\"";
    std::vector<expectation> expected{
        {"sum(up{job=\"nettrace\"})", 2},
        // The good proxy: every dial connected, over IPv4, with no lookup.
        {"sum(nettrace_dial_duration_seconds_count{" + g + ",error_type=\"\"})", connected},
        {"sum(nettrace_dial_duration_seconds_bucket{" + g + ",error_type=\"\",le=\"+Inf\"})", connected},
        {"sum(nettrace_connect_duration_seconds_count{" + g + ",network_type=\"ipv4\"})", connected},
        {"sum(nettrace_connect_attempts_total{" + g + ",network_type=\"ipv4\",nettrace_outcome=\"won\"})", connected},
        {"sum(nettrace_connect_attempts_total{" + g + "})", connected},
        {"sum(nettrace_dial_errors_total{" + g + "}) or vector(0)", 0},
        {"sum(dns_lookup_duration_seconds_count{" + g + "})", 0},
        {"sum(nettrace_active_dials{" + g + "})", 0},
        // The bad proxy: every dial refused.
        {"sum(nettrace_dial_errors_total{" + b + ",error_type=\"connection_refused\"})", refused_dials},
        {"sum(nettrace_dial_errors_total{" + b + "})", refused_dials},
        {"sum(nettrace_dial_duration_seconds_count{" + b + ",error_type=\"connection_refused\"})", refused_dials},
        {"sum(nettrace_dial_duration_seconds_count{" + b + ",error_type=\"\"})", 0},
        {"sum(nettrace_connect_attempts_total{" + b + ",network_type=\"ipv4\",nettrace_outcome=\"failed\"})",
         refused_dials},
        {"sum(nettrace_connect_duration_seconds_count{" + b + "})", 0},
        {"sum(nettrace_active_dials{" + b + "})", 0},
    };

    // A readiness poll, bounded: Prometheus answers once it has started,
    // the series appear with its first scrape of each target, and the
    // values settle once a scrape follows the last dial.
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    bool all = false;
    int rounds = 0;
    while (!all && std::chrono::steady_clock::now() < deadline) {
        if (rounds++) std::this_thread::sleep_for(200ms);  // the pace of the poll, not a synchronisation
        all = true;
        for (auto& e : expected) {
            e.got = query(prometheus.http_port(), e.promql, e.body);
            all = all && e.got == e.want;
        }
    }
    for (const auto& e : expected)
        BOOST_TEST(e.got.value_or(-1) == e.want,
                   e.promql << " read back " << (e.got ? std::to_string(*e.got) : "nothing") << ": " << e.body);
    if (!all)
        BOOST_TEST_MESSAGE("prometheus log:\n"
                           << prometheus.log() << "\ngood proxy:\n"
                           << good.log() << "\nbad proxy:\n"
                           << bad.log());
    BOOST_TEST_MESSAGE("read back after "
                       << rounds << " polls, "
                       << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
                       << " s from the start");
    std::thread stopping([&] { bad_proxy.reset(); });
    good_proxy.reset();
    stopping.join();
}
