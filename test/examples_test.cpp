// The proxy and https_get examples, run as child processes against servers
// this test runs on 127.0.0.1. The examples' paths follow the Boost.Test
// arguments (after --).
#define BOOST_TEST_MODULE examples
#include <boost/test/unit_test.hpp>

#include "support/common.hpp"
#include "support/tls_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <openssl/pem.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace ssl = asio::ssl;
namespace http = boost::beast::http;

namespace {

// The example whose path ends with "/name", among the arguments after --.
std::string example_path(const std::string& name) {
    auto& suite = boost::unit_test::framework::master_test_suite();
    for (int i = 1; i < suite.argc; ++i) {
        const std::string arg = suite.argv[i];
        if (arg.size() > name.size() && arg.compare(arg.size() - name.size() - 1, std::string::npos, "/" + name) == 0)
            return arg;
    }
    BOOST_FAIL("pass the path of the " + name + " example after --");
    return {};
}

std::string temp_path(const std::string& what) {
    static std::atomic<int> n{0};
    return "/tmp/nettrace-examples-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + "-" + what;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        lines.push_back(text.substr(pos, nl - pos));
        pos = nl + 1;
    }
    return lines;
}

// A child process with its stdout on a pipe and its stderr in a file. Reads
// wait on the pipe with a deadline, so a broken example fails the test
// instead of hanging it; the destructor kills a child still running.
class child {
public:
    explicit child(std::vector<std::string> args) : err_path_(temp_path("stderr")) {
        int fds[2];
        BOOST_REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        out_ = fds[0];
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
        posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        BOOST_REQUIRE_MESSAGE(rc == 0, "posix_spawn " << args[0] << ": " << std::strerror(rc));
    }

    ~child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(out_);
        std::remove(err_path_.c_str());
    }

    child(const child&) = delete;
    child& operator=(const child&) = delete;

    /// The next line of stdout, or nullopt at EOF or when `timeout` passed.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (auto nl = pending_.find('\n'); nl != std::string::npos) {
                std::string line = pending_.substr(0, nl);
                pending_.erase(0, nl + 1);
                return line;
            }
            if (!fill(deadline)) return std::nullopt;
        }
    }

    /// The rest of stdout, up to EOF (the child exiting); false on timeout.
    bool read_rest(std::string& out, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!eof_)
            if (!fill(deadline) && !eof_) return false;
        out = std::move(pending_);
        pending_.clear();
        return true;
    }

    /// The exit status; call after stdout reached EOF. -1 when killed by a signal.
    int wait() {
        int status = 0;
        BOOST_REQUIRE(::waitpid(pid_, &status, 0) == pid_);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

    std::string err() const {
        std::string text;
        if (FILE* f = std::fopen(err_path_.c_str(), "r")) {
            char buf[4096];
            while (std::size_t n = std::fread(buf, 1, sizeof buf, f)) text.append(buf, n);
            std::fclose(f);
        }
        return text;
    }

private:
    // Appends what the pipe has; false at EOF or at the deadline.
    bool fill(std::chrono::steady_clock::time_point deadline) {
        if (eof_) return false;
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left <= 0ms) return false;
        pollfd p{out_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
        char buf[4096];
        const ssize_t n = ::read(out_, buf, sizeof buf);
        if (n <= 0) {
            eof_ = true;
            return false;
        }
        pending_.append(buf, static_cast<std::size_t>(n));
        return true;
    }

    pid_t pid_ = -1;
    int out_ = -1;
    std::string err_path_, pending_;
    bool eof_ = false;
};

struct finished_child {
    int status = -1;
    std::vector<std::string> lines;
    std::string err;
};

finished_child run_to_end(std::vector<std::string> args) {
    child c(std::move(args));
    finished_child r;
    std::string out;
    BOOST_REQUIRE_MESSAGE(c.read_rest(out, 60s), "the example did not exit within 60 s; stderr: " << c.err());
    r.status = c.wait();
    r.lines = split_lines(out);
    r.err = c.err();
    return r;
}

// An io_context on its own thread, for the servers the examples talk to.
// A server stops it before its own members go: nothing of the server runs
// after that.
struct background_io {
    asio::io_context ioc;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{ioc.get_executor()};
    std::thread thread{[this] { ioc.run(); }};
    void stop() {
        if (!thread.joinable()) return;
        work.reset();
        ioc.stop();
        thread.join();
    }
    ~background_io() { stop(); }
};

