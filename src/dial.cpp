// dial and resolve: the dialer's state, and the operations behind every
// token (the dial itself is src/detail/dial_op.hpp, shared with dial_tls).
#include <nettrace/dial.hpp>
#include <nettrace/dns_resolver.hpp>
#include <nettrace/error.hpp>

#include "detail/dial_op.hpp"
#include "detail/op_allocator.hpp"
#include "detail/dialer_state.hpp"
#include "detail/lookup_operation.hpp"
#include "detail/saturate.hpp"
#include "detail/spare_socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <memory>
#include <string>
#include <utility>

namespace nettrace::detail {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

// The system resolver standing in for a c-ares resolver that could not be
// made: every failed lookup names that failure in its cause, which the
// dial's description (dial_done, the trace, the tool's result line) quotes.
// A successful lookup says dns_source::system where c-ares would say dns.
// See docs/resolvers.md, "The default resolver".
class stand_in_resolver final : public resolver {
public:
    explicit stand_in_resolver(std::string why) : why_(std::move(why)) {}

    std::shared_ptr<pending_lookup> lookup(const asio::any_io_executor& ex, std::string_view host,
                                           address_family family, callback done) override {
        return system_->lookup(ex, host, family, [why = why_, done = std::move(done)](lookup_result r) {
            if (r.error && r.error != asio::error::operation_aborted) r.cause += (r.cause.empty() ? "" : "; ") + why;
            done(std::move(r));
        });
    }

private:
    std::shared_ptr<resolver> system_ = make_system_resolver();
    std::string why_;
};

// c-ares when this build has it (answers per family as they arrive, can be
// cancelled, no threads); getaddrinfo otherwise. Made once, by the first
// dialer without a resolver of its own.
const std::shared_ptr<resolver>& default_resolver() {
    static const std::shared_ptr<resolver> r = []() -> std::shared_ptr<resolver> {
        if (!dns_resolver_available()) return make_system_resolver();
        try {
            return make_dns_resolver();
        } catch (const std::exception& e) {
            return std::make_shared<stand_in_resolver>(
                std::string("getaddrinfo answered: the default c-ares resolver could not be made: ") + e.what());
        }
    }();
    return r;
}

}  // namespace

std::shared_ptr<const dialer_state> make_dialer_state(dial_options o) {
    using std::chrono::milliseconds;
    o.timeout = std::max(o.timeout, milliseconds(0));
    // RFC 8305 section 5: a delay below 10 ms floods the network with SYNs;
    // above 2 s (its recommended maximum, kept by HEv3) a dead address
    // stalls the dial for longer than any user waits.
    o.attempt_delay = std::clamp(o.attempt_delay, min_attempt_delay, max_attempt_delay);
    o.resolution_delay = std::max(o.resolution_delay, milliseconds(0));
    o.first_family_count = std::max(o.first_family_count, 1u);
    if (!o.resolver) o.resolver = default_resolver();
    prepare_spare_context();  // while descriptors are free: see spare_socket.hpp
    auto state = std::make_shared<dialer_state>();
    // Durations beyond what the clock holds saturate: "very long" stays
    // very long (every deadline is computed with saturating_add).
    state->racer = racer_config{
        .attempt_delay = o.attempt_delay,
        .race = o.race,
        .resolution_delay = saturating_duration<clock>(o.resolution_delay),
        .first_family_count = o.first_family_count,
        .preference = o.preference,
        .max_concurrent = o.max_concurrent_attempts,
        .timeout = saturating_duration<clock>(o.timeout),
    };
    state->options = std::move(o);
    return state;
}

const std::shared_ptr<const dialer_state>& default_dialer_state() {
    static const std::shared_ptr<const dialer_state> state = make_dialer_state({});
    return state;
}

const dial_options& options_of(const dialer_state& state) noexcept { return state.options; }

namespace {

class resolve_op final : public lookup_operation<resolve_signature> {
public:
    resolve_op(std::shared_ptr<const dialer_state> state, context ctx, std::string host, asio::any_io_executor ex,
               asio::any_completion_executor handler_ex, resolve_handler handler)
        : lookup_operation(std::move(ex), state->options.single_threaded, std::move(ctx), std::move(handler),
                           std::move(handler_ex)),
          state_(std::move(state)) {
        host_ = std::move(host);
    }

