// The RFC 8305 racer as a sans-I/O state machine: events in (a DNS answer for
// one family, an attempt finished, the timer fired, cancel), actions out
// (start or cancel an attempt, arm the timer, stop resolving, complete). It
// reads no clock and touches no socket, so every timing rule is tested
// exactly on a virtual clock; src/dial.cpp drives it with Asio.
#pragma once

#include <nettrace/options.hpp>
#include <nettrace/trace.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/container/small_vector.hpp>
#include <boost/system/error_code.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <utility>

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
    unsigned max_concurrent = 0;               // 0: no cap
    clock::duration timeout = clock::duration::zero();  // 0: none
};

class happy_eyeballs {
public:
    enum class action_type { start_attempt, cancel_attempt, set_timer, cancel_timer, stop_resolving, complete };

    struct action {
        action_type type;
        std::size_t attempt = 0;         // start_attempt, cancel_attempt
        clock::time_point deadline{};    // set_timer
    };

    struct attempt {
        boost::asio::ip::tcp::endpoint endpoint;
        clock::time_point started{};
        clock::time_point finished{};
        boost::system::error_code error;
        connect_outcome outcome = connect_outcome::failed;
        bool done = false;
    };

    happy_eyeballs(const racer_config& config, unsigned short port);

    // Events. `now` is the time of the event; each may queue actions.
    void start(clock::time_point now, bool ipv6_pending, bool ipv4_pending);
    void on_answer(address_family family, std::span<const boost::asio::ip::address> addrs,
                   const boost::system::error_code& ec, clock::time_point now);
    void on_attempt_done(std::size_t attempt, const boost::system::error_code& ec, clock::time_point now);
    void on_timer(clock::time_point now);
    void cancel(const boost::system::error_code& reason, clock::time_point now);

    // Pops the next queued action; false when there is none.
    bool next(action& out);

    bool finished() const noexcept { return phase_ != phase::connecting; }
    bool completed() const noexcept { return phase_ == phase::done; }
    std::optional<std::size_t> winner() const noexcept { return winner_; }
    const boost::system::error_code& error() const noexcept { return error_; }
    std::span<const attempt> attempts() const noexcept { return {attempts_.data(), attempts_.size()}; }
    bool pending(address_family f) const noexcept { return family_[index(f)].pending; }
    address_family preferred() const noexcept { return preferred_; }

private:
    enum class phase { connecting, finishing, done };

    struct family_state {
        bool pending = false;
        small_queue<boost::asio::ip::tcp::endpoint, 1> untried;
        boost::system::error_code error;  // a negative answer
    };

    static std::size_t index(address_family f) noexcept { return f == address_family::ipv6 ? 0 : 1; }
    static address_family other(address_family f) noexcept {
        return f == address_family::ipv6 ? address_family::ipv4 : address_family::ipv6;
    }

    void advance(clock::time_point now);
    bool may_start_another(clock::time_point now) const;
    bool usable(address_family f, clock::time_point now) const;
    std::optional<address_family> pick(clock::time_point now) const;
    void start_attempt(address_family f, clock::time_point now);
    void finish(const boost::system::error_code& ec);
    boost::system::error_code failure_reason() const;
    void schedule(clock::time_point now);
    void push(action a) { actions_.push_back(a); }

    racer_config config_;
    unsigned short port_;
    address_family preferred_;
    phase phase_ = phase::connecting;
    std::array<family_state, 2> family_;
    std::optional<clock::time_point> resolution_deadline_;
    std::optional<clock::time_point> dial_deadline_;
    clock::time_point last_start_{};
    std::optional<address_family> last_family_;
    unsigned preferred_started_ = 0;
    bool failure_frees_slot_ = false;
    std::size_t in_flight_ = 0;
    clock::time_point armed_ = clock::time_point::max();
    boost::container::small_vector<attempt, 1> attempts_;  // inline: a dial of one address
    std::optional<std::size_t> winner_;
    boost::system::error_code error_;
    small_queue<action, 2> actions_;
};

// The error a failed dial reports when several attempts failed: the first
// one the peer caused (refused, reset, timed out) over local ones (no route,
// no IPv6 stack), so a v4 RST is not hidden behind a v6 ENETUNREACH.
boost::system::error_code most_telling_error(std::span<const happy_eyeballs::attempt> attempts);

// Two families' lookup errors as one: a real failure (NXDOMAIN, SERVFAIL)
// over "no address of this family".
boost::system::error_code combine_lookup_errors(const boost::system::error_code& a,
                                                const boost::system::error_code& b);

}  // namespace nettrace::detail
