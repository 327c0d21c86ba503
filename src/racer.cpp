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
                     : address_family::ipv6) {
    // The learned preference: RFC 8305's first-family rule applies to it.
    if (config.avoid && *config.avoid == preferred_) {
        preferred_ = other(preferred_);
        family_learned_ = true;
    }
}

void racer::start(clock::time_point now, bool ipv6_pending, bool ipv4_pending, bool services_pending) {
    family_[index(address_family::ipv6)].pending = ipv6_pending;
    family_[index(address_family::ipv4)].pending = ipv4_pending;
    services_pending_ = services_pending;
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
        fam.answered = true;
        fam.error = ec;
        for (const auto& a : addrs) fam.answer.push_back({{a, port_}, next_seq_++});
        if (fam.answer.empty() && !fam.error) fam.error = make_error_code(nettrace::error::no_addresses);
        if (groups_.empty()) {
            // Without HTTPS groups a family's candidates are its answer, and
            // this is its only one: listing it is what rebuild would do.
            for (const auto& o : fam.answer) add_candidate(f, o.endpoint, 0, o.seq, no_service);
            if (config_.history && !config_.keep_order) [[unlikely]]
                apply_history(fam, now);
        } else {
            rebuild(now);
        }
        note_addresses(now);
    }
    advance(now);
}

void racer::on_endpoints(std::span<const boost::asio::ip::tcp::endpoint> endpoints, clock::time_point now) {
    for (auto& fam : family_) {
        fam.pending = false;
        fam.answered = true;
    }
    if (phase_ == phase::connecting) {
        for (const auto& e : endpoints)
            family_[index(e.address().is_v6() ? address_family::ipv6 : address_family::ipv4)].answer.push_back(
                {e, next_seq_++});
        for (auto& fam : family_)
            if (fam.answer.empty()) fam.error = make_error_code(nettrace::error::no_addresses);
        rebuild(now);
        note_addresses(now);
    }
    advance(now);
}

void racer::on_services(std::span<const service_group> groups, clock::time_point now) {
    if (!services_pending_) return;
    services_pending_ = false;
    if (phase_ == phase::connecting && !groups.empty()) {
        groups_.reserve(groups.size());
        for (const auto& g : groups) {
            group_state& s = groups_.emplace_back();
            s.group = g;
            s.addresses.assign(g.ipv6.begin(), g.ipv6.end());
            s.addresses.insert(s.addresses.end(), g.ipv4.begin(), g.ipv4.end());
        }
        // The spans now point into each group's own copy.
        for (auto& s : groups_) {
            const auto v6 = s.group.ipv6.size();
            s.group.ipv6 = std::span(s.addresses.data(), v6);
            s.group.ipv4 = std::span(s.addresses.data() + v6, s.addresses.size() - v6);
        }
        std::stable_sort(groups_.begin(), groups_.end(), [](const group_state& x, const group_state& y) {
            return x.group.priority < y.group.priority;
        });
        rebuild(now);
        note_addresses(now);
    }
    advance(now);
}

void racer::set_nat64(const nat64_prefix& prefix, clock::time_point now) {
    nat64_ = prefix;
    if (phase_ == phase::connecting) rebuild(now);
    advance(now);
}

// The untried endpoints, made anew from every input: each group in
// priority order (its addresses, or the host's once they answered), then
// the host's own addresses at the dialed port. An endpoint already tried,
// or already listed under a better group, is left out.
void racer::rebuild(clock::time_point now) {
    for (auto& fam : family_) {
        fam.untried.clear();
        fam.head = 0;
    }
    std::uint32_t rank = 0;
    for (const auto& s : groups_) {
        const auto& g = s.group;
        for (auto f : {address_family::ipv6, address_family::ipv4}) {
            const family_state& fam = family_[index(f)];
            const auto id = static_cast<std::int32_t>(g.id);
            if (g.uses_host && fam.answered) {
                for (const auto& o : fam.answer) add_candidate(f, {o.endpoint.address(), g.port}, rank, o.seq, id);
            } else {
                std::uint32_t seq = 0;
                for (const auto& a : f == address_family::ipv6 ? g.ipv6 : g.ipv4)
                    add_candidate(f, {a, g.port}, rank, seq++, id);
            }
        }
        ++rank;
    }
    for (auto f : {address_family::ipv6, address_family::ipv4})
        for (const auto& o : family_[index(f)].answer) add_candidate(f, o.endpoint, rank, o.seq, no_service);
    if (config_.history && !config_.keep_order) [[unlikely]]
        for (auto& fam : family_) apply_history(fam, now);
}