// Echoes each connection's bytes until the client's EOF, then closes.
class echo_server {
public:
    explicit echo_server(background_io& io) : io_(io), acceptor_(io.ioc, {v4, 0}) {
        asio::co_spawn(acceptor_.get_executor(), accept(), asio::detached);
    }
    ~echo_server() { io_.stop(); }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    int accepted() const { return accepted_; }

private:
    asio::awaitable<void> accept() {
        for (;;) {
            auto [ec, s] = co_await acceptor_.async_accept(asio::as_tuple(asio::deferred));
            if (ec) co_return;
            ++accepted_;
            asio::co_spawn(acceptor_.get_executor(), echo(std::move(s)), asio::detached);
        }
    }
    static asio::awaitable<void> echo(tcp::socket s) {
        char buf[4096];
        for (;;) {
            auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), asio::as_tuple(asio::deferred));
            if (ec) break;
            auto [wec, w] = co_await asio::async_write(s, asio::buffer(buf, n), asio::as_tuple(asio::deferred));
            if (wec) break;
        }
        boost::system::error_code ignored;
        s.shutdown(tcp::socket::shutdown_send, ignored);
    }
    background_io& io_;
    tcp::acceptor acceptor_;
    std::atomic<int> accepted_{0};
};

// Connects to 127.0.0.1:port, sends `message` and half-closes while reading
// all that comes back up to EOF (reading meanwhile, so a long message cannot
// fill every buffer on the way); nullopt when the reply does not end in EOF
// or takes over 10 s. A failed connect or write throws out of run_for.
std::optional<std::string> round_trip(unsigned short port, const std::string& message) {
    using namespace asio::experimental::awaitable_operators;
    asio::io_context ioc;
    std::optional<std::string> result;
    tcp::socket s(ioc);
    std::string got;
    auto send = [&]() -> asio::awaitable<void> {
        co_await asio::async_write(s, asio::buffer(message), asio::deferred);
        s.shutdown(tcp::socket::shutdown_send);
    };
    auto receive = [&]() -> asio::awaitable<void> {
        auto [ec, n] = co_await asio::async_read(s, asio::dynamic_buffer(got), asio::as_tuple(asio::deferred));
        if (ec == asio::error::eof) result = got;
    };
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            co_await s.async_connect({v4, port}, asio::deferred);
            co_await (send() && receive());
        },
        asio::detached);
    ioc.run_for(10s);
    return result;
}

unsigned short listening_port(const std::string& line) {
    std::smatch m;
    static const std::regex re(R"(^listening on 127\.0\.0\.1:(\d+)$)");
    BOOST_REQUIRE_MESSAGE(std::regex_match(line, m, re), "first line: " << line);
    return static_cast<unsigned short>(std::stoul(m[1]));
}

bool has_line(const std::vector<std::string>& lines, const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// --- an HTTPS server on 127.0.0.1 for https_get ---

const nettrace::testing::test_certificate& certificate() {
    static const nettrace::testing::test_certificate cert({"localhost", "IP:127.0.0.1"});
    return cert;
}

// The certificate as a PEM file, removed with this object.
struct pem_file {
    std::string path = temp_path("cert.pem");
    pem_file() {
        FILE* f = std::fopen(path.c_str(), "w");
        BOOST_REQUIRE(f);
        const int ok = PEM_write_X509(f, certificate().x509());
        std::fclose(f);
        BOOST_REQUIRE(ok == 1);
    }
    ~pem_file() { std::remove(path.c_str()); }
};

const std::string hello_body = "hello from the examples test\n";

// Answers every GET with 200 and hello_body; remembers the last request.
class https_server {
public:
    explicit https_server(background_io& io) : io_(io), ssl_(ssl::context::tls_server), acceptor_(io.ioc, {v4, 0}) {
        certificate().use_in(ssl_);
        asio::co_spawn(acceptor_.get_executor(), accept(), asio::detached);
    }
    ~https_server() { io_.stop(); }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    std::string last_request() const {
        std::lock_guard lock(mutex_);
        return last_;
    }

private:
    asio::awaitable<void> accept() {
        for (;;) {
            auto [ec, s] = co_await acceptor_.async_accept(asio::as_tuple(asio::deferred));
            if (ec) co_return;
            asio::co_spawn(acceptor_.get_executor(), serve(std::move(s)), asio::detached);
        }
    }
    asio::awaitable<void> serve(tcp::socket s) {
        ssl::stream<tcp::socket> stream(std::move(s), ssl_);
        auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::deferred));
        if (hec) co_return;  // a client that refused our certificate
        boost::beast::flat_buffer buffer;
        http::request<http::empty_body> req;
        auto [rec, rn] = co_await http::async_read(stream, buffer, req, asio::as_tuple(asio::deferred));
        if (rec) co_return;
        {
            std::lock_guard lock(mutex_);
            last_ = std::string(req.method_string()) + " " + std::string(req.target()) +
                    " host=" + std::string(req[http::field::host]);
        }
        http::response<http::string_body> res{http::status::ok, 11};
        res.set(http::field::content_type, "text/plain");
        res.set(http::field::server, "examples-test");
        res.body() = hello_body;
        res.prepare_payload();
        auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::deferred));
        if (!wec) co_await stream.async_shutdown(asio::as_tuple(asio::deferred));
    }
    background_io& io_;
    ssl::context ssl_;
    tcp::acceptor acceptor_;
    mutable std::mutex mutex_;
    std::string last_;
};

