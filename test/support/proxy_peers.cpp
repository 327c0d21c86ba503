// The proxy tests' peers and fixture (proxy_peers.hpp).
#include "proxy_peers.hpp"

#include <nettrace/export.hpp>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <optional>
#include <sstream>

namespace nettrace::testing {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

// --- echo_server -------------------------------------------------------------

struct echo_server::state : std::enable_shared_from_this<state> {
    state(asio::io_context& ioc, std::string g) : v4(ioc), v6(ioc), greeting(std::move(g)) {}
    tcp::acceptor v4, v6;
    std::string greeting;

    void accept(tcp::acceptor& a) {
        a.async_accept([self = shared_from_this(), &a](error_code ec, tcp::socket s) {
            if (ec) return;
            auto conn = std::make_shared<tcp::socket>(std::move(s));
            if (!self->greeting.empty())
                asio::async_write(*conn, asio::buffer(self->greeting), [conn](error_code, std::size_t) {});
            echo(conn, std::make_shared<std::array<char, 4096>>());
            self->accept(a);
        });
    }
    static void echo(std::shared_ptr<tcp::socket> conn, std::shared_ptr<std::array<char, 4096>> buf) {
        conn->async_read_some(asio::buffer(*buf), [conn, buf](error_code ec, std::size_t n) {
            if (ec) return;
            asio::async_write(*conn, asio::buffer(buf->data(), n), [conn, buf](error_code ec, std::size_t) {
                if (!ec) echo(conn, buf);
            });
        });
    }
};

echo_server::echo_server(asio::io_context& ioc, std::string greeting)
    : state_(std::make_shared<state>(ioc, std::move(greeting))) {
    // One port on both families: the v4 listener picks it, ::1 takes it too
    // (retrying while another program holds it on ::1).
    for (int attempt = 0; attempt < 20; ++attempt) {
        tcp::acceptor v4(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        tcp::acceptor v6(ioc);
        error_code ec;
        v6.open(tcp::v6(), ec);
        if (!ec) v6.set_option(asio::ip::v6_only(true), ec);
        if (!ec) v6.bind(tcp::endpoint(asio::ip::make_address("::1"), v4.local_endpoint().port()), ec);
        if (!ec) v6.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) continue;
        port_ = v4.local_endpoint().port();
        state_->v4 = std::move(v4);
        state_->v6 = std::move(v6);
        state_->accept(state_->v4);
        state_->accept(state_->v6);
        return;
    }
    throw std::runtime_error("echo_server: no port free on both 127.0.0.1 and ::1");
}

echo_server::~echo_server() {
    // Closed on the servers' thread's terms: post, since that thread may be
    // inside the accept handler right now.
    asio::post(state_->v4.get_executor(), [s = state_] {
        error_code ignored;
        s->v4.close(ignored);
        s->v6.close(ignored);
    });
}

// --- scripted_proxy ----------------------------------------------------------

struct scripted_proxy::state : std::enable_shared_from_this<state> {
    state(asio::io_context& ioc, std::string r, bool c, std::string t)
        : acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
          reply(std::move(r)),
          close_after(c),
          then(std::move(t)) {}
    tcp::acceptor acceptor;
    std::string reply;
    bool close_after;
    std::string then;
    std::vector<std::shared_ptr<tcp::socket>> held;  // a silent proxy keeps its connections

