// dial_tls against a loopback TLS server whose self-signed certificate the
// test makes at run time. Host names are pinned to 127.0.0.1 with a static
// resolver; nothing leaves loopback.
#define BOOST_TEST_MODULE tls
#include <boost/test/unit_test.hpp>

#include <nettrace/nettrace.hpp>
#include <nettrace/tls.hpp>

#include "support/common.hpp"
#include "support/tls_server.hpp"
#include "support/trace_recorder.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <openssl/x509_vfy.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>

namespace ssl = asio::ssl;
using nettrace::testing::test_certificate;
using nettrace::testing::tls_server;
using nettrace::testing::trace_recorder;

namespace {

const test_certificate& certificate() {
    static const test_certificate cert({"localhost", "tls.test", "IP:127.0.0.1"});
    return cert;
}

ssl::context trusting_client() {
    ssl::context c(ssl::context::tls_client);
    certificate().trust_in(c);
    return c;
}

nettrace::dialer pinned(nettrace::dial_options o = {}) {
    o.resolver = nettrace::make_static_resolver({{"tls.test", {v4}}, {"other.test", {v4}}, {"hole.test", {v4_other}}});
    return nettrace::dialer(o);
}

struct tls_result {
    error_code ec;
    std::optional<nettrace::tls_stream> stream;
    std::chrono::steady_clock::duration elapsed{};
};

tls_result run_tls(asio::io_context& ioc, const nettrace::dialer& d, trace_recorder& rec, const std::string& address,
                   ssl::context& client, const nettrace::tls_options& o = {}) {
    tls_result r;
    const auto start = std::chrono::steady_clock::now();
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            const nettrace::tls_dialer tls(client, o, d);  // named: see default_deferred_token_returns_the_stream
            auto [ec, s] = co_await tls.dial(rec.attach(), "tcp", address, asio::as_tuple(asio::use_awaitable));
            rec.completed();
            r.elapsed = std::chrono::steady_clock::now() - start;
            r.ec = ec;
            if (!ec) r.stream.emplace(std::move(s));
            ioc.stop();  // servers keep accepting
        },
        asio::detached);
    ioc.run();
    ioc.restart();
    return r;
}

// The trace contract with the TLS hooks: dial_start first, dial_done last;
// every handshake pair belongs to an attempt whose TCP connect had ended
// before it started (connect_done: `connected` in the race, `won` without
// it); `handshakes` pairs in all.
void check_tls_contract(const trace_recorder& rec, std::size_t handshakes = 1) {
    rec.check_contract();
    BOOST_TEST(rec.count("tls_handshake_start") == handshakes);
    BOOST_TEST(rec.count("tls_handshake_done") == handshakes);
    const auto ev = rec.events();
    for (std::size_t i = 0; i < ev.size(); ++i) {
        if (ev[i].kind != "tls_handshake_start") continue;
        const auto before = std::find_if(ev.begin(), ev.begin() + static_cast<std::ptrdiff_t>(i), [&](const auto& e) {
            return e.kind == "connect_done" && e.attempt == ev[i].attempt &&
                   (e.outcome == nettrace::connect_outcome::connected || e.outcome == nettrace::connect_outcome::won);
        });
        BOOST_TEST((before != ev.begin() + static_cast<std::ptrdiff_t>(i)),
                   "tls_handshake_start of attempt " << ev[i].attempt << " without its connect_done before it");
    }
}

bool is_verify_failure(const error_code& ec) {
    return ec.category() == asio::error::get_ssl_category() &&
           ec.message().find("certificate verify failed") != std::string::npos;
}

// An io_context, a client context that trusts the test certificate, and a
// recorder; dial() runs one traced dial_tls on them.
struct tls_client {
    asio::io_context ioc;
    ssl::context client = trusting_client();
    trace_recorder rec;

    tls_result dial(const nettrace::dialer& d, const std::string& address, const nettrace::tls_options& o = {}) {
        return run_tls(ioc, d, rec, address, client, o);
    }
};

// ... and a TLS server on 127.0.0.1 presenting the test certificate.
struct tls_peer : tls_client {
    tls_server server{ioc.get_executor(), v4, certificate()};

    std::string tls_test() const { return host_port("tls.test", server.port()); }
};

}  // namespace

