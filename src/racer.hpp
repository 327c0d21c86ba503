// The racer: RFC 8305 Happy Eyeballs as a sans-I/O state machine. Events in
// (a DNS answer for one family, an attempt's transport connected, an attempt
// finished, the timer fired, cancel), typed actions out (start or cancel an
// attempt, arm or cancel the timer, stop resolving, complete). It reads no
// clock and touches no socket, so every timing rule is tested exactly on a
// virtual clock; src/dial_op.hpp drives it with Asio.
//
// An attempt is a pipeline: TCP connect, then the stages that follow it
// (dial_tls's handshake). It wins when its last stage completes. When
// stages follow, "transport connected" restarts the attempt delay (HEv3:
// the timer is extended after TCP completes), so a handshake gets one full
// delay before the next address joins the race.
#pragma once

#include <nettrace/history.hpp>
#include <nettrace/nat64.hpp>
#include <nettrace/options.hpp>
#include <nettrace/types.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/container/small_vector.hpp>
#include <boost/system/error_code.hpp>

#include <array>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace nettrace::detail {

using clock = std::chrono::steady_clock;

// A first-in first-out queue that keeps its first N elements inline, so the
// racer of a dial of one address allocates nothing (std::deque allocates
// even when empty). It only grows while it holds something: once drained,
// its storage is reused from the start.
template <class T, std::size_t N>
class small_queue {
public:
    bool empty() const noexcept { return head_ == items_.size(); }
    const T& front() const { return items_[head_]; }
    void pop_front() {
        if (++head_ == items_.size()) {
            items_.clear();
            head_ = 0;
        }
    }
    template <class... Args>
    void emplace_back(Args&&... args) {
        items_.emplace_back(std::forward<Args>(args)...);
    }
    void push_back(const T& item) { items_.push_back(item); }

private:
    boost::container::small_vector<T, N> items_;
    std::size_t head_ = 0;
};

struct racer_config {
    clock::duration attempt_delay = std::chrono::milliseconds(250);  // already clamped
    bool race = true;
    clock::duration resolution_delay = std::chrono::milliseconds(50);
    unsigned first_family_count = 1;
    family_preference preference = family_preference::prefer_ipv6;
    unsigned max_concurrent = 0;                        // 0: no cap
    clock::duration timeout = clock::duration::zero();  // 0: none
    std::optional<clock::time_point> deadline{};        // the context's (with_deadline); the earlier of the two applies
    bool stages_after_connect = false;                  // the driver reports on_connected, then on_attempt_done
    bool keep_order = false;                            // endpoint lists: the caller's order, no interleave
    // Learned dialing (connection_history): endpoints sorted by what it
    // says; with `avoid` the preferred family, the other leads.
    const connection_history* history = nullptr;
    std::optional<address_family> avoid{};
};

/// One HTTPS ServiceMode record as the racer needs it: where (its port and
/// addresses) and in which group (its priority). The driver keeps the rest
/// (ALPN, ECH) under `id`, which each attempt carries back.
struct service_group {
    std::uint16_t priority = 1;
    std::uint16_t port = 0;
    /// The record's TargetName is the dialed host: its A/AAAA answers are
    /// the addresses, and `ipv6`/`ipv4` (the hints) stand in until each
    /// family has answered. Otherwise they are the target's own addresses.
    bool uses_host = true;
    std::span<const boost::asio::ip::address> ipv6{};
    std::span<const boost::asio::ip::address> ipv4{};
    std::uint32_t id = 0;
};

/// What the racer asks its driver to do next, Boost.MySQL's next_action
/// style: a type and the accessors that type has (they assert it).
class racer_action {
public:
    enum class type : std::uint8_t { start_attempt, cancel_attempt, set_timer, cancel_timer, stop_resolving, complete };

    static racer_action start_attempt(std::size_t i) noexcept { return {type::start_attempt, i, {}}; }
    static racer_action cancel_attempt(std::size_t i) noexcept { return {type::cancel_attempt, i, {}}; }
    static racer_action set_timer(clock::time_point deadline) noexcept { return {type::set_timer, 0, deadline}; }
    static racer_action cancel_timer() noexcept { return {type::cancel_timer, 0, {}}; }
    static racer_action stop_resolving() noexcept { return {type::stop_resolving, 0, {}}; }
    static racer_action complete() noexcept { return {type::complete, 0, {}}; }

