// prometheus_metrics and with_prometheus (prometheus.hpp): nettrace's hooks
// feeding prometheus-cpp's histograms, counters and gauge. docs/metrics.md
// lists the names and their OpenTelemetry counterparts.
#include <nettrace/prometheus.hpp>

#include <nettrace/trace.hpp>
#include <nettrace/types.hpp>

#include "detail/error_type.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nettrace {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

double seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The label values of network.type and nettrace.outcome.
std::string_view network_type(const boost::asio::ip::tcp::endpoint& ep) {
    return ep.address().is_v6() ? "ipv6" : "ipv4";
}
std::size_t family_index(const boost::asio::ip::tcp::endpoint& ep) { return ep.address().is_v6() ? 0 : 1; }

// The outcomes an attempt ends with (dial_done's attempt records);
// `connected` is connect_done's alone, not a final outcome.
constexpr std::array final_outcomes{connect_outcome::won, connect_outcome::lost, connect_outcome::failed,
                                    connect_outcome::superseded, connect_outcome::cancelled};

bool tcp_connected(connect_outcome o) {
    return o == connect_outcome::won || o == connect_outcome::lost || o == connect_outcome::connected;
}

// A family of the metric `builder` builds (BuildHistogram(), BuildCounter(),
// BuildGauge()), registered in `registry`.
template <class Builder>
auto& family(Builder builder, prometheus::Registry& registry, const std::string& name, const std::string& help) {
    return builder.Name(name).Help(help).Register(registry);
}

std::vector<double> checked(const std::vector<double>& buckets) {
    for (std::size_t i = 1; i < buckets.size(); ++i)
        if (!(buckets[i - 1] < buckets[i]))
            throw std::invalid_argument("nettrace::prometheus_options::buckets must be strictly increasing");
    return buckets;
}

}  // namespace

// The families live in the registry (prometheus-cpp hands out references
// that stay valid while the family is registered); the state keeps the
// registry alive, and the hooks keep the state alive.
struct prometheus_metrics::state {
    state(std::shared_ptr<prometheus::Registry> r, const prometheus_options& options)
        : registry(std::move(r)),
          buckets(checked(options.buckets)),
          dns(family(prometheus::BuildHistogram(), *registry, "dns_lookup_duration_seconds",
                     "Duration of DNS lookups (OpenTelemetry dns.lookup.duration); error_type when no address was "
                     "found.")),
          connect(family(prometheus::BuildHistogram(), *registry, "nettrace_connect_duration_seconds",
                         "Duration of each TCP connect that succeeded, by the peer's address family.")),
          proxy(family(prometheus::BuildHistogram(), *registry, "nettrace_proxy_connect_duration_seconds",
                       "Duration of each proxy tunnel handshake (HTTP CONNECT, SOCKS5) that succeeded.")),
          tls(family(prometheus::BuildHistogram(), *registry, "nettrace_tls_handshake_duration_seconds",
                     "Duration of each TLS handshake that completed.")),
          dial(family(prometheus::BuildHistogram(), *registry, "nettrace_dial_duration_seconds",
                      "Duration of dials, from dial start to the connection (or the failure); error_type when the "
                      "dial failed.")),
          attempts(family(prometheus::BuildCounter(), *registry, "nettrace_connect_attempts_total",
                          "Connect attempts by the peer's address family and how they ended.")),
          errors(family(prometheus::BuildCounter(), *registry, "nettrace_dial_errors_total",
                        "Failed dials by error type.")),
          active_family(family(prometheus::BuildGauge(), *registry, "nettrace_active_dials",
                               "Dials in flight: started and not yet completed.")),
          dns_ok(dns.Add({}, buckets)),
          connect_by_family{&connect.Add({{"network_type", "ipv6"}}, buckets),
                            &connect.Add({{"network_type", "ipv4"}}, buckets)},
          proxy_ok(proxy.Add({}, buckets)),
          tls_ok(tls.Add({}, buckets)),
          dial_ok(dial.Add({}, buckets)),
          active(active_family.Add({})) {
        for (const auto f : {address_family::ipv6, address_family::ipv4})
            for (const auto o : final_outcomes)
                attempt_counter[static_cast<std::size_t>(f)][static_cast<std::size_t>(o)] = &attempts.Add(
                    {{"network_type", std::string(to_string(f))}, {"nettrace_outcome", std::string(to_string(o))}});
    }

