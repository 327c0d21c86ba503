// with_prometheus (nettrace/prometheus.hpp) without a Prometheus server: the
// registry's own Collect() read back after dials of loopback peers (a live
// listener, a refused port, a name pinned by a static resolver), after hook
// calls made by hand for the stages no plain dial has (proxy tunnel, TLS),
// and after concurrent dials on an io_context run by several threads.
#define BOOST_TEST_MODULE prometheus
#include <boost/test/unit_test.hpp>

#include <nettrace/nettrace.hpp>
#include <nettrace/prometheus.hpp>

#include "support/common.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using labels = std::map<std::string, std::string>;

// One registry, its metrics, the context that feeds them, and readers of
// what a scrape would see.
struct metrics_fixture {
    std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
    nettrace::prometheus_metrics metrics{registry};
    nettrace::context ctx = nettrace::with_prometheus({}, metrics);

    // Each read collects anew: what it returns is valid until the next read.
    const prometheus::MetricFamily* family(const std::string& name) {
        collected = registry->Collect();
        for (const auto& f : collected)
            if (f.name == name) return &f;
        return nullptr;
    }
    // The series of `name` whose labels are exactly `want`, or null.
    const prometheus::ClientMetric* series(const std::string& name, const labels& want) {
        const auto* f = family(name);
        if (!f) return nullptr;
        for (const auto& m : f->metric) {
            labels have;
            for (const auto& l : m.label) have[l.name] = l.value;
            if (have == want) return &m;
        }
        return nullptr;
    }
    // A histogram series' count, a counter's or gauge's value; -1 when the
    // series does not exist.
    double count(const std::string& name, const labels& want = {}) {
        const auto* m = series(name, want);
        if (!m) return -1;
        return std::max({static_cast<double>(m->histogram.sample_count), m->counter.value, m->gauge.value});
    }
    double attempts(const std::string& family, const std::string& outcome) {
        return count("nettrace_connect_attempts_total", {{"network_type", family}, {"nettrace_outcome", outcome}});
    }
    // The sum of every series of a counter family.
    double total(const std::string& name) {
        double sum = 0;
        if (const auto* f = family(name))
            for (const auto& m : f->metric) sum += m.counter.value;
        return sum;
    }
    std::size_t series_count(const std::string& name) {
        const auto* f = family(name);
        return f ? f->metric.size() : 0;
    }

    // Dials `address` on a fresh io_context and runs it to completion.
    error_code dial(const std::string& address, nettrace::dial_options options = {}) {
        asio::io_context ioc;
        error_code result;
        const nettrace::dialer dialer(options);
        asio::co_spawn(
            ioc,
            [&]() -> asio::awaitable<void> {
                auto [ec, s] = co_await dialer.dial(ctx, "tcp", address, asio::as_tuple(asio::deferred));
                result = ec;
            },
            asio::detached);
        ioc.run();
        return result;
    }

    std::vector<prometheus::MetricFamily> collected;
};

const auto& error_type = "error_type";

}  // namespace

BOOST_FIXTURE_TEST_SUITE(prometheus_adapter, metrics_fixture)