    type kind() const noexcept { return type_; }
    /// start_attempt, cancel_attempt: the attempt's index.
    std::size_t attempt() const noexcept {
        assert(type_ == type::start_attempt || type_ == type::cancel_attempt);
        return attempt_;
    }
    /// set_timer: when it is to fire.
    clock::time_point deadline() const noexcept {
        assert(type_ == type::set_timer);
        return deadline_;
    }

private:
    racer_action(type t, std::size_t i, clock::time_point d) noexcept : type_(t), attempt_(i), deadline_(d) {}
    type type_;
    std::size_t attempt_;
    clock::time_point deadline_;
};

class racer {
public:
    static constexpr std::int32_t no_service = -1;

    struct attempt {
        boost::asio::ip::tcp::endpoint endpoint;  // what is dialed (NAT64: the synthesized address)
        clock::time_point started{};
        clock::time_point finished{};
        boost::system::error_code error;
        connect_outcome outcome = connect_outcome::failed;
        bool done = false;
        std::optional<clock::time_point> connected;  // the transport's connect completed (with stages after it)
        std::int32_t service = no_service;           // the service_group's id, or no_service
        std::optional<boost::asio::ip::address_v4> nat64_from{};  // the IPv4 address it was synthesized from
        attempt_reason reason = attempt_reason::resolver_order;
    };

    racer(const racer_config& config, unsigned short port);

    // Events. `now` is the time of the event; each may queue actions.
    /// `services_pending`: an HTTPS answer (on_services) is awaited; until
    /// it arrives, connecting waits (HEv3), at most the resolution delay
    /// after the first address is known.
    void start(clock::time_point now, bool ipv6_pending, bool ipv4_pending, bool services_pending = false);
    /// The host's A or AAAA answer: its addresses at the dialed port.
    void on_answer(address_family family, std::span<const boost::asio::ip::address> addrs,
                   const boost::system::error_code& ec, clock::time_point now);
    /// A list of endpoints (each with its own port) that answers both
    /// families at once, in the caller's order.
    void on_endpoints(std::span<const boost::asio::ip::tcp::endpoint> endpoints, clock::time_point now);
    /// The HTTPS answer: the usable ServiceMode records (empty: none, or
    /// the lookup failed). Endpoints are then grouped by priority, lowest
    /// first; the host's own addresses at the dialed port come last.
    void on_services(std::span<const service_group> groups, clock::time_point now);
    /// From now on IPv4 addresses are dialed at their synthesized IPv6
    /// address (NAT64), sorted and interleaved as IPv4 still.
    void set_nat64(const nat64_prefix& prefix, clock::time_point now);
    /// With config.stages_after_connect: attempt `i`'s TCP connect
    /// succeeded and its next stage starts; on_attempt_done follows.
    void on_connected(std::size_t attempt, clock::time_point now);
    void on_attempt_done(std::size_t attempt, const boost::system::error_code& ec, clock::time_point now);
    void on_timer(clock::time_point now);
    void cancel(const boost::system::error_code& reason, clock::time_point now);

    /// The next queued action, if any. `complete` is always the last.
    std::optional<racer_action> next();

    bool finished() const noexcept { return phase_ != phase::connecting; }
    bool completed() const noexcept { return phase_ == phase::done; }
    std::optional<std::size_t> winner() const noexcept { return winner_; }
    const boost::system::error_code& error() const noexcept { return error_; }
    std::span<const attempt> attempts() const noexcept { return {attempts_.data(), attempts_.size()}; }
    bool pending(address_family f) const noexcept { return family_[index(f)].pending; }
    bool services_pending() const noexcept { return services_pending_; }
    address_family preferred() const noexcept { return preferred_; }
    const racer_config& config() const noexcept { return config_; }

private:
    enum class phase { connecting, finishing, done };