    Counter& attempt(const attempt_record& a) {
        const auto o = static_cast<std::size_t>(a.outcome);
        if (o < final_outcomes.size()) return *attempt_counter[family_index(a.endpoint)][o];
        // Not a final outcome (none is expected in dial_done): its own series, made on demand.
        return attempts.Add({{"network_type", std::string(network_type(a.endpoint))},
                             {"nettrace_outcome", std::string(to_string(a.outcome))}});
    }

    std::shared_ptr<prometheus::Registry> registry;
    std::vector<double> buckets;
    Family<Histogram>& dns;
    Family<Histogram>& connect;
    Family<Histogram>& proxy;
    Family<Histogram>& tls;
    Family<Histogram>& dial;
    Family<Counter>& attempts;
    Family<Counter>& errors;
    Family<Gauge>& active_family;
    // The series without an error, found once; those with one are found (or
    // made) by Family::Add, under the family's lock, when an error happens.
    Histogram& dns_ok;
    std::array<Histogram*, 2> connect_by_family;  // by family_index
    Histogram& proxy_ok;
    Histogram& tls_ok;
    Histogram& dial_ok;
    Gauge& active;
    std::array<std::array<Counter*, final_outcomes.size()>, 2> attempt_counter{};  // [address_family][outcome]
};

static_assert(static_cast<std::size_t>(address_family::ipv6) == 0 &&
                  static_cast<std::size_t>(address_family::ipv4) == 1,
              "family_index and attempt_counter index by address_family");
static_assert(static_cast<std::size_t>(connect_outcome::connected) == final_outcomes.size(),
              "the final outcomes come first in connect_outcome");

prometheus_metrics::prometheus_metrics(std::shared_ptr<prometheus::Registry> registry,
                                       const prometheus_options& options) {
    if (!registry) throw std::invalid_argument("nettrace::prometheus_metrics: no registry");
    state_ = std::make_shared<state>(std::move(registry), options);
}

context with_prometheus(const context& parent, const prometheus_metrics& metrics) {
    const std::shared_ptr<prometheus_metrics::state> m = metrics.state_;
    client_trace t;
    t.dial_start = [m](const dial_start_info&) { m->active.Increment(); };
    t.dns_done = [m](const dns_done_info& i) {
        if (!i.error) {
            m->dns_ok.Observe(seconds(i.elapsed));
            return;
        }
        m->dns.Add({{"error_type", detail::error_type(i.error)}}, m->buckets).Observe(seconds(i.elapsed));
    };
    t.connect_done = [m](const connect_done_info& i) {
        if (!i.error && tcp_connected(i.outcome))
            m->connect_by_family[family_index(i.endpoint)]->Observe(seconds(i.elapsed));
    };
    t.proxy_connect_done = [m](const proxy_connect_done_info& i) {
        if (!i.error && tcp_connected(i.outcome)) m->proxy_ok.Observe(seconds(i.elapsed));
    };
    t.tls_handshake_done = [m](const tls_handshake_done_info& i) {
        if (!i.error && (i.outcome == connect_outcome::won || i.outcome == connect_outcome::lost))
            m->tls_ok.Observe(seconds(i.elapsed));
    };
    t.dial_done = [m](const dial_done_info& i) {
        for (const auto& a : i.attempts) m->attempt(a).Increment();
        if (!i.error) {
            m->dial_ok.Observe(seconds(i.elapsed));
        } else {
            const prometheus::Labels labels{{"error_type", detail::error_type(i.error)}};
            m->dial.Add(labels, m->buckets).Observe(seconds(i.elapsed));
            m->errors.Add(labels).Increment();
        }
        m->active.Decrement();
    };
    return with_client_trace(parent, t);
}

}  // namespace nettrace
