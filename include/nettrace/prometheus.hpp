// nettrace/prometheus.hpp — dial metrics on a prometheus-cpp Registry:
// histograms of the phases, counters of attempts and of failed dials, a
// gauge of dials in flight, fed by a context layer (as with_timings is).
//
// Part of libnettrace-prometheus (meson: nettrace_prometheus_dep,
// pkg-config: nettrace-prometheus), built when prometheus-cpp is found
// (-Dprometheus=auto; Debian: prometheus-cpp-dev). This header includes
// nothing of prometheus-cpp; the program that builds the Registry does.
// docs/metrics.md lists the metrics and how they map onto the OpenTelemetry
// semantic conventions.
#pragma once

#include <nettrace/context.hpp>

#include <memory>
#include <vector>

namespace prometheus {
class Registry;
}

namespace nettrace {

struct prometheus_options {
    /// The upper bounds (seconds, strictly increasing) of every histogram's
    /// buckets; +Inf is implied. The default spans loopback connects (0.1 ms)
    /// to dial timeouts (30 s).
    std::vector<double> buckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30};
};

/// The metrics of nettrace's dials, registered on a prometheus::Registry
/// when constructed (every fixed series at zero, so that rate() and
/// increase() see the first event); with_prometheus attaches them to a
/// context. A copy shares the same metrics.
///
///     auto registry = std::make_shared<prometheus::Registry>();
///     prometheus::Exposer exposer("127.0.0.1:9464");   // prometheus-cpp-pull
///     exposer.RegisterCollectable(registry);
///     const nettrace::prometheus_metrics metrics(registry);
///     const auto ctx = nettrace::with_prometheus({}, metrics);
///     auto s = co_await nettrace::dial(ctx, "tcp", "db.test:5432");  // any number, concurrently
///
/// Metrics (docs/metrics.md): dns_lookup_duration_seconds{error_type},
/// nettrace_connect_duration_seconds{network_type},
/// nettrace_proxy_connect_duration_seconds,
/// nettrace_tls_handshake_duration_seconds,
/// nettrace_dial_duration_seconds{error_type},
/// nettrace_connect_attempts_total{network_type,nettrace_outcome},
/// nettrace_dial_errors_total{error_type}, nettrace_active_dials. No label
/// holds an address or a host name: every label's values are few and fixed.
///
/// Thread safety: the registry's own (prometheus-cpp locks what it
/// shares): constructing on a registry that other threads collect or
/// register on is safe, and so are concurrent dials through any number of
/// contexts carrying these metrics. The object keeps `registry` alive; do
/// not Remove() its families from the registry.
///
/// Errors: throws std::invalid_argument (from prometheus-cpp) when `registry`
/// already has one of these names as another metric type or with other
/// constant labels, or when the buckets are not strictly increasing;
/// std::bad_alloc. Registering twice on one registry shares the families.
class prometheus_metrics {
public:
    explicit prometheus_metrics(std::shared_ptr<prometheus::Registry> registry, const prometheus_options& options = {});

    struct state;  ///< the metrics proper, shared by the copies and the contexts

private:
    std::shared_ptr<state> state_;
    friend context with_prometheus(const context& parent, const prometheus_metrics& metrics);
};

/// A context whose trace feeds `metrics` from every dial, dial_tls and
/// resolve given it (or a context derived from it), on top of `parent`'s
/// trace. Creating it does no I/O. Unlike with_timings, one context serves
/// any number of operations at once: the layer keeps no per-dial state, each
/// observation comes from one hook's own info.
///
/// What is observed, and when: a lookup's duration at its dns_done; each TCP
/// connect that succeeded at its connect_done, each tunnel that came up at
/// proxy_connect_done, each TLS handshake that completed at
/// tls_handshake_done; the dial's duration, its attempts' final outcomes and
/// its error at dial_done; the gauge rises at dial_start and falls at
/// dial_done. All of it before the operation's completion handler runs.
///
/// Executor: the hooks run where the operation's hooks run, on its strand;
/// they do no I/O and take only prometheus-cpp's short locks.
///
/// Thread safety: `parent` and `metrics` are not modified; any thread, at
/// any time; the context may be used by any number of operations at once.
///
/// Errors: none; throws only std::bad_alloc. The hooks never disturb a dial
/// (nothing they throw reaches it: see "Hooks that throw" in docs/tracing.md).
context with_prometheus(const context& parent, const prometheus_metrics& metrics);

}  // namespace nettrace