    // An endpoint of the race not yet started: its group's rank (lower
    // first; the host's plain addresses rank last) and its arrival order.
    struct candidate {
        boost::asio::ip::tcp::endpoint endpoint;
        std::uint32_t rank = 0;
        std::uint32_t seq = 0;
        std::int32_t service = no_service;
        std::optional<boost::asio::ip::address_v4> nat64_from{};
        // What the history says: 0 won recently, 1 nothing, 2 failed recently.
        std::uint8_t learned = 1;
        std::chrono::nanoseconds rtt{0};
    };

    struct origin_endpoint {
        boost::asio::ip::tcp::endpoint endpoint;
        std::uint32_t seq = 0;
    };

    struct family_state {
        bool pending = false;
        bool answered = false;
        boost::container::small_vector<origin_endpoint, 1> answer;  // the host's answer (or the caller's list)
        boost::system::error_code error;                            // a negative answer
        boost::container::small_vector<candidate, 1> untried;       // rebuilt from the inputs; consumed from `head`
        std::size_t head = 0;
        bool has_next() const noexcept { return head < untried.size(); }
        const candidate& next() const noexcept { return untried[head]; }
    };

    struct group_state {
        service_group group;  // its spans point into `addresses`
        std::vector<boost::asio::ip::address> addresses;
    };

    static std::size_t index(address_family f) noexcept { return f == address_family::ipv6 ? 0 : 1; }
    static address_family other(address_family f) noexcept {
        return f == address_family::ipv6 ? address_family::ipv4 : address_family::ipv6;
    }

    void advance(clock::time_point now);
    void rebuild(clock::time_point now);
    void apply_history(family_state& fam, clock::time_point now);
    void add_candidate(address_family f, boost::asio::ip::tcp::endpoint ep, std::uint32_t rank, std::uint32_t seq,
                       std::int32_t service);
    bool ready(clock::time_point now) const;
    bool only_demoted_while_pending() const;
    void note_addresses(clock::time_point now);
    bool may_start_another(clock::time_point now) const;
    std::optional<address_family> pick(clock::time_point now) const;
    void start_attempt(address_family f, clock::time_point now);
    void finish(const boost::system::error_code& ec);
    boost::system::error_code failure_reason() const;
    void schedule(clock::time_point now);
    void push(racer_action a) { actions_.push_back(a); }
    // The attempt delay counts from the last start, or from the last
    // transport connect when stages follow it (the HEv3 extension).
    clock::time_point next_start_due() const noexcept;

    racer_config config_;
    unsigned short port_;
    address_family preferred_;
    phase phase_ = phase::connecting;
    std::array<family_state, 2> family_;
    std::optional<clock::time_point> resolution_deadline_;
    std::optional<clock::time_point> dial_deadline_;
    clock::time_point last_start_{};
    clock::time_point last_connected_{};
    std::optional<address_family> last_family_;
    unsigned preferred_started_ = 0;
    std::uint32_t last_rank_ = 0;
    std::uint32_t next_seq_ = 0;
    bool services_pending_ = false;
    std::vector<group_state> groups_;  // sorted by priority; empty without HTTPS records
    std::optional<nat64_prefix> nat64_;
    bool family_learned_ = false;  // config.avoid flipped the preferred family
    bool failure_frees_slot_ = false;
    std::size_t in_flight_ = 0;
    clock::time_point armed_ = clock::time_point::max();
    boost::container::small_vector<attempt, 1> attempts_;  // inline: a dial of one address
    std::optional<std::size_t> winner_;
    boost::system::error_code error_;
    small_queue<racer_action, 2> actions_;
};

// The error a failed dial reports when several attempts failed: the first
// one the peer caused (refused, reset, timed out) over local ones (no route,
// no IPv6 stack), so a v4 RST is not hidden behind a v6 ENETUNREACH.
boost::system::error_code most_telling_error(std::span<const racer::attempt> attempts);

// What a finished race teaches a connection_history: each attempt's
// outcome, and whether `host`'s preferred family was black-holed (its
// attempts still pending a full attempt delay or more when the other family
// won) or is healthy (it won).
void learn_from(const racer& r, connection_history& history, std::string_view host, clock::time_point now);

// Two families' lookup errors as one: a real failure (NXDOMAIN, SERVFAIL)
// over "no address of this family".
boost::system::error_code combine_lookup_errors(const boost::system::error_code& a, const boost::system::error_code& b);

}  // namespace nettrace::detail
