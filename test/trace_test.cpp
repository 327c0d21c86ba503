// The trace contract: composition, pairing, nothing after completion, no two
// hooks of one dial at once, and the policy for hooks that throw.
#define BOOST_TEST_MODULE trace
#include <boost/test/unit_test.hpp>

#include <nettrace/nettrace.hpp>

#include "support/common.hpp"
#include "support/trace_recorder.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <thread>

namespace {

// An io_context and a live listener on 127.0.0.1 to dial.
struct live_ipv4 {
    asio::io_context ioc;
    nettrace::testing::live_listener live{ioc.get_executor(), v4};

    std::string address() const { return host_port(v4, live.port()); }
};

}  // namespace

// ---------------------------------------------------------------------------
// Composing traces, without a dial

BOOST_AUTO_TEST_SUITE(composition)

BOOST_AUTO_TEST_CASE(background_context_carries_no_trace) {
    BOOST_TEST(nettrace::context_client_trace(nettrace::context{}) == nullptr);
}

BOOST_AUTO_TEST_CASE(newer_hooks_run_before_older_ones) {
    std::vector<std::string> calls;
    nettrace::client_trace older, newer;
    older.dial_start = [&](const nettrace::dial_start_info&) { calls.push_back("older"); };
    newer.dial_start = [&](const nettrace::dial_start_info&) { calls.push_back("newer"); };
    auto ctx = nettrace::with_client_trace(nettrace::with_client_trace({}, older), newer);
    nettrace::context_client_trace(ctx)->dial_start({});
    BOOST_TEST(calls == (std::vector<std::string>{"newer", "older"}));
}

BOOST_AUTO_TEST_CASE(composing_leaves_the_callers_trace_and_context_untouched) {
    int older_calls = 0, newer_calls = 0;
    nettrace::client_trace older, newer;
    older.connect_start = [&](const nettrace::connect_start_info&) { ++older_calls; };
    newer.connect_start = [&](const nettrace::connect_start_info&) { ++newer_calls; };
    auto parent = nettrace::with_client_trace({}, older);
    auto child = nettrace::with_client_trace(parent, newer);
    // The parent still calls only its own hook, and the caller's struct holds no hook it did not set.
    nettrace::context_client_trace(parent)->connect_start({});
    BOOST_TEST(older_calls == 1);
    BOOST_TEST(newer_calls == 0);
    BOOST_TEST(!newer.dial_start);
    BOOST_TEST(!older.connect_done);
    nettrace::context_client_trace(child)->connect_start({});
    BOOST_TEST(older_calls == 2);
    BOOST_TEST(newer_calls == 1);
}

BOOST_AUTO_TEST_CASE(attaching_the_same_trace_twice_calls_it_twice) {
    int calls = 0;
    nettrace::client_trace t;
    t.dns_start = [&](const nettrace::dns_start_info&) { ++calls; };
    auto ctx = nettrace::with_client_trace(nettrace::with_client_trace({}, t), t);
    nettrace::context_client_trace(ctx)->dns_start({});
    BOOST_TEST(calls == 2);
}

BOOST_AUTO_TEST_CASE(hooks_missing_in_the_newer_trace_fall_through_to_the_older) {
    int calls = 0;
    nettrace::client_trace older;
    older.dial_done = [&](const nettrace::dial_done_info&) { ++calls; };
    auto ctx = nettrace::with_client_trace(nettrace::with_client_trace({}, older), nettrace::client_trace{});
    nettrace::context_client_trace(ctx)->dial_done({});
    BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Traced dials

BOOST_AUTO_TEST_SUITE(traced_dials)

BOOST_FIXTURE_TEST_CASE(both_layers_see_every_event_of_a_real_dial, live_ipv4) {
    nettrace::testing::trace_recorder inner, outer;
    auto ctx = inner.attach(outer.attach());
    nettrace::dial(ioc.get_executor(), ctx, "tcp", address(), [&](error_code ec, tcp::socket) {
        BOOST_TEST(!ec);
        inner.completed();
        outer.completed();
        ioc.stop();
    });
    ioc.run();
    inner.check_contract();
    outer.check_contract();
    BOOST_TEST(inner.events().size() == outer.events().size());
}

BOOST_FIXTURE_TEST_CASE(a_throwing_hook_does_not_disturb_the_dial, live_ipv4) {
    nettrace::testing::trace_recorder rec;
    nettrace::client_trace thrower;
    thrower.connect_start = [](const nettrace::connect_start_info&) { throw std::runtime_error("metrics bug"); };
    std::exception_ptr seen;
    thrower.dial_done = [&](const nettrace::dial_done_info& i) { seen = i.hook_exception; };
    // The recorder is the older layer: it must still see every event.
    auto ctx = nettrace::with_client_trace(rec.attach(), thrower);
    error_code result = asio::error::would_block;
    nettrace::dial(ioc.get_executor(), ctx, "tcp", address(), [&](error_code ec, tcp::socket) {
        result = ec;
        rec.completed();
        ioc.stop();
    });
    ioc.run();
    BOOST_TEST(!result);
    BOOST_REQUIRE(seen);
    BOOST_CHECK_THROW(std::rethrow_exception(seen), std::runtime_error);
    // The newer layer threw; the older layer still saw the event.
    BOOST_TEST(rec.count("connect_start") == 1u);
    rec.check_contract();
}

// Many dials on an io_context run by four threads: each dial's hooks must
// never overlap, even though dials run in parallel with each other.
BOOST_AUTO_TEST_CASE(hooks_of_one_dial_never_run_concurrently_on_a_multithreaded_io_context) {
    asio::io_context ioc(4);
    nettrace::testing::live_listener live(ioc.get_executor(), v4);
    nettrace::testing::refused_port refused(v4_other, live.port());
    nettrace::dial_options o;
    o.resolver = nettrace::make_static_resolver({{"mt.test", {v4_other, v4}}});
    nettrace::dialer d(o);

    constexpr int dials = 200;
    std::vector<nettrace::testing::trace_recorder> recs(dials);
    std::atomic<int> overlaps{0}, done{0}, failures{0};
    for (int i = 0; i < dials; ++i) {
        // A slow hook widens the window in which a second hook could slip in.
        auto busy = std::make_shared<std::atomic<int>>(0);
        nettrace::client_trace slow;
        auto hold = [busy, &overlaps] {
            if (busy->fetch_add(1) != 0) ++overlaps;
            std::this_thread::yield();
            busy->fetch_sub(1);
        };
        slow.dns_answer = [hold](const nettrace::dns_answer_info&) { hold(); };
        slow.connect_start = [hold](const nettrace::connect_start_info&) { hold(); };
        slow.connect_done = [hold](const nettrace::connect_done_info&) { hold(); };
        auto ctx = nettrace::with_client_trace(recs[i].attach(), slow);
        d.dial(ioc.get_executor(), ctx, "tcp", host_port("mt.test", live.port()), [&, i](error_code ec, tcp::socket) {
            recs[i].completed();
            if (ec) ++failures;
            if (++done == dials) ioc.stop();
        });
    }
    run_on_threads(ioc, 4);
    BOOST_TEST(done.load() == dials);
    BOOST_TEST(failures.load() == 0);
    BOOST_TEST(overlaps.load() == 0);
    for (auto& r : recs) r.check_contract();
}

BOOST_AUTO_TEST_SUITE_END()
