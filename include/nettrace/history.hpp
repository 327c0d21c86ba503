// nettrace/history.hpp — connection_history: what recent dials learned about
// remote endpoints, so the next race starts with what worked (RFC 8305
// section 4's "historical data", HEv3's "RTT and used-address rules").
//
// A dialer given one (dial_options::history) records every attempt's outcome
// and sorts each race with it: within an HTTPS priority group, endpoints
// that recently won go first (the lower smoothed connect RTT first), and
// endpoints that recently failed go after the healthy ones; when a host's
// preferred family was recently black-holed (its attempts superseded after
// the attempt delay while the other family won), the other family leads.
// Nothing is ever dropped: a demoted endpoint is still tried, later. What is
// learned expires after `ttl`, so a repaired path is probed again.
// docs/history.md is the subject page.
#pragma once

#include <nettrace/types.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace nettrace {

/// How an attempt failed, as the history keeps it.
enum class attempt_failure : std::uint8_t {
    refused,      ///< the peer refused (RST): the host is up, the port closed
    unreachable,  ///< no route, or the host is down (ICMP unreachable)
    timed_out,    ///< the connect timed out
    superseded,   ///< still pending when another attempt won after the attempt delay: a black hole's signature
};

std::string_view to_string(attempt_failure f) noexcept;

struct history_options {
    /// Endpoints (and hosts) remembered at most; the least recently used go
    /// first.
    std::size_t capacity = 4096;
    /// How long an outcome counts. After it, a demoted endpoint is tried in
    /// its resolver's place again (a re-probe), and a win no longer promotes.
    std::chrono::seconds ttl{300};
};

/// A bounded, thread-safe store of recent outcomes per remote endpoint.
///
/// Thread safety: every member may be called from any thread at once; any
/// number of dialers, on any executors, may share one.
class connection_history {
public:
    using clock = std::chrono::steady_clock;

    explicit connection_history(history_options options = {});
    ~connection_history();
    connection_history(const connection_history&) = delete;
    connection_history& operator=(const connection_history&) = delete;

    /// What the history says of an endpoint now.
    struct verdict {
        enum class kind : std::uint8_t { unknown, won, failed } state = kind::unknown;
        std::chrono::nanoseconds rtt{0};  ///< won: the smoothed connect RTT
        std::optional<attempt_failure> failure;
    };

    /// An attempt connected after `rtt` (smoothed as TCP does: 7/8 old,
    /// 1/8 new).
    void record_success(const boost::asio::ip::tcp::endpoint& endpoint, std::chrono::nanoseconds rtt,
                        clock::time_point now = clock::now());
    void record_failure(const boost::asio::ip::tcp::endpoint& endpoint, attempt_failure why,
                        clock::time_point now = clock::now());
    /// `host`'s attempts of `family` were black-holed while the other
    /// family won: its next races start with the other family.
    void record_family_blackhole(std::string_view host, address_family family, clock::time_point now = clock::now());
    /// A win of `family` for `host`: the family is healthy again.
    void record_family_success(std::string_view host, address_family family, clock::time_point now = clock::now());

    verdict lookup(const boost::asio::ip::tcp::endpoint& endpoint, clock::time_point now = clock::now()) const;
    /// The family `host` was recently black-holed on, if any.
    std::optional<address_family> blackholed_family(std::string_view host, clock::time_point now = clock::now()) const;

    /// Entries held (endpoints and hosts); never above capacity.
    std::size_t size() const;
    void clear();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// One history for the whole process, made at the first call (capacity
/// 4096, ttl 5 minutes): `opts.history = nettrace::default_history();`.
/// Dialers do not use it unless given it: see dial_options::history.
const std::shared_ptr<connection_history>& default_history();

}  // namespace nettrace