// ---------------------------------------------------------------------------
// Verification

BOOST_AUTO_TEST_SUITE(verification)

BOOST_FIXTURE_TEST_CASE(handshake_succeeds_with_verification_against_a_trusted_certificate, tls_peer) {
    auto r = dial(pinned(), tls_test());
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_REQUIRE(r.stream);
    BOOST_TEST(r.stream->lowest_layer().is_open());
    BOOST_TEST(r.stream->lowest_layer().remote_endpoint().port() == server.port());
    BOOST_TEST((r.stream->lowest_layer().get_executor() == asio::any_io_executor(ioc.get_executor())));
    // SNI was sent.
    const char* sni = SSL_get_servername(r.stream->native_handle(), TLSEXT_NAMETYPE_host_name);
    BOOST_TEST((sni != nullptr && std::string(sni) == "tls.test"));

    const auto start = rec.of("tls_handshake_start");
    const auto done = rec.of("tls_handshake_done");
    BOOST_REQUIRE(start.size() == 1u);
    BOOST_REQUIRE(done.size() == 1u);
    BOOST_TEST(start[0].server_name == "tls.test");
    BOOST_TEST(start[0].endpoint == tcp::endpoint(v4, server.port()));
    BOOST_TEST(!done[0].error);
    BOOST_TEST(done[0].server_name == "tls.test");
    BOOST_TEST(done[0].endpoint == tcp::endpoint(v4, server.port()));
    BOOST_TEST(!done[0].version.empty());
    BOOST_TEST(done[0].version.rfind("TLSv1.", 0) == 0u, done[0].version);
    BOOST_TEST(!done[0].cipher.empty());
    BOOST_TEST(done[0].alpn.empty());
    BOOST_TEST(!done[0].resumed);
    BOOST_TEST(done[0].verify_error.empty());
    check_tls_contract(rec);
}

BOOST_FIXTURE_TEST_CASE(ip_literal_is_verified_against_the_ip_san_without_sni, tls_peer) {
    auto r = dial(nettrace::dialer(), host_port("127.0.0.1", server.port()));
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_REQUIRE(r.stream);
    BOOST_TEST(SSL_get_servername(r.stream->native_handle(), TLSEXT_NAMETYPE_host_name) == nullptr);
    BOOST_TEST(rec.of("tls_handshake_start").at(0).server_name == "127.0.0.1");
    check_tls_contract(rec);
}

BOOST_FIXTURE_TEST_CASE(wrong_name_fails_with_a_verification_error, tls_peer) {
    auto r = dial(pinned(), host_port("other.test", server.port()));
    BOOST_TEST(is_verify_failure(r.ec), r.ec.message());
    BOOST_TEST(!r.stream);
    const auto done = rec.of("tls_handshake_done");
    BOOST_REQUIRE(done.size() == 1u);
    BOOST_TEST(done[0].error == r.ec);
    BOOST_TEST(done[0].server_name == "other.test");
    BOOST_TEST(done[0].verify_error == X509_verify_cert_error_string(X509_V_ERR_HOSTNAME_MISMATCH));
    BOOST_TEST(done[0].version.empty());
    BOOST_TEST(done[0].cipher.empty());
    // The dial fails with the handshake's error, and says which and why.
    const auto dial_done = rec.of("dial_done").at(0);
    BOOST_TEST(dial_done.error == r.ec);
    BOOST_TEST(dial_done.description.find("tls handshake with 127.0.0.1:" + std::to_string(server.port())) !=
                   std::string::npos,
               dial_done.description);
    BOOST_TEST(
        dial_done.description.find(X509_verify_cert_error_string(X509_V_ERR_HOSTNAME_MISMATCH)) != std::string::npos,
        dial_done.description);
    check_tls_contract(rec);
}

BOOST_FIXTURE_TEST_CASE(server_name_option_overrides_the_host, tls_peer) {
    nettrace::tls_options o;
    o.server_name = "tls.test";
    auto r = dial(pinned(), host_port("other.test", server.port()), o);
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_TEST(rec.of("tls_handshake_done").at(0).server_name == "tls.test");
    check_tls_contract(rec);
}