    void initiate() {
        lookup_operation::initiate<resolve_op>([](resolve_op& op) { op.run(); });
    }

private:
    void run() {
        error_code ec;
        if (const auto literal = parse_ip_literal(host_, ec)) return complete({}, {*literal});
        if (ec) return complete(ec, {});
        if (host_.empty()) return complete(make_error_code(error::missing_host), {});
        if (host_.size() > 253 + (host_.back() == '.' ? 1 : 0))
            return complete(make_error_code(error::host_too_long), {});
        if (!is_valid_host_name(host_)) return complete(make_error_code(error::invalid_host), {});
        // The context's deadline bounds a resolve (the dialer's timeout
        // does not: it is the dial's).
        const auto now = clock::now();
        if (const auto deadline = context_deadline(ctx_)) {
            if (*deadline <= now) return complete(make_error_code(error::timeout), {});
            timer_ = std::make_unique<asio::steady_timer>(strand_, *deadline);
            timer_->async_wait([self = shared_from_this(), this](const error_code& ec) {
                resumed();
                if (ec || completed() || stopped_) return;
                stopped_ = make_error_code(error::timeout);
                stop_lookups();
            });
        }
        const auto pref = state_->options.preference;
        start_lookups(*state_->options.resolver, pref != family_preference::ipv4_only,
                      pref != family_preference::ipv6_only, now);
    }

    void on_answer(address_family, clock::time_point) override {
        if (lookups_pending()) return;
        if (stopped_) return complete(stopped_, {});
        const bool v4_first = state_->options.preference == family_preference::prefer_ipv4;
        const auto& first = lookup(v4_first ? address_family::ipv4 : address_family::ipv6);
        const auto& second = lookup(v4_first ? address_family::ipv6 : address_family::ipv4);
        std::vector<asio::ip::address> addrs = first.addrs;
        addrs.insert(addrs.end(), second.addrs.begin(), second.addrs.end());
        const error_code ec = addrs.empty() ? combine_lookup_errors(first.error, second.error) : error_code();
        complete(ec, std::move(addrs));
    }

    void on_cancel() override {
        if (completed() || stopped_) return;
        stopped_ = asio::error::operation_aborted;
        stop_lookups();
    }

    void complete(const error_code& ec, std::vector<asio::ip::address> addrs) {
        release_lookups();
        if (timer_) timer_->cancel();
        lookup_operation::complete(ec, std::move(addrs));
    }

    std::shared_ptr<const dialer_state> state_;
    error_code stopped_;  // cancelled, or the context's deadline passed: the lookups were stopped
    std::unique_ptr<asio::steady_timer> timer_;  // the context's deadline, when it has one
};

}  // namespace

error_code apply_socket_options(tcp::socket& socket, const dial_options& o) {
    error_code ec;
    if (o.no_delay) socket.set_option(tcp::no_delay(true), ec);
    if (!ec && o.keep_alive.enable) {
        socket.set_option(asio::socket_base::keep_alive(true), ec);
        const auto set = [&](int name, long long value) {
            if (ec) return;
            const int v = static_cast<int>(std::clamp<long long>(value, 1, 32767));
            if (::setsockopt(socket.native_handle(), IPPROTO_TCP, name, &v, sizeof v) != 0)
                ec = error_code(errno, boost::system::system_category());
        };
        set(TCP_KEEPIDLE, o.keep_alive.idle.count());
        set(TCP_KEEPINTVL, o.keep_alive.interval.count());
        set(TCP_KEEPCNT, o.keep_alive.count);
    }
    return ec;
}

void start_dial(std::shared_ptr<const dialer_state>&& state, context&& ctx, std::string&& network,
                std::string&& address, asio::any_io_executor&& ex, asio::any_completion_executor&& handler_ex,
                dial_handler&& handler) {
    std::allocate_shared<dial_op<tcp_final>>(op_allocator<dial_op<tcp_final>>(), std::move(state), std::move(ctx),
                                             std::move(network), std::move(address), std::move(ex),
                                             std::move(handler_ex), std::move(handler), tcp_final{})
        ->initiate();
}

std::string describe_endpoints(std::span<const tcp::endpoint> endpoints) {
    std::string out;
    for (const auto& e : endpoints) {
        if (!out.empty()) out += ',';
        out += join_host_port(e);
    }
    return out;
}

void start_dial_endpoints(std::shared_ptr<const dialer_state> state, context ctx, std::string network,
                          std::vector<tcp::endpoint> endpoints, asio::any_io_executor ex,
                          asio::any_completion_executor handler_ex, dial_handler handler) {
    auto op = std::allocate_shared<dial_op<tcp_final>>(
        op_allocator<dial_op<tcp_final>>(), std::move(state), std::move(ctx), std::move(network),
        describe_endpoints(endpoints), std::move(ex), std::move(handler_ex), std::move(handler), tcp_final{});
    op->set_endpoints(std::move(endpoints));
    op->initiate();
}

void start_resolve(std::shared_ptr<const dialer_state> state, context ctx, std::string host, asio::any_io_executor ex,
                   asio::any_completion_executor handler_ex, resolve_handler handler) {
    std::make_shared<resolve_op>(std::move(state), std::move(ctx), std::move(host), std::move(ex),
                                 std::move(handler_ex), std::move(handler))
        ->initiate();
}

}  // namespace nettrace::detail