// The proxy example is built with prometheus-cpp only (its metrics are
// prometheus-cpp's); without it, its cases are skipped, except in CI
// (NETTRACE_REQUIRE_PROXIES=1), where they fail for want of its path.
boost::test_tools::assertion_result proxy_example_built(boost::unit_test::test_unit_id) {
    auto& suite = boost::unit_test::framework::master_test_suite();
    bool built = false;
    for (int i = 1; i < suite.argc; ++i) built = built || std::string(suite.argv[i]).ends_with("/proxy");
    const char* required = std::getenv("NETTRACE_REQUIRE_PROXIES");
    boost::test_tools::assertion_result r(built || (required && std::string(required) == "1"));
    if (!r) r.message() << "the proxy example is not built (it needs prometheus-cpp: prometheus-cpp-dev): skipped";
    return r;
}

double number_after(const std::string& line, const std::string& label) {
    std::smatch m;
    const std::regex re(label + R"( ([0-9.]+) ms)");
    BOOST_REQUIRE_MESSAGE(std::regex_search(line, m, re), "no '" << label << " N ms' in: " << line);
    return std::stod(m[1]);
}

}  // namespace

BOOST_AUTO_TEST_CASE(proxy_echoes_through_a_fresh_upstream_dial_per_client_and_exports_metrics,
                     *boost::unit_test::precondition(proxy_example_built)) {
    background_io io;
    echo_server upstream(io);
    const std::string up = "127.0.0.1:" + std::to_string(upstream.port());
    child proxy({example_path("proxy"), "--upstream", up, "--max-clients", "2"});
    const auto first = proxy.read_line(30s);
    BOOST_REQUIRE_MESSAGE(first, "no first line; stderr: " << proxy.err());
    const unsigned short port = listening_port(*first);

    BOOST_TEST(round_trip(port, "first client").value_or("<failed>") == "first client");
    // Many reads and writes each way.
    const std::string big(100000, 'x');
    const auto echoed = round_trip(port, big);
    BOOST_TEST((echoed == big), "echoed " << (echoed ? std::to_string(echoed->size()) + " bytes" : "nothing"));

    std::string rest;
    BOOST_REQUIRE_MESSAGE(proxy.read_rest(rest, 30s), "the proxy did not exit after 2 clients");
    BOOST_TEST(proxy.wait() == 0);
    BOOST_TEST(upstream.accepted() == 2);  // one upstream dial per client

    // One log line per upstream connection, with its timings.
    const auto log = split_lines(proxy.err());
    const std::regex line_re(
        R"(^127\.0\.0\.1:\d+ -> )" + std::regex_replace(up, std::regex(R"(\.)"), R"(\.)") +
        R"( \(127\.0\.0\.1:\d+\): dns 0 ms, connect [0-9.]+ ms \(1 attempt, won by ipv4\), total [0-9.]+ ms$)");
    int timing_lines = 0;
    for (const auto& l : log) timing_lines += std::regex_match(l, line_re);
    BOOST_TEST(timing_lines == 2, proxy.err());

    // The metrics at exit, in the Prometheus text format (prometheus-cpp's
    // serializer; docs/metrics.md lists them).
    const auto metrics = split_lines(rest);
    BOOST_TEST(has_line(metrics, "# TYPE nettrace_dial_duration_seconds histogram"), rest);
    BOOST_TEST(has_line(metrics, "nettrace_dial_duration_seconds_count 2"), rest);
    BOOST_TEST(has_line(metrics, R"(nettrace_dial_duration_seconds_bucket{le="+Inf"} 2)"), rest);
    BOOST_TEST(has_line(metrics, R"(nettrace_connect_duration_seconds_count{network_type="ipv4"} 2)"), rest);
    BOOST_TEST(has_line(metrics, R"(nettrace_connect_attempts_total{nettrace_outcome="won",network_type="ipv4"} 2)"),
               rest);
    BOOST_TEST(has_line(metrics, "nettrace_active_dials 0"), rest);
    BOOST_TEST(rest.find("nettrace_dial_errors_total") == std::string::npos, rest);  // no failure, no series
    // An IP literal upstream has no lookup to observe.
    BOOST_TEST(has_line(metrics, "dns_lookup_duration_seconds_count 0"), rest);
    // Buckets are cumulative: never decreasing, ending at the count.
    const std::regex bucket_re(R"(^nettrace_connect_duration_seconds_bucket\{network_type="ipv4",le="[^"]+"\} (\d+)$)");
    std::vector<int> buckets;
    for (const auto& l : metrics)
        if (std::smatch m; std::regex_match(l, m, bucket_re)) buckets.push_back(std::stoi(m[1]));
    BOOST_REQUIRE(buckets.size() >= 2u);
    BOOST_TEST(std::is_sorted(buckets.begin(), buckets.end()));
    BOOST_TEST(buckets.back() == 2);
}