// Within each group, what won recently first (lower RTT first), what failed
// recently last; the order is otherwise kept. Endpoints are never dropped.
void racer::apply_history(family_state& fam, clock::time_point now) {
    for (auto& c : fam.untried) {
        const auto v = config_.history->lookup(c.endpoint, now);
        c.learned = v.state == connection_history::verdict::kind::won      ? 0
                    : v.state == connection_history::verdict::kind::failed ? 2
                                                                           : 1;
        c.rtt = c.learned == 0 ? v.rtt : std::chrono::nanoseconds(0);
    }
    std::stable_sort(fam.untried.begin(), fam.untried.end(), [](const candidate& a, const candidate& b) {
        if (a.rank != b.rank) return a.rank < b.rank;
        if (a.learned != b.learned) return a.learned < b.learned;
        return a.rtt < b.rtt;
    });
}

void racer::add_candidate(address_family f, boost::asio::ip::tcp::endpoint ep, std::uint32_t rank, std::uint32_t seq,
                          std::int32_t service) {
    std::optional<boost::asio::ip::address_v4> from;
    if (nat64_ && ep.address().is_v4()) {
        from = ep.address().to_v4();
        ep.address(synthesize(*nat64_, *from));
    }
    for (const auto& a : attempts_)
        if (a.endpoint == ep) return;
    for (const auto& fam : family_)
        for (const auto& c : fam.untried)
            if (c.endpoint == ep) return;
    family_[index(f)].untried.push_back(
        candidate{.endpoint = ep, .rank = rank, .seq = seq, .service = service, .nat64_from = from});
}

// HEv3's resolution rule: connect once an address is known, the preferred
// family has answered and the HTTPS answer is in; or, with some address
// known, once the resolution delay has passed. Without HTTPS this is RFC
// 8305 section 3: the other family waits for the preferred one's answer.
// With a history, addresses that all failed recently are no answer to act
// on at once while a family is still out: its answer may hold a healthy one.
bool racer::ready(clock::time_point now) const {
    if (!services_pending_ && !family_[index(preferred_)].pending && !only_demoted_while_pending()) return true;
    return resolution_deadline_ && now >= *resolution_deadline_;
}

bool racer::only_demoted_while_pending() const {
    if (!config_.history || (!family_[0].pending && !family_[1].pending)) return false;
    for (const auto& fam : family_)
        for (std::size_t i = fam.head; i < fam.untried.size(); ++i)
            if (fam.untried[i].learned != 2) return false;
    return true;
}

// The resolution delay counts from the first address known while the rule
// above still waits.
void racer::note_addresses(clock::time_point now) {
    if (resolution_deadline_ || ready(now)) return;
    if (family_[0].has_next() || family_[1].has_next())
        resolution_deadline_ = saturating_add(now, config_.resolution_delay);
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
            in_flight_ == 0 && !services_pending_ &&
            std::all_of(family_.begin(), family_.end(),
                        [](const family_state& s) { return !s.pending && !s.has_next(); });
        if (exhausted) finish(failure_reason());
    }
    const bool settled = phase_ == phase::finishing && in_flight_ == 0 && !family_[0].pending &&
                         !family_[1].pending && !services_pending_;
    if (settled) phase_ = phase::done;
    schedule(now);  // before complete, which must be the last action
    if (settled) push(racer_action::complete());
}

bool racer::may_start_another(clock::time_point now) const {
    if (config_.max_concurrent != 0 && in_flight_ >= config_.max_concurrent) return false;
    if (in_flight_ == 0 || failure_frees_slot_) return true;
    return config_.race && now >= next_start_due();
}

// RFC 8305 section 4 within each priority group (HEv3): first_family_count
// addresses of the preferred family, then alternate; a group of lower rank
// goes first. Deciding from the last family started (not from a list fixed
// up front) lets a late answer become the very next attempt.
std::optional<address_family> racer::pick(clock::time_point now) const {
    const address_family other_family = other(preferred_);
    if (!ready(now)) return std::nullopt;
    const bool pref = family_[index(preferred_)].has_next(), oth = family_[index(other_family)].has_next();
    if (pref && oth) {
        const candidate& p = family_[index(preferred_)].next();
        const candidate& o = family_[index(other_family)].next();
        if (config_.keep_order) return p.seq < o.seq ? preferred_ : other_family;
        if (p.rank != o.rank) return p.rank < o.rank ? preferred_ : other_family;
        if (p.learned != o.learned) return p.learned < o.learned ? preferred_ : other_family;
        if (p.learned == 0 && p.rtt != o.rtt) return p.rtt < o.rtt ? preferred_ : other_family;
        const bool new_group = !last_family_ || last_rank_ != p.rank;
        const bool preferred_turn =
            new_group || *last_family_ == other_family || preferred_started_ < config_.first_family_count;
        return preferred_turn ? preferred_ : other_family;
    }
    if (pref) return preferred_;
    if (oth) return other_family;
    return std::nullopt;
}

