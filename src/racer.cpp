#include "racer.hpp"

#include <nettrace/error.hpp>

#include "detail/saturate.hpp"

#include <boost/asio/error.hpp>

#include <algorithm>

namespace nettrace::detail {

namespace asio_error = boost::asio::error;
using boost::system::error_code;

racer::racer(const racer_config& config, unsigned short port)
    : config_(config),
      port_(port),
      preferred_(config.preference == family_preference::prefer_ipv4 ||
                         config.preference == family_preference::ipv4_only
                     ? address_family::ipv4
                     : address_family::ipv6) {}

void racer::start(clock::time_point now, bool ipv6_pending, bool ipv4_pending) {
    family_[index(address_family::ipv6)].pending = ipv6_pending;
    family_[index(address_family::ipv4)].pending = ipv4_pending;
    if (config_.timeout > clock::duration::zero()) dial_deadline_ = saturating_add(now, config_.timeout);
    if (config_.deadline && (!dial_deadline_ || *config_.deadline < *dial_deadline_)) dial_deadline_ = config_.deadline;
    advance(now);
}

void racer::on_answer(address_family f, std::span<const boost::asio::ip::address> addrs, const error_code& ec,
                      clock::time_point now) {
    family_state& fam = family_[index(f)];
    if (!fam.pending) return;
    fam.pending = false;
    if (phase_ == phase::connecting) {
        fam.error = ec;
        for (const auto& a : addrs) fam.untried.emplace_back(a, port_);
        if (fam.untried.empty() && !fam.error) fam.error = make_error_code(nettrace::error::no_addresses);
        // RFC 8305 section 3: an answer of the other family waits up to the
        // resolution delay for the preferred one, counted from its arrival.
        if (f != preferred_ && !fam.untried.empty() && !resolution_deadline_)
            resolution_deadline_ = saturating_add(now, config_.resolution_delay);
    }
    advance(now);
}

void racer::on_attempt_done(std::size_t i, const error_code& ec, clock::time_point now) {
    attempt& a = attempts_.at(i);
    if (a.done) return;
    a.done = true;
    a.finished = now;
    --in_flight_;
    if (!ec) {
        a.outcome = phase_ == phase::connecting ? connect_outcome::won : connect_outcome::lost;
        if (phase_ == phase::connecting) {
            winner_ = i;
            finish({});
        }
    } else {
        a.error = ec;
        if (phase_ != phase::connecting && ec == asio_error::operation_aborted)
            a.outcome = winner_ ? connect_outcome::superseded : connect_outcome::cancelled;
        else
            a.outcome = connect_outcome::failed;
        // A failure frees its delay slot: the next attempt starts at once.
        failure_frees_slot_ = true;
    }
    advance(now);
}

void racer::on_timer(clock::time_point now) {
    if (now >= armed_) armed_ = clock::time_point::max();
    if (phase_ == phase::connecting && dial_deadline_ && now >= *dial_deadline_)
        finish(make_error_code(nettrace::error::timeout));
    advance(now);
}

void racer::cancel(const error_code& reason, clock::time_point now) {
    if (phase_ != phase::connecting) return;
    finish(reason);
    advance(now);
}

std::optional<racer_action> racer::next() {
    if (actions_.empty()) return std::nullopt;
    const racer_action a = actions_.front();
    actions_.pop_front();
    return a;
}

void racer::on_connected(std::size_t i, clock::time_point now) {
    attempt& a = attempts_.at(i);
    if (a.done || a.connected) return;
    a.connected = now;
    // HEv3: the next attempt waits a full delay from here, so the handshake
    // that follows gets its chance before another address joins.
    if (phase_ == phase::connecting) last_connected_ = std::max(last_connected_, now);
    advance(now);
}

clock::time_point racer::next_start_due() const noexcept {
    return std::max(last_start_, last_connected_) + config_.attempt_delay;
}

void racer::advance(clock::time_point now) {
    if (phase_ == phase::connecting) {
        while (may_start_another(now)) {
            auto f = pick(now);
            if (!f) break;
            start_attempt(*f, now);
        }
        const bool exhausted =
            in_flight_ == 0 && std::all_of(family_.begin(), family_.end(),
                                           [](const family_state& s) { return !s.pending && s.untried.empty(); });
        if (exhausted) finish(failure_reason());
    }
    const bool settled = phase_ == phase::finishing && in_flight_ == 0 && !family_[0].pending && !family_[1].pending;
    if (settled) phase_ = phase::done;
    schedule(now);  // before complete, which must be the last action
    if (settled) push(racer_action::complete());
}

bool racer::may_start_another(clock::time_point now) const {
    if (config_.max_concurrent != 0 && in_flight_ >= config_.max_concurrent) return false;
    if (in_flight_ == 0 || failure_frees_slot_) return true;
    return config_.race && now >= next_start_due();
}

// RFC 8305 section 3: the preferred family is used as soon as it answers;
// the other waits for the preferred family's answer (positive or negative)
// or the resolution delay.
bool racer::usable(address_family f, clock::time_point now) const {
    if (family_[index(f)].untried.empty()) return false;
    if (f == preferred_ || !family_[index(preferred_)].pending) return true;
    return resolution_deadline_ && now >= *resolution_deadline_;
}

// RFC 8305 section 4: first_family_count addresses of the preferred family,
// then alternate. Deciding from the last family started (not from a list
// fixed up front) lets a late answer become the very next attempt.
std::optional<address_family> racer::pick(clock::time_point now) const {
    const address_family other_family = other(preferred_);
    const bool pref = usable(preferred_, now), oth = usable(other_family, now);
    if (pref && oth) {
        const bool preferred_turn =
            !last_family_ || *last_family_ == other_family || preferred_started_ < config_.first_family_count;
        return preferred_turn ? preferred_ : other_family;
    }
    if (pref) return preferred_;
    if (oth) return other_family;
    return std::nullopt;
}

void racer::start_attempt(address_family f, clock::time_point now) {
    family_state& fam = family_[index(f)];
    attempts_.push_back(attempt{.endpoint = fam.untried.front(),
                                .started = now,
                                .finished = {},
                                .error = {},
                                .outcome = connect_outcome::failed,
                                .done = false,
                                .connected = std::nullopt});
    fam.untried.pop_front();
    last_start_ = now;
    last_family_ = f;
    if (f == preferred_) ++preferred_started_;
    failure_frees_slot_ = false;
    ++in_flight_;
    push(racer_action::start_attempt(attempts_.size() - 1));
}

void racer::finish(const error_code& ec) {
    phase_ = phase::finishing;
    error_ = ec;
    for (std::size_t i = 0; i < attempts_.size(); ++i)
        if (!attempts_[i].done && (!winner_ || *winner_ != i)) push(racer_action::cancel_attempt(i));
    if (family_[0].pending || family_[1].pending) push(racer_action::stop_resolving());
}

error_code racer::failure_reason() const {
    if (!attempts_.empty()) return most_telling_error(attempts());
    return combine_lookup_errors(family_[0].error, family_[1].error);
}

// One timer serves the dial deadline, the resolution delay and the attempt
// delay; it is re-armed only when the earliest of them changes.
void racer::schedule(clock::time_point now) {
    auto want = clock::time_point::max();
    if (phase_ == phase::connecting) {
        if (dial_deadline_) want = std::min(want, *dial_deadline_);
        if (resolution_deadline_ && now < *resolution_deadline_ && attempts_.empty())
            want = std::min(want, *resolution_deadline_);
        const bool has_next = usable(address_family::ipv6, clock::time_point::max()) ||
                              usable(address_family::ipv4, clock::time_point::max());
        const bool below_cap = config_.max_concurrent == 0 || in_flight_ < config_.max_concurrent;
        if (config_.race && in_flight_ > 0 && has_next && below_cap) want = std::min(want, next_start_due());
    }
    if (want == armed_) return;
    armed_ = want;
    push(want == clock::time_point::max() ? racer_action::cancel_timer() : racer_action::set_timer(want));
}

namespace {

bool is_local_failure(const error_code& ec) {
    return ec == asio_error::network_unreachable || ec == asio_error::address_family_not_supported ||
           ec == asio_error::no_permission || ec == asio_error::access_denied || ec == asio_error::no_descriptors ||
           ec == asio_error::no_buffer_space || ec == boost::system::errc::address_not_available ||
           ec == make_error_code(nettrace::error::no_local_address);
}

}  // namespace

error_code most_telling_error(std::span<const racer::attempt> attempts) {
    for (const auto& a : attempts)
        if (a.error && !is_local_failure(a.error)) return a.error;
    for (const auto& a : attempts)
        if (a.error) return a.error;
    return make_error_code(nettrace::error::no_addresses);
}

error_code combine_lookup_errors(const error_code& a, const error_code& b) {
    const error_code no_addresses = make_error_code(nettrace::error::no_addresses);
    if (a && a != no_addresses) return a;
    if (b && b != no_addresses) return b;
    return no_addresses;
}

}  // namespace nettrace::detail