BOOST_FIXTURE_TEST_CASE(untrusted_certificate_fails_and_closes_the_socket, tls_peer) {
    ssl::context untrusting(ssl::context::tls_client);  // trusts nothing
    auto r = run_tls(ioc, pinned(), rec, tls_test(), untrusting);
    BOOST_TEST(is_verify_failure(r.ec), r.ec.message());
    const auto done = rec.of("tls_handshake_done");
    BOOST_REQUIRE(done.size() == 1u);
    BOOST_TEST(done[0].error == r.ec);
    BOOST_TEST(!done[0].verify_error.empty());
    check_tls_contract(rec);
}

BOOST_FIXTURE_TEST_CASE(failed_handshake_hands_back_a_closed_stream, tls_peer) {
    ssl::context untrusting(ssl::context::tls_client);
    error_code result;
    bool open = true;
    nettrace::tls_dialer(untrusting, {}, pinned())
        .dial(ioc.get_executor(), {}, "tcp", tls_test(), [&](error_code ec, nettrace::tls_stream s) {
            result = ec;
            open = s.lowest_layer().is_open();
            ioc.stop();
        });
    ioc.run();
    BOOST_TEST(is_verify_failure(result), result.message());
    BOOST_TEST(!open);
}

BOOST_FIXTURE_TEST_CASE(verify_peer_false_accepts_an_untrusted_certificate, tls_peer) {
    ssl::context untrusting(ssl::context::tls_client);
    untrusting.set_verify_mode(ssl::verify_peer);  // the option overrides the context
    nettrace::tls_options o;
    o.verify_peer = false;
    auto r = run_tls(ioc, pinned(), rec, host_port("other.test", server.port()), untrusting, o);
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_REQUIRE(r.stream);
    BOOST_TEST(!rec.of("tls_handshake_done").at(0).version.empty());
    check_tls_contract(rec);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// ALPN

BOOST_AUTO_TEST_SUITE(alpn)

BOOST_FIXTURE_TEST_CASE(alpn_h2_is_negotiated_when_the_server_selects_it, tls_client) {
    tls_server server(ioc.get_executor(), v4, certificate(), {{"h2", "http/1.1"}});
    nettrace::tls_options o;
    o.alpn = {"http/1.1", "h2"};
    auto r = dial(pinned(), host_port("tls.test", server.port()), o);
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_TEST(rec.of("tls_handshake_done").at(0).alpn == "h2");
    check_tls_contract(rec);
}

BOOST_FIXTURE_TEST_CASE(no_alpn_when_the_server_selects_none, tls_peer) {
    nettrace::tls_options o;
    o.alpn = {"h2"};
    auto r = dial(pinned(), tls_test(), o);
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_TEST(rec.of("tls_handshake_done").at(0).alpn.empty());
}

BOOST_FIXTURE_TEST_CASE(invalid_alpn_protocol_fails_before_dialing, tls_client) {
    nettrace::tls_options o;
    o.alpn = {""};
    auto r = dial(pinned(), "tls.test:1", o);
    BOOST_TEST(r.ec == asio::error::invalid_argument);
    // Refused before any DNS or connect: the dial's own pair only.
    const auto ev = rec.events();
    BOOST_REQUIRE(ev.size() == 2u);
    BOOST_TEST(ev[0].kind == "dial_start");
    BOOST_TEST(ev[1].kind == "dial_done");
    BOOST_TEST(ev[1].error == asio::error::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Failures, timeouts and cancellation, before and during the handshake

BOOST_AUTO_TEST_SUITE(failures_timeouts_and_cancellation)

BOOST_FIXTURE_TEST_CASE(silent_server_times_out_at_the_dialers_timeout, tls_client) {
    nettrace::testing::live_listener silent(ioc.get_executor(), v4);  // accepts TCP, never speaks TLS
    nettrace::dial_options opts;
    opts.timeout = 300ms;
    auto r = dial(pinned(opts), host_port("tls.test", silent.port()));
    BOOST_TEST(r.ec == nettrace::error::timeout, r.ec.message());
    BOOST_TEST(ms(r.elapsed) >= 299.0, "took " << ms(r.elapsed) << " ms");
    BOOST_TEST(ms(r.elapsed) < 1000.0, "took " << ms(r.elapsed) << " ms");
    const auto done = rec.of("tls_handshake_done");
    BOOST_REQUIRE(done.size() == 1u);
    // The attempt was cancelled by the dial's timeout, which dial_done names.
    BOOST_TEST((done[0].outcome == nettrace::connect_outcome::cancelled));
    BOOST_TEST(done[0].error == asio::error::operation_aborted);
    BOOST_TEST(rec.of("dial_done").at(0).error == nettrace::error::timeout);
    check_tls_contract(rec);
}

BOOST_FIXTURE_TEST_CASE(timeout_during_the_dial_fires_no_tls_hooks, tls_client) {
    nettrace::testing::black_hole hole(v4_other);
    nettrace::dial_options opts;
    opts.timeout = 200ms;
    auto r = dial(pinned(opts), host_port("hole.test", hole.port()));
    BOOST_TEST(r.ec == nettrace::error::timeout, r.ec.message());
    check_tls_contract(rec, 0);
}

BOOST_AUTO_TEST_CASE(cancellation_during_the_handshake_completes_promptly) {
    for (auto type :
         {asio::cancellation_type::terminal, asio::cancellation_type::partial, asio::cancellation_type::total}) {
        asio::io_context ioc;
        nettrace::testing::live_listener silent(ioc.get_executor(), v4);
        auto client = trusting_client();
        trace_recorder rec;
        asio::cancellation_signal signal;
        error_code result;
        bool open = true;
        std::chrono::steady_clock::time_point cancelled_at, completed_at;
        asio::steady_timer timer(ioc);
        auto ctx = rec.attach();
        nettrace::client_trace t;
        t.tls_handshake_start = [&](const nettrace::tls_handshake_start_info&) {
            timer.expires_after(100ms);
            timer.async_wait([&](error_code) {
                cancelled_at = std::chrono::steady_clock::now();
                signal.emit(type);
            });
        };
        nettrace::tls_dialer(client, {}, pinned())
            .dial(ioc.get_executor(), nettrace::with_client_trace(ctx, t), "tcp", host_port("tls.test", silent.port()),
                  asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, nettrace::tls_stream s) {
                      rec.completed();
                      completed_at = std::chrono::steady_clock::now();
                      result = ec;
                      open = s.lowest_layer().is_open();
                      ioc.stop();
                  }));
        ioc.run();
        BOOST_TEST(result == asio::error::operation_aborted, result.message());
        BOOST_TEST(!open);
        BOOST_TEST(ms(completed_at - cancelled_at) < 100.0);
        const auto done = rec.of("tls_handshake_done");
        BOOST_REQUIRE(done.size() == 1u);
        BOOST_TEST(done[0].error == asio::error::operation_aborted);
        check_tls_contract(rec);
    }
}

// A cancellation that arrives once the winner's handshake is done, emitted
// from its tls_handshake_done hook, comes after the race was decided: it has
// no effect, and the trace still ends on a successful dial_done.
BOOST_FIXTURE_TEST_CASE(cancellation_after_the_winning_handshake_changes_nothing, tls_peer) {
    asio::cancellation_signal signal;
    error_code result = asio::error::fault;
    bool open = false;
    nettrace::client_trace t;
    t.tls_handshake_done = [&](const nettrace::tls_handshake_done_info& i) {
        if (!i.error) signal.emit(asio::cancellation_type::terminal);
    };
    nettrace::tls_dialer(client, {}, pinned())
        .dial(ioc.get_executor(), nettrace::with_client_trace(rec.attach(), t), "tcp", tls_test(),
              asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, nettrace::tls_stream s) {
                  rec.completed();
                  result = ec;
                  open = s.lowest_layer().is_open();
                  ioc.stop();
              }));
    ioc.run();
    BOOST_TEST(!result, result.message());
    BOOST_TEST(open);
    BOOST_TEST(!rec.of("dial_done").at(0).error);
    check_tls_contract(rec);
}