BOOST_AUTO_TEST_CASE(every_metric_is_registered_with_its_fixed_series_at_zero) {
    for (const auto* name : {"dns_lookup_duration_seconds", "nettrace_proxy_connect_duration_seconds",
                             "nettrace_tls_handshake_duration_seconds", "nettrace_dial_duration_seconds"}) {
        BOOST_TEST_CONTEXT(name) {
            BOOST_REQUIRE(family(name));
            BOOST_TEST((family(name)->type == prometheus::MetricType::Histogram));
            BOOST_TEST(count(name) == 0);
            // The default buckets, +Inf last.
            const auto buckets = series(name, {})->histogram.bucket;  // a copy: each read collects anew
            BOOST_TEST(buckets.size() == nettrace::prometheus_options{}.buckets.size() + 1);
        }
    }
    BOOST_TEST(count("nettrace_connect_duration_seconds", {{"network_type", "ipv4"}}) == 0);
    BOOST_TEST(count("nettrace_connect_duration_seconds", {{"network_type", "ipv6"}}) == 0);
    BOOST_TEST(series_count("nettrace_connect_duration_seconds") == 2u);
    // Both families times the five final outcomes.
    BOOST_TEST(series_count("nettrace_connect_attempts_total") == 10u);
    for (const auto* f : {"ipv4", "ipv6"})
        for (const auto* o : {"won", "lost", "failed", "superseded", "cancelled"}) BOOST_TEST(attempts(f, o) == 0);
    BOOST_TEST((family("nettrace_active_dials")->type == prometheus::MetricType::Gauge));
    BOOST_TEST(count("nettrace_active_dials") == 0);
    // An error's series appears with the first such error (and a family
    // without series is not exposed at all).
    BOOST_TEST(series_count("nettrace_dial_errors_total") == 0u);
    BOOST_TEST(!family("nettrace_dial_errors_total"));

    const std::string text = prometheus::TextSerializer().Serialize(registry->Collect());
    BOOST_TEST(text.find("# TYPE nettrace_dial_duration_seconds histogram\n") != std::string::npos, text);
    BOOST_TEST(text.find("# TYPE nettrace_connect_attempts_total counter\n") != std::string::npos, text);
    BOOST_TEST(text.find("# TYPE nettrace_active_dials gauge\n") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(a_connected_dial_is_one_observation_of_each_phase_it_had) {
    asio::io_context listeners;
    nettrace::testing::live_listener live(listeners.get_executor(), v4);
    BOOST_REQUIRE(!dial(host_port(v4, live.port())));

    BOOST_TEST(count("nettrace_dial_duration_seconds") == 1);
    BOOST_TEST(count("nettrace_connect_duration_seconds", {{"network_type", "ipv4"}}) == 1);
    BOOST_TEST(count("nettrace_connect_duration_seconds", {{"network_type", "ipv6"}}) == 0);
    BOOST_TEST(attempts("ipv4", "won") == 1);
    BOOST_TEST(total("nettrace_connect_attempts_total") == 1);
    BOOST_TEST(series_count("nettrace_dial_errors_total") == 0u);
    BOOST_TEST(count("nettrace_active_dials") == 0);
    // An IP literal: no lookup. No proxy, no TLS.
    BOOST_TEST(count("dns_lookup_duration_seconds") == 0);
    BOOST_TEST(count("nettrace_proxy_connect_duration_seconds") == 0);
    BOOST_TEST(count("nettrace_tls_handshake_duration_seconds") == 0);

    // In seconds, and cumulative: the +Inf bucket holds the observation.
    const auto h = series("nettrace_dial_duration_seconds", {})->histogram;
    BOOST_TEST(h.sample_sum > 0.0);
    BOOST_TEST(h.sample_sum < 10.0);
    BOOST_TEST(h.bucket.back().cumulative_count == 1u);
    const auto c = series("nettrace_connect_duration_seconds", {{"network_type", "ipv4"}})->histogram;
    BOOST_TEST(c.sample_sum <= h.sample_sum);
}

BOOST_AUTO_TEST_CASE(a_refused_dial_is_counted_by_its_error_type) {
    nettrace::testing::refused_port refused(v4);
    const auto ec = dial(host_port(v4, refused.port()));
    BOOST_REQUIRE(ec == asio::error::connection_refused);

    BOOST_TEST(count("nettrace_dial_errors_total", {{error_type, "connection_refused"}}) == 1);
    BOOST_TEST(series_count("nettrace_dial_errors_total") == 1u);
    BOOST_TEST(count("nettrace_dial_duration_seconds", {{error_type, "connection_refused"}}) == 1);
    BOOST_TEST(count("nettrace_dial_duration_seconds") == 0);  // the series without an error
    BOOST_TEST(attempts("ipv4", "failed") == 1);
    BOOST_TEST(total("nettrace_connect_attempts_total") == 1);
    // No TCP connect succeeded.
    BOOST_TEST(count("nettrace_connect_duration_seconds", {{"network_type", "ipv4"}}) == 0);
    BOOST_TEST(count("nettrace_active_dials") == 0);
}

BOOST_AUTO_TEST_CASE(looked_up_names_are_observed_once_per_lookup_and_failed_lookups_by_error) {
    asio::io_context listeners;
    nettrace::testing::live_listener live(listeners.get_executor(), v4);
    nettrace::dial_options o;
    o.resolver = nettrace::make_static_resolver({{"metrics.test", {v4}}, {"empty.test", {}}});
    BOOST_REQUIRE(!dial("metrics.test:" + std::to_string(live.port()), o));
    BOOST_REQUIRE(!dial("metrics.test:" + std::to_string(live.port()), o));
    const auto ec = dial("empty.test:80", o);
    BOOST_REQUIRE(ec == nettrace::error::no_addresses);

    BOOST_TEST(count("dns_lookup_duration_seconds") == 2);
    BOOST_TEST(count("dns_lookup_duration_seconds", {{error_type, "no_addresses"}}) == 1);
    BOOST_TEST(count("nettrace_dial_duration_seconds") == 2);
    BOOST_TEST(count("nettrace_dial_errors_total", {{error_type, "no_addresses"}}) == 1);
    BOOST_TEST(attempts("ipv4", "won") == 2);
    BOOST_TEST(total("nettrace_connect_attempts_total") == 2);  // the failed lookup made no attempt
    BOOST_TEST(count("nettrace_active_dials") == 0);
}

BOOST_AUTO_TEST_CASE(attempts_are_counted_by_family,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                         return nettrace::testing::ipv6_loopback_available();
                     })) {
    // [::1]:P refuses, 127.0.0.1:P accepts: the IPv6 attempt fails, the IPv4 one wins.
    const unsigned short port = nettrace::testing::free_dual_stack_port();
    nettrace::testing::refused_port refused(v6, port);
    asio::io_context listeners;
    nettrace::testing::live_listener live(listeners.get_executor(), v4, port);
    nettrace::dial_options o;
    o.resolver = nettrace::make_static_resolver({{"dual.test", {v6, v4}}});
    BOOST_REQUIRE(!dial("dual.test:" + std::to_string(port), o));

    BOOST_TEST(attempts("ipv6", "failed") == 1);
    BOOST_TEST(attempts("ipv4", "won") == 1);
    BOOST_TEST(total("nettrace_connect_attempts_total") == 2);
    BOOST_TEST(count("nettrace_connect_duration_seconds", {{"network_type", "ipv4"}}) == 1);
    BOOST_TEST(count("nettrace_connect_duration_seconds", {{"network_type", "ipv6"}}) == 0);
    BOOST_TEST(count("nettrace_dial_duration_seconds") == 1);  // the dial succeeded: no error series
    BOOST_TEST(series_count("nettrace_dial_errors_total") == 0u);
}

