// HTTP GET over TLS: nettrace::dial_tls connects (Happy Eyeballs, SNI, peer
// verification) and Boost.Beast speaks HTTP on the stream it returns; then
// the phases of the connection, as curl -w would show them.
//
//   https_get [--cafile FILE] [--insecure] [--resolve HOST:PORT:ADDR] URL
//
//   URL                    https://host[:port][/path]
//   --cafile FILE          trust the PEM certificates in FILE instead of the system's
//   --insecure             do not verify the server's certificate or name
//   --resolve H:P:ADDR     use ADDR for host H on port P, as curl does
//
// Prints the status line, a few headers, the body's size, then e.g.
//   dns 0.35 ms, connect 0.21 ms (1 attempt, won by ipv4), tls 3.1 ms, total 3.8 ms, first byte at 4.6 ms
// Exit status: 0 when a response arrived, 1 when the request failed, 2 for bad usage.
#include <nettrace/nettrace.hpp>
#include <nettrace/tls.hpp>

#include "resolve_spec.hpp"  // tools/: nettrace-dial's --resolve parser

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace http = boost::beast::http;
using clock_type = std::chrono::steady_clock;

namespace {

struct config {
    std::string url;
    std::string address;  // host:port, as dial_tls takes it
    std::string host;     // without brackets: SNI and verification
    std::uint16_t port = 443;
    std::string target = "/";
    std::string cafile;
    bool insecure = false;
    std::vector<nettrace::tool::pin> pins;
};

using usage_error = nettrace::tool::usage_error;

void parse_url(config& cfg) {
    constexpr std::string_view scheme = "https://";
    std::string_view rest = cfg.url;
    if (rest.substr(0, scheme.size()) != scheme) throw usage_error(cfg.url + ": only https:// URLs");
    rest.remove_prefix(scheme.size());
    const auto slash = rest.find('/');
    std::string authority(rest.substr(0, slash));
    if (slash != std::string_view::npos) cfg.target = rest.substr(slash);
    // No port: the last ':' is absent, or part of a bracketed IPv6 address.
    const auto colon = authority.rfind(':');
    if (colon == std::string::npos || authority.find(']', colon) != std::string::npos) authority += ":443";
    boost::system::error_code ec;
    const auto hp = nettrace::parse_host_port(authority, ec);
    if (!hp) throw usage_error(cfg.url + ": " + ec.message());
    cfg.address = authority;
    cfg.host = hp->host;
    cfg.port = hp->port;
}

config parse_args(int argc, char** argv) {
    config cfg;
    auto value = [&](int& i) -> std::string {
        if (i + 1 >= argc) throw usage_error(std::string(argv[i]) + " needs a value");
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--cafile")
            cfg.cafile = value(i);
        else if (arg == "--insecure")
            cfg.insecure = true;
        else if (arg == "--resolve")
            cfg.pins.push_back(nettrace::tool::parse_resolve(value(i)));
        else if (arg.starts_with("-"))
            throw usage_error("unknown option " + std::string(arg));
        else if (cfg.url.empty())
            cfg.url = arg;
        else
            throw usage_error("more than one URL");
    }
    if (cfg.url.empty()) throw usage_error("no URL");
    parse_url(cfg);
    return cfg;
}

// --resolve pins a host on one port only, as curl's does; other names go to
// the system resolver.
nettrace::dialer make_dialer(const config& cfg) {
    nettrace::dial_options options;
    options.timeout = std::chrono::seconds(30);  // covers the handshake too
    std::vector<std::pair<std::string, std::vector<asio::ip::address>>> table;
    for (const auto& p : cfg.pins)
        if (p.port == cfg.port) table.emplace_back(p.host, p.addrs);
    for (const auto& p : cfg.pins)
        if (p.port != cfg.port)
            std::cerr << "https_get: warning: --resolve " << p.spec << " is for another port than " << cfg.address
                      << "; ignored\n";
    if (!table.empty())
        options.resolver = nettrace::make_static_resolver(std::move(table), nettrace::make_system_resolver());
    return nettrace::dialer(options);
}

// As nettrace::timings prints its phases.
std::string ms(clock_type::duration d) {
    const double value = std::chrono::duration<double, std::milli>(d).count();
    char buf[32];
    std::snprintf(buf, sizeof buf, value < 1.0 ? "%.2f ms" : "%.1f ms", value);
    return buf;
}

// How long the request and response may take, after the dial and handshake.
constexpr auto request_timeout = std::chrono::seconds(30);

asio::awaitable<int> exchange(const config& cfg, nettrace::tls_stream& stream, clock_type::time_point start,
                              const nettrace::timings& t);

asio::awaitable<int> get(const config& cfg, ssl::context& ssl_ctx) {
    // Two layers: with_timings for the phases, and a hook of our own for the
    // one thing timings leaves out, why verification failed.
    nettrace::timings t;
    std::string verify_error;
    nettrace::client_trace trace;
    trace.tls_handshake_done = [&](const nettrace::tls_handshake_done_info& i) { verify_error = i.verify_error; };
    const auto ctx = nettrace::with_timings(nettrace::with_client_trace({}, trace), t);

    nettrace::tls_options tls;
    tls.verify_peer = !cfg.insecure;
    tls.alpn = {"http/1.1"};
    const auto start = clock_type::now();
    const nettrace::tls_dialer dialer(ssl_ctx, tls, make_dialer(cfg));
    auto [ec, stream] = co_await dialer.dial(ctx, "tcp", cfg.address, asio::as_tuple(asio::deferred));
    if (ec) {
        std::cerr << "https_get: " << cfg.url << ": " << ec.message();
        if (!verify_error.empty()) std::cerr << " (" << verify_error << ")";
        if (!verify_error.empty() && cfg.cafile.empty())
            std::cerr
                << "\nhttps_get: trust the server's certificate with --cafile FILE, or skip checks with --insecure";
        std::cerr << '\n' << t << '\n';
        co_return 1;
    }

    // The dialer's timeout ended with the handshake; one deadline bounds the
    // rest, so a server that stalls after TLS cannot hang us. Closing the
    // socket fails whatever operation is pending.
    bool timed_out = false;
    asio::steady_timer deadline(co_await asio::this_coro::executor, start + request_timeout);
    deadline.async_wait([&](boost::system::error_code e) {
        if (e) return;  // cancelled: the request finished first
        timed_out = true;
        boost::system::error_code ignored;
        stream.lowest_layer().close(ignored);
    });
    try {
        co_return co_await exchange(cfg, stream, start, t);
    } catch (const boost::system::system_error& e) {
        if (!timed_out) throw;
        std::cerr << "https_get: " << cfg.url << ": no complete response within "
                  << std::chrono::duration_cast<std::chrono::seconds>(request_timeout).count() << " s\n";
        co_return 1;
    }
}

// The request and its response, on a handshaken stream.
asio::awaitable<int> exchange(const config& cfg, nettrace::tls_stream& stream, clock_type::time_point start,
                              const nettrace::timings& t) {
    http::request<http::empty_body> req{http::verb::get, cfg.target, 11};
    req.set(http::field::host, cfg.port == 443 ? cfg.address.substr(0, cfg.address.rfind(':')) : cfg.address);
    req.set(http::field::user_agent, "nettrace-https_get");
    req.set(http::field::connection, "close");
    co_await http::async_write(stream, req, asio::deferred);

    // Read the first bytes by hand to time them (curl's time_starttransfer);
    // Beast's parser takes over from the buffer.
    boost::beast::flat_buffer buffer;
    buffer.commit(co_await stream.async_read_some(buffer.prepare(16 * 1024), asio::deferred));
    const auto first_byte = clock_type::now() - start;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::deferred));
    // A body that runs to the end of the connection, closed without TLS's
    // close_notify: what arrived is the body (as browsers and curl take it).
    if (ec == ssl::error::stream_truncated) parser.put_eof(ec);
    if (ec) throw boost::system::system_error(ec, "reading the response");
    const auto& res = parser.get();

    std::cout << "HTTP/" << res.version() / 10 << '.' << res.version() % 10 << ' ' << res.result_int() << ' '
              << res.reason() << '\n';
    for (const auto field : {http::field::content_type, http::field::content_length, http::field::server})
        if (auto it = res.find(field); it != res.end()) std::cout << it->name_string() << ": " << it->value() << '\n';
    std::cout << "body: " << res.body().size() << " bytes\n";
    std::cout << t << ", first byte at " << ms(first_byte) << std::endl;

    // Many servers close without a TLS close_notify; the response is complete either way.
    co_await stream.async_shutdown(asio::as_tuple(asio::deferred));
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    config cfg;
    try {
        cfg = parse_args(argc, argv);
    } catch (const usage_error& e) {
        std::cerr << "https_get: " << e.what()
                  << "\nusage: https_get [--cafile FILE] [--insecure] [--resolve HOST:PORT:ADDR] URL\n";
        return 2;
    }

    ssl::context ssl_ctx(ssl::context::tls_client);
    try {
        if (cfg.cafile.empty())
            ssl_ctx.set_default_verify_paths();
        else
            ssl_ctx.load_verify_file(cfg.cafile);
    } catch (const boost::system::system_error& e) {
        std::cerr << "https_get: --cafile " << cfg.cafile << ": " << e.what() << '\n';
        return 2;
    }

    asio::io_context ioc;
    int status = 1;
    asio::co_spawn(ioc, get(cfg, ssl_ctx), [&](std::exception_ptr e, int rc) {
        status = rc;
        if (e) try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                std::cerr << "https_get: " << cfg.url << ": " << ex.what() << '\n';
                status = 1;
            }
    });
    ioc.run();
    return status;
}