BOOST_FIXTURE_TEST_CASE(cancellation_during_the_dial_cancels_the_dial, tls_client) {
    nettrace::testing::black_hole hole(v4_other);
    timed_cancellation cancel(ioc);
    error_code result;
    steady::time_point completed_at;
    nettrace::tls_dialer(client, {}, pinned())
        .dial(ioc.get_executor(), rec.attach(), "tcp", host_port("hole.test", hole.port()),
              cancel.handler(rec, completed_at, result));
    cancel.emit_after(100ms);
    ioc.run();
    BOOST_TEST(result == asio::error::operation_aborted, result.message());
    BOOST_TEST(ms(completed_at - cancel.emitted_at()) < 100.0);
    BOOST_TEST(rec.of("dial_done").at(0).error == asio::error::operation_aborted);
    check_tls_contract(rec, 0);
}

BOOST_FIXTURE_TEST_CASE(dial_errors_are_reported_without_tls_hooks, tls_client) {
    nettrace::testing::refused_port refused(v4);
    auto r = dial(pinned(), host_port("tls.test", refused.port()));
    BOOST_TEST(r.ec == asio::error::connection_refused, r.ec.message());
    check_tls_contract(rec, 0);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Tokens and threads

BOOST_AUTO_TEST_SUITE(tokens_and_threads)

BOOST_FIXTURE_TEST_CASE(default_deferred_token_returns_the_stream, tls_peer) {
    std::optional<std::string> version;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            // The default token: deferred, an exception on error.
            // A named dialer: GCC 12 mishandles temporaries with destructors
            // in a co_await's full-expression (they are destroyed twice).
            const nettrace::tls_dialer d(client, {}, pinned());
            auto s = co_await d.dial({}, "tcp", tls_test());
            version = SSL_get_version(s.native_handle());
            // TLS 1.3: the server is done once it has read the client's Finished.
            asio::steady_timer wait(ioc);
            for (int i = 0; i < 100 && server.handshakes() == 0; ++i) {
                wait.expires_after(10ms);
                co_await wait.async_wait(asio::use_awaitable);
            }
            ioc.stop();
        },
        asio::detached);
    ioc.run();
    BOOST_TEST((version && version->rfind("TLSv1.", 0) == 0u));
    BOOST_TEST(server.handshakes() == 1u);
}