    void accept() {
        acceptor.async_accept([self = shared_from_this()](error_code ec, tcp::socket s) {
            if (ec) return;
            auto conn = std::make_shared<tcp::socket>(std::move(s));
            self->held.push_back(conn);
            self->answer(conn, self->reply, !self->then.empty());
            self->accept();
        });
    }
    void answer(std::shared_ptr<tcp::socket> conn, const std::string& text, bool more) {
        auto buf = std::make_shared<std::array<char, 4096>>();
        conn->async_read_some(
            asio::buffer(*buf), [self = shared_from_this(), conn, buf, &text, more](error_code ec, std::size_t) {
                if (ec || text.empty()) return;
                asio::async_write(*conn, asio::buffer(text), [self, conn, more](error_code ec, std::size_t) {
                    if (ec) return;
                    if (more) return self->answer(conn, self->then, false);
                    if (self->close_after) conn->close(ec);
                });
            });
    }
};

scripted_proxy::scripted_proxy(asio::io_context& ioc, std::string reply, bool close_after, std::string then)
    : state_(std::make_shared<state>(ioc, std::move(reply), close_after, std::move(then))) {
    port_ = state_->acceptor.local_endpoint().port();
    state_->accept();
}

scripted_proxy::~scripted_proxy() {
    asio::post(state_->acceptor.get_executor(), [s = state_] {
        error_code ignored;
        s->acceptor.close(ignored);
        for (auto& c : s->held) c->close(ignored);
    });
}

// --- proxy_fixture -----------------------------------------------------------

proxy_fixture::proxy_fixture() : servers_thread([this] { servers.run(); }) {}

proxy_fixture::~proxy_fixture() {
    work.reset();
    servers.stop();
    servers_thread.join();
}

dial_options proxy_fixture::via(const std::string& url) {
    dial_options o;
    o.proxy = proxy(url);
    o.timeout = std::chrono::seconds(10);  // a test that hangs fails instead
    return o;
}

context proxy_fixture::trace_context() {
    rec = trace_recorder{};
    record = {};
    return with_recording(rec.attach(), record);
}

proxy_fixture::result proxy_fixture::dial(const dial_options& o, const std::string& address,
                                          const std::string& network) {
    std::optional<result> out;
    const auto started = std::chrono::steady_clock::now();
    dialer(o).dial(client.get_executor(), trace_context(), network, address, [&](error_code ec, tcp::socket s) {
        rec.completed();
        out.emplace(result{ec, std::move(s), std::chrono::steady_clock::now() - started});
    });
    client.restart();
    while (!out && client.run_one_for(std::chrono::seconds(30))) {}
    BOOST_REQUIRE_MESSAGE(out, "the dial of " << address << " did not complete");
    rec.check_contract();
    return std::move(*out);
}

proxy_fixture::tls_result proxy_fixture::dial_tls(const dial_options& o, asio::ssl::context& ssl,
                                                  const std::string& address) {
    std::optional<tls_result> out;
    const tls_dialer d(ssl, tls_options{}, dialer(o));
    d.dial(client.get_executor(), trace_context(), "tcp", address, [&](error_code ec, tls_stream s) {
        rec.completed();
        out.emplace(tls_result{ec, std::make_unique<tls_stream>(std::move(s))});
    });
    client.restart();
    while (!out && client.run_one_for(std::chrono::seconds(30))) {}
    BOOST_REQUIRE_MESSAGE(out, "the TLS dial of " << address << " did not complete");
    rec.check_contract();
    return std::move(*out);
}

std::string proxy_fixture::echo_round_trip(tcp::socket& s) {
    asio::write(s, asio::buffer(std::string("ping")));
    return read_exactly(s, 4);
}

void proxy_fixture::require_echo(result& r, const std::string& log) {
    BOOST_REQUIRE_MESSAGE(!r.error, r.error.message() << (log.empty() ? "" : "\n") << log);
    BOOST_TEST(echo_round_trip(r.socket) == "ping");
}

std::string proxy_fixture::read_exactly(tcp::socket& s, std::size_t n) {
    std::string data(n, '\0');
    error_code ec;
    asio::read(s, asio::buffer(data), ec);
    return ec ? "error: " + ec.message() : data;
}

bool proxy_fixture::trace_mentions(const std::string& secret) const {
    std::ostringstream all;
    for (const auto& e : rec.events()) all << e.description << e.proxy << e.target << e.reason << '\n';
    write_json_lines(all, record);
    write_chrome_trace(all, record);
    write_svg_waterfall(all, std::span(&record, 1));
    return all.str().find(secret) != std::string::npos;
}

}  // namespace nettrace::testing