// The stages a plain dial has not: the hooks called as a dial through a
// proxy with dial_tls would call them, two attempts racing.
BOOST_AUTO_TEST_CASE(tunnels_and_handshakes_that_completed_are_observed_once_each) {
    const nettrace::client_trace& trace = *nettrace::context_client_trace(ctx);
    const tcp::endpoint proxy_v6{v6, 3128}, proxy_v4{v4, 3128};
    const auto aborted = make_error_code(asio::error::operation_aborted);
    trace.dial_start({"tcp", "db.test:443"});
    BOOST_TEST(count("nettrace_active_dials") == 1);
    // Both TCP connects succeed, and both tunnels; then TLS decides.
    for (const auto& [ep, i] : {std::pair{proxy_v6, std::size_t{0}}, std::pair{proxy_v4, std::size_t{1}}}) {
        nettrace::connect_done_info c;
        c.network = "tcp", c.endpoint = ep, c.attempt = i, c.outcome = nettrace::connect_outcome::connected;
        c.elapsed = 1ms;
        trace.connect_done(c);
        nettrace::proxy_connect_done_info p;
        p.endpoint = ep, p.attempt = i, p.status = 200, p.outcome = nettrace::connect_outcome::connected;
        p.elapsed = 2ms;
        trace.proxy_connect_done(p);
    }
    nettrace::tls_handshake_done_info won;
    won.remote = proxy_v4, won.attempt = 1, won.outcome = nettrace::connect_outcome::won, won.elapsed = 3ms;
    trace.tls_handshake_done(won);
    nettrace::tls_handshake_done_info superseded = won;
    superseded.remote = proxy_v6, superseded.attempt = 0, superseded.outcome = nettrace::connect_outcome::superseded;
    superseded.error = aborted;
    trace.tls_handshake_done(superseded);
    // Attempts that did not get that far are not observed.
    nettrace::connect_done_info failed;
    failed.endpoint = proxy_v4, failed.attempt = 2, failed.outcome = nettrace::connect_outcome::failed;
    failed.error = make_error_code(asio::error::connection_refused);
    trace.connect_done(failed);
    nettrace::proxy_connect_done_info refused;
    refused.endpoint = proxy_v4, refused.attempt = 3, refused.status = 403, refused.reason = "Forbidden";
    refused.error = nettrace::error::proxy_rejected;
    trace.proxy_connect_done(refused);

    const std::vector<nettrace::attempt_record> records{
        {proxy_v6, aborted, nettrace::connect_outcome::superseded, 0ms, 6ms},
        {proxy_v4, {}, nettrace::connect_outcome::won, 0ms, 6ms},
        {proxy_v4, failed.error, nettrace::connect_outcome::failed, 1ms, 1ms},
        {proxy_v4, refused.error, nettrace::connect_outcome::failed, 2ms, 2ms}};
    nettrace::dial_done_info done;
    done.network = "tcp", done.address = "db.test:443", done.remote = proxy_v4, done.attempts = records;
    done.elapsed = 7ms;
    trace.dial_done(done);

    BOOST_TEST(count("nettrace_connect_duration_seconds", {{"network_type", "ipv6"}}) == 1);
    BOOST_TEST(count("nettrace_connect_duration_seconds", {{"network_type", "ipv4"}}) == 1);
    BOOST_TEST(count("nettrace_proxy_connect_duration_seconds") == 2);
    BOOST_TEST(count("nettrace_tls_handshake_duration_seconds") == 1);
    BOOST_TEST(series("nettrace_tls_handshake_duration_seconds", {})->histogram.sample_sum == 0.003);
    BOOST_TEST(attempts("ipv6", "superseded") == 1);
    BOOST_TEST(attempts("ipv4", "won") == 1);
    BOOST_TEST(attempts("ipv4", "failed") == 2);
    BOOST_TEST(count("nettrace_dial_duration_seconds") == 1);
    BOOST_TEST(series("nettrace_dial_duration_seconds", {})->histogram.sample_sum == 0.007);
    BOOST_TEST(count("nettrace_active_dials") == 0);
}