// Hooks of one dial_tls never overlap and all precede the completion, with
// the io_context run by several threads.
BOOST_AUTO_TEST_CASE(hooks_are_serialised_on_a_thread_pool) {
    asio::thread_pool pool(4);
    tls_server server(pool.get_executor(), v4, certificate(), {{"h2"}});
    auto client = trusting_client();
    nettrace::tls_options o;
    o.alpn = {"h2"};
    for (int i = 0; i < 20; ++i) {
        trace_recorder rec;
        auto f =
            nettrace::tls_dialer(client, o, pinned())
                .dial(pool.get_executor(), rec.attach(), "tcp", host_port("tls.test", server.port()), asio::use_future);
        auto s = f.get();
        rec.completed();
        BOOST_TEST(s.lowest_layer().is_open());
        BOOST_TEST(rec.of("tls_handshake_done").at(0).alpn == "h2");
        check_tls_contract(rec);
    }
    pool.stop();
    pool.join();
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Happy Eyeballs v3: the handshake is part of the attempt.

namespace {

// A TLS server on 127.0.0.1:P beside a listener on [::1]:P that completes
// the TCP handshake and never answers the ClientHello (a path that drops the
// handshake's large packets, as a PMTU black hole does).
struct stalled_ipv6_beside_live_ipv4 {
    asio::io_context ioc;
    tls_server server{ioc.get_executor(), v4, certificate()};
    std::optional<nettrace::testing::live_listener> stall;

    stalled_ipv6_beside_live_ipv4() { stall.emplace(ioc.get_executor(), v6, server.port()); }
    nettrace::dialer dialer(nettrace::dial_options o = {}) const {
        o.resolver = nettrace::make_static_resolver({{"tls.test", {v6, v4}}});
        return nettrace::dialer(o);
    }
    std::string address() const { return host_port("tls.test", server.port()); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(handshake_in_the_race)

BOOST_FIXTURE_TEST_CASE(stalled_handshake_on_ipv6_loses_to_ipv4_at_about_one_extended_delay,
                        stalled_ipv6_beside_live_ipv4, *boost::unit_test::precondition(ipv6_available())) {
    auto client = trusting_client();
    nettrace::dial_options o;
    o.timeout = 5s;
    trace_recorder rec;
    auto r = run_tls(ioc, dialer(o), rec, address(), client);
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_REQUIRE(r.stream);
    BOOST_TEST(r.stream->lowest_layer().remote_endpoint().address() == v4);
    // [::1] connects at once; 127.0.0.1 starts one attempt delay (250 ms)
    // after that connect, and wins with its handshake.
    BOOST_TEST(ms(r.elapsed) >= 249.0, "connected after " << ms(r.elapsed) << " ms");
    BOOST_TEST(ms(r.elapsed) < 1500.0, "connected after " << ms(r.elapsed) << " ms");
    const auto starts = rec.of("connect_start");
    BOOST_REQUIRE(starts.size() == 2u);
    const auto connects = rec.of("connect_done");
    BOOST_REQUIRE(connects.size() == 2u);
    for (const auto& c : connects) BOOST_TEST((c.outcome == nettrace::connect_outcome::connected));
    const double gap = ms(starts[1].at - connects[0].at);
    BOOST_TEST(gap >= 200.0, "second attempt " << gap << " ms after the first's TCP connect");
    const auto dones = rec.of("tls_handshake_done");
    BOOST_REQUIRE(dones.size() == 2u);
    for (const auto& d : dones)
        BOOST_TEST((d.attempt == 1 ? d.outcome == nettrace::connect_outcome::won
                                   : d.outcome == nettrace::connect_outcome::superseded),
                   "attempt " << d.attempt << " " << to_string(d.outcome));
    check_tls_contract(rec, 2);
}

BOOST_FIXTURE_TEST_CASE(without_the_tls_race_a_stalled_handshake_holds_the_dial_until_its_timeout,
                        stalled_ipv6_beside_live_ipv4, *boost::unit_test::precondition(ipv6_available())) {
    auto client = trusting_client();
    nettrace::dial_options o;
    o.timeout = 400ms;
    nettrace::tls_options t;
    t.race = false;  // documented: the TCP winner alone handshakes
    trace_recorder rec;
    auto r = run_tls(ioc, dialer(o), rec, address(), client, t);
    BOOST_TEST(r.ec == nettrace::error::timeout, r.ec.message());
    BOOST_TEST(ms(r.elapsed) >= 399.0, "failed after " << ms(r.elapsed) << " ms");
    BOOST_TEST(ms(r.elapsed) < 2000.0, "failed after " << ms(r.elapsed) << " ms");
    BOOST_TEST(rec.count("connect_start") == 1u);  // [::1] won TCP at once
    const auto dones = rec.of("tls_handshake_done");
    BOOST_REQUIRE(dones.size() == 1u);
    BOOST_TEST((dones[0].outcome == nettrace::connect_outcome::cancelled));
    check_tls_contract(rec, 1);
}

BOOST_FIXTURE_TEST_CASE(a_failed_handshake_starts_the_next_address_at_once, tls_peer) {
    // 127.0.0.2 accepts TCP and closes at once (the handshake fails with
    // stream_truncated); 127.0.0.1 then starts without waiting the delay.
    tcp::acceptor closer(ioc, tcp::endpoint(v4_other, server.port()));
    std::function<void()> accept_and_close = [&] {
        closer.async_accept([&](error_code ec, tcp::socket s) {
            if (ec) return;
            s.close();
            accept_and_close();
        });
    };
    accept_and_close();
    nettrace::dial_options o;
    o.attempt_delay = 2s;
    o.resolver = nettrace::make_static_resolver({{"tls.test", {v4_other, v4}}});
    auto r = dial(nettrace::dialer(o), tls_test());
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_TEST(ms(r.elapsed) < 1000.0, "connected after " << ms(r.elapsed) << " ms (the delay is 2 s)");
    const auto dones = rec.of("tls_handshake_done");
    BOOST_REQUIRE(dones.size() == 2u);
    BOOST_TEST((dones[0].outcome == nettrace::connect_outcome::failed));
    BOOST_TEST(dones[0].error);
    BOOST_TEST((dones[1].outcome == nettrace::connect_outcome::won));
    check_tls_contract(rec, 2);
}

BOOST_AUTO_TEST_SUITE_END()