BOOST_AUTO_TEST_CASE(proxy_logs_a_refused_upstream_and_closes_the_client,
                     *boost::unit_test::precondition(proxy_example_built)) {
    nettrace::testing::refused_port refused(v4);
    child proxy(
        {example_path("proxy"), "--upstream", "127.0.0.1:" + std::to_string(refused.port()), "--max-clients", "1"});
    const auto first = proxy.read_line(30s);
    BOOST_REQUIRE_MESSAGE(first, "no first line; stderr: " << proxy.err());
    // The client gets EOF and nothing else.
    // (It sends nothing: closing a socket with unread data would reset the
    // connection instead.)
    BOOST_TEST(round_trip(listening_port(*first), "").value_or("<failed>") == "");
    std::string rest;
    BOOST_REQUIRE(proxy.read_rest(rest, 30s));
    BOOST_TEST(proxy.wait() == 0);
    const auto err = proxy.err();
    BOOST_TEST(err.find("(1 attempt), total ") != std::string::npos, err);
    BOOST_TEST(err.find(", error: " + asio::error::make_error_code(asio::error::connection_refused).message()) !=
                   std::string::npos,
               err);
    const auto metrics = split_lines(rest);
    BOOST_TEST(has_line(metrics, R"(nettrace_dial_errors_total{error_type="connection_refused"} 1)"), rest);
    BOOST_TEST(has_line(metrics, R"(nettrace_dial_duration_seconds_count{error_type="connection_refused"} 1)"), rest);
    BOOST_TEST(has_line(metrics, R"(nettrace_connect_attempts_total{nettrace_outcome="failed",network_type="ipv4"} 1)"),
               rest);
}

BOOST_AUTO_TEST_CASE(https_get_fetches_from_a_trusted_server_and_shows_a_tls_phase) {
    background_io io;
    https_server server(io);
    pem_file cert;
    const std::string port = std::to_string(server.port());
    const auto r = run_to_end({example_path("https_get"), "--cafile", cert.path, "--resolve",
                               "localhost:" + port + ":127.0.0.1", "https://localhost:" + port + "/hello"});
    BOOST_TEST(r.status == 0, r.err);
    BOOST_REQUIRE(!r.lines.empty());
    BOOST_TEST(r.lines.front() == "HTTP/1.1 200 OK");
    BOOST_TEST(has_line(r.lines, "Content-Type: text/plain"));
    BOOST_TEST(has_line(r.lines, "body: " + std::to_string(hello_body.size()) + " bytes"));
    BOOST_TEST(server.last_request() == "GET /hello host=localhost:" + port);

    const std::string& timing = r.lines.back();
    const std::regex timing_re(
        R"(^dns [0-9.]+ ms, connect [0-9.]+ ms \(1 attempt, won by ipv4\), tls [0-9.]+ ms, total [0-9.]+ ms, first byte at [0-9.]+ ms$)");
    BOOST_TEST(std::regex_match(timing, timing_re), timing);
    const double tls = number_after(timing, "tls"), total = number_after(timing, "total");
    BOOST_TEST(tls > 0.0, timing);
    BOOST_TEST(total >= tls, timing);
    BOOST_TEST(number_after(timing, "first byte at") >= total, timing);
}

BOOST_AUTO_TEST_CASE(https_get_without_the_cafile_fails_verification_and_says_so) {
    background_io io;
    https_server server(io);
    const std::string port = std::to_string(server.port());
    const auto r = run_to_end({example_path("https_get"), "--resolve", "localhost:" + port + ":127.0.0.1",
                               "https://localhost:" + port + "/hello"});
    BOOST_TEST(r.status != 0);
    BOOST_TEST(r.err.find("certificate verify failed") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("--cafile") != std::string::npos, r.err);
    BOOST_TEST(!has_line(r.lines, "HTTP/1.1 200 OK"));
    BOOST_TEST(server.last_request().empty());  // no request went out

    // --insecure skips the check against the same server.
    const auto insecure = run_to_end({example_path("https_get"), "--insecure", "--resolve",
                                      "localhost:" + port + ":127.0.0.1", "https://localhost:" + port + "/"});
    BOOST_TEST(insecure.status == 0, insecure.err);
    BOOST_TEST(has_line(insecure.lines, "HTTP/1.1 200 OK"));
    BOOST_TEST(server.last_request() == "GET / host=localhost:" + port);
}