BOOST_AUTO_TEST_CASE(two_adapters_on_one_registry_share_its_series) {
    const nettrace::prometheus_metrics again(registry);
    asio::io_context listeners;
    nettrace::testing::live_listener live(listeners.get_executor(), v4);
    BOOST_REQUIRE(!dial(host_port(v4, live.port())));
    ctx = nettrace::with_prometheus({}, again);
    BOOST_REQUIRE(!dial(host_port(v4, live.port())));
    BOOST_TEST(count("nettrace_dial_duration_seconds") == 2);
    BOOST_TEST(series_count("nettrace_connect_attempts_total") == 10u);
}

BOOST_AUTO_TEST_CASE(the_buckets_are_the_options_and_must_increase) {
    const auto other = std::make_shared<prometheus::Registry>();
    const nettrace::prometheus_metrics m(other, nettrace::prometheus_options{.buckets = {0.001, 0.1}});
    std::vector<double> bounds;
    for (const auto& f : other->Collect())
        if (f.name == "nettrace_dial_duration_seconds")
            for (const auto& b : f.metric.at(0).histogram.bucket) bounds.push_back(b.upper_bound);
    BOOST_REQUIRE(bounds.size() == 3u);
    BOOST_TEST(bounds[0] == 0.001);
    BOOST_TEST(bounds[1] == 0.1);
    BOOST_TEST(std::isinf(bounds[2]));
    BOOST_CHECK_THROW(nettrace::prometheus_metrics(std::make_shared<prometheus::Registry>(),
                                                   nettrace::prometheus_options{.buckets = {0.1, 0.1}}),
                      std::invalid_argument);
    BOOST_CHECK_THROW(nettrace::prometheus_metrics(nullptr), std::invalid_argument);
}

// One context shared by dials on an io_context run by four threads, while
// another thread scrapes: every dial counted once, nothing left in flight.
BOOST_AUTO_TEST_CASE(concurrent_dials_through_one_context_are_each_counted_once) {
    constexpr int connected = 60, refused_dials = 40;
    asio::io_context listeners;
    nettrace::testing::live_listener live(listeners.get_executor(), v4);
    std::thread accepting([&] { listeners.run_for(60s); });
    nettrace::testing::refused_port refused(v4);

    asio::io_context ioc;
    const nettrace::dialer dialer;
    std::atomic<int> ok{0}, failed{0}, done{0};
    for (int i = 0; i < connected + refused_dials; ++i) {
        const auto address = host_port(v4, i < connected ? live.port() : refused.port());
        asio::co_spawn(
            ioc,
            [&, address]() -> asio::awaitable<void> {
                auto [ec, s] = co_await dialer.dial(ctx, "tcp", address, asio::as_tuple(asio::deferred));
                ++(ec ? failed : ok);
                ++done;
            },
            asio::detached);
    }
    std::atomic<bool> dialing{true};
    std::thread scraper([&] {
        while (dialing) (void)registry->Collect();
    });
    run_on_threads(ioc, 4);
    dialing = false;
    scraper.join();
    listeners.stop();
    accepting.join();

    BOOST_REQUIRE(done == connected + refused_dials);
    BOOST_TEST(ok == connected);
    BOOST_TEST(count("nettrace_dial_duration_seconds") == connected);
    BOOST_TEST(count("nettrace_connect_duration_seconds", {{"network_type", "ipv4"}}) == connected);
    BOOST_TEST(attempts("ipv4", "won") == connected);
    BOOST_TEST(attempts("ipv4", "failed") == refused_dials);
    BOOST_TEST(count("nettrace_dial_errors_total", {{error_type, "connection_refused"}}) == refused_dials);
    BOOST_TEST(count("nettrace_dial_duration_seconds", {{error_type, "connection_refused"}}) == refused_dials);
    BOOST_TEST(count("nettrace_active_dials") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