void racer::start_attempt(address_family f, clock::time_point now) {
    family_state& fam = family_[index(f)];
    const candidate& c = fam.next();
    if (!last_family_ || c.rank != last_rank_) preferred_started_ = 0;
    attempt_reason reason = attempt_reason::resolver_order;
    if (c.learned == 0)
        reason = attempt_reason::history_promoted;
    else if (c.learned == 2)
        reason = attempt_reason::history_demoted;
    else if (family_learned_ && f == preferred_ && !last_family_)
        reason = attempt_reason::history_family;
    else if (last_family_ && *last_family_ != f)
        reason = attempt_reason::interleave;
    attempts_.push_back(attempt{.endpoint = c.endpoint,
                                .started = now,
                                .finished = {},
                                .error = {},
                                .outcome = connect_outcome::failed,
                                .done = false,
                                .connected = std::nullopt,
                                .service = c.service,
                                .nat64_from = c.nat64_from,
                                .reason = reason});
    last_rank_ = c.rank;
    ++fam.head;
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
    if (family_[0].pending || family_[1].pending || services_pending_) push(racer_action::stop_resolving());
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
        const bool has_next =
            (family_[0].has_next() || family_[1].has_next()) && ready(clock::time_point::max());
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

namespace {

address_family family_of(const racer::attempt& a) {
    return a.nat64_from || a.endpoint.address().is_v4() ? address_family::ipv4 : address_family::ipv6;
}

std::optional<attempt_failure> failure_of(const racer::attempt& a, clock::duration attempt_delay) {
    if (a.outcome == connect_outcome::superseded)
        return !a.connected && a.finished - a.started >= attempt_delay ? std::optional(attempt_failure::superseded)
                                                                      : std::nullopt;
    if (a.outcome != connect_outcome::failed || a.connected) return std::nullopt;  // a handshake's failure is no path's
    if (a.error == asio_error::connection_refused) return attempt_failure::refused;
    if (a.error == asio_error::timed_out) return attempt_failure::timed_out;
    if (a.error == asio_error::network_unreachable || a.error == asio_error::host_unreachable)
        return attempt_failure::unreachable;
    return std::nullopt;
}

}  // namespace

void learn_from(const racer& r, connection_history& history, std::string_view host, clock::time_point now) {
    const auto& config = r.config();
    bool preferred_blackholed = false;
    const address_family preferred = config.preference == family_preference::prefer_ipv4 ||
                                             config.preference == family_preference::ipv4_only
                                         ? address_family::ipv4
                                         : address_family::ipv6;
    for (const auto& a : r.attempts()) {
        if (a.outcome == connect_outcome::won || a.outcome == connect_outcome::lost ||
            (a.connected && a.outcome != connect_outcome::cancelled)) {
            const auto connected_at = a.connected ? *a.connected : a.finished;
            history.record_success(a.endpoint, connected_at - a.started, now);
            continue;
        }
        if (const auto why = failure_of(a, config.attempt_delay)) {
            history.record_failure(a.endpoint, *why, now);
            if (family_of(a) == preferred && (*why == attempt_failure::superseded || *why == attempt_failure::timed_out))
                preferred_blackholed = true;
        }
    }
    if (host.empty() || !r.winner()) return;
    const address_family won = family_of(r.attempts()[*r.winner()]);
    if (won == preferred)
        history.record_family_success(host, preferred, now);
    else if (preferred_blackholed)
        history.record_family_blackhole(host, preferred, now);
}

error_code combine_lookup_errors(const error_code& a, const error_code& b) {
    const error_code no_addresses = make_error_code(nettrace::error::no_addresses);
    if (a && a != no_addresses) return a;
    if (b && b != no_addresses) return b;
    return no_addresses;
}

}  // namespace nettrace::detail
