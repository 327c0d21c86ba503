// The I/O half of nettrace: drives the happy_eyeballs state machine with Asio
// sockets, a timer and a resolver, and fires the trace hooks. Everything of
// one operation runs on its own strand, which is what serialises the hooks.
#include <nettrace/dial.hpp>
#include <nettrace/dns_resolver.hpp>
#include <nettrace/error.hpp>

#include "detail/saturate.hpp"
#include "detail/spare_socket.hpp"
#include "happy_eyeballs.hpp"

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detail/scheduler.hpp>  // concurrency_hint(): see make_op_strand
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <array>
#include <deque>
#include <memory>
#include <optional>
#include <utility>

namespace nettrace::detail {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

struct dialer_state {
    dial_options options;
    racer_config racer;
};

// c-ares when this build has it (answers per family as they arrive, can be
// cancelled, no threads); getaddrinfo otherwise.
const std::shared_ptr<resolver>& default_resolver() {
    static const std::shared_ptr<resolver> r = [] {
        if (dns_resolver_available()) try {
                return make_dns_resolver();
            } catch (const std::exception&) {
            }
        return make_system_resolver();
    }();
    return r;
}

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

std::size_t index(address_family f) { return f == address_family::ipv6 ? 0 : 1; }

using io_strand = asio::strand<asio::io_context::executor_type>;

// Where the operation's handlers run, one at a time. An io_context made with
// concurrency hint 1 is, by Asio's own definition of that hint, run by one
// thread, so its executor already serialises them: no strand (its mutex and
// its heap block) needed. Otherwise a strand over the io_context's own
// executor when that is what we were given (the usual case), as it fits in
// place in an any_io_executor: a strand over the type-erased executor is
// heap-allocated there, and allocates again on every handler it runs (to
// query the inner executor's blocking property).
asio::any_io_executor make_op_strand(const asio::any_io_executor& ex) {
    if (const auto* io = ex.target<asio::io_context::executor_type>()) {
        if (asio::use_service<asio::detail::scheduler>(io->context()).concurrency_hint() == 1) return ex;
        return asio::make_strand(*io);
    }
    return asio::make_strand(ex);
}

// The operation whose first step is running inside its initiating function
// on this thread (see traced_op::start), if any.
thread_local const void* op_in_initiation = nullptr;

// What dial and resolve share: the strand, the trace, and the lookups of one
// host, with their DNS hooks.
class traced_op : public std::enable_shared_from_this<traced_op> {
public:
    virtual ~traced_op() = default;

protected:
    traced_op(asio::any_io_executor ex, context ctx)
        : ex_(std::move(ex)),
          strand_(make_op_strand(ex_)),
          ctx_(std::move(ctx)),
          trace_(context_client_trace(ctx_)) {}

    // A throwing hook must not break the operation or skip later hooks.
    template <class Hook, class Info>
    void fire(const Hook& hook, const Info& info) noexcept {
        if (!hook) return;
        try {
            hook(info);
        } catch (...) {
            if (!hook_exception_) hook_exception_ = std::current_exception();
        }
    }

    // Called on the initiating thread, before anything is queued, so a
    // cancellation emitted right after initiation is not lost. Cancellation
    // is always posted: emitted from inside a hook (which runs on the
    // strand), it must not re-enter the operation half-way through a step.
    // `handler_ex` is the handler's executor, or empty when that is ex_.
    template <class Handler>
    void bind_handler(const Handler& handler, const asio::any_completion_executor& handler_ex) {
        if (handler_ex)
            handler_work_ = std::make_unique<asio::any_completion_executor>(
                asio::prefer(handler_ex, asio::execution::outstanding_work.tracked));
        slot_ = asio::get_associated_cancellation_slot(handler);
        if (!slot_.is_connected()) return;
        slot_.assign([weak = weak_from_this()](asio::cancellation_type type) {
            if ((type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                         asio::cancellation_type::total)) == asio::cancellation_type::none)
                return;
            if (auto self = weak.lock()) asio::post(self->strand_, [self] { self->on_cancel(); });
        });
    }

    // Runs the operation's first step on the strand: at once when the
    // initiating thread runs ex_'s io_context (as a coroutine does), which
    // saves a trip through its queue, else as soon as the strand can. Either
    // way the handler never runs before the initiating function has
    // returned: complete_with posts it when called from within.
    template <class Step>
    void start(Step step) {
        struct restore {
            const void* outer;
            ~restore() { op_in_initiation = outer; }
        } guard{std::exchange(op_in_initiation, this)};
        with_strand([&](const auto& strand) { asio::dispatch(strand, std::move(step)); });
    }

    // Calls `f` with the strand, as its concrete type when it is an
    // io_context's: Asio's path through a type-erased executor costs a
    // wrapper, often a heap block, per handler.
    template <class F>
    void with_strand(F&& f) const {
        if (const auto* s = strand_.target<io_strand>())
            f(*s);
        else
            f(strand_);
    }

    // Invokes the handler through its own executor (kept busy by
    // handler_work_ until the handler has run, when it is not ex_). The slot
    // is cleared there too: cancellation slots are not thread safe, and the
    // caller emits on that executor, not on our strand.
    template <class Handler, class... Args>
    void complete_with(Handler& handler_member, Args&&... args) {
        const bool initiating = op_in_initiation == this;
        if (dns_) dns_->work = {};
        const auto handler_ex = handler_work_ ? *handler_work_ : asio::any_completion_executor();
        auto invoke = [handler = std::move(handler_member), slot = slot_, work = std::move(handler_work_),
                       ... args = std::forward<Args>(args)]() mutable {
            if (slot.is_connected()) slot.clear();
            std::move(handler)(std::move(args)...);
        };
        if (initiating)
            asio::post(ex_, [handler_ex, ex = ex_, invoke = std::move(invoke)]() mutable {
                dispatch_to(handler_ex, ex, std::move(invoke));
            });
        else
            dispatch_to(handler_ex, ex_, std::move(invoke));
    }

    // To the handler's executor: handler_ex, or ex when that is empty (as
    // its concrete type when it is an io_context's, see with_strand).
    template <class Function>
    static void dispatch_to(const asio::any_completion_executor& handler_ex, const asio::any_io_executor& ex,
                            Function&& f) {
        if (handler_ex)
            asio::dispatch(handler_ex, std::forward<Function>(f));
        else if (const auto* io = ex.target<asio::io_context::executor_type>())
            asio::dispatch(*io, std::forward<Function>(f));
        else
            asio::dispatch(ex, std::forward<Function>(f));
    }

    void start_lookups(resolver& r, bool ipv6, bool ipv4, clock::time_point now) {
        dns_ = std::make_unique<dns_state>();
        // A resolver may answer from a thread of its own, with nothing of
        // ours queued on ex_ meanwhile: keep its io_context from running dry.
        dns_->work = asio::prefer(ex_, asio::execution::outstanding_work.tracked);
        dns_->started = now;
        if (trace_) fire(trace_->dns_start, dns_start_info{host_});
        for (auto f : {address_family::ipv6, address_family::ipv4}) {
            if (f == address_family::ipv6 ? !ipv6 : !ipv4) continue;
            auto& l = dns_->lookups[index(f)];
            l.pending = true;
            auto self = shared_from_this();
            try {
                l.handle = r.lookup(strand_, host_, f, [self, f](lookup_result result) {
                    self->on_lookup(f, std::move(result));
                });
            } catch (const std::exception& e) {
                // A resolver that throws fails its family, like any lookup
                // failure; the answer is posted, as resolvers promise. At
                // the descriptor limit (a c-ares channel's first timer on a
                // fresh io_context) that is the error to name.
                lookup_result failed;
                const auto* system = dynamic_cast<const boost::system::system_error*>(&e);
                failed.error = system && system->code() == asio::error::no_descriptors
                                   ? system->code()
                                   : make_error_code(error::dns_failure);
                asio::post(strand_, [self, f, failed]() mutable { self->on_lookup(f, std::move(failed)); });
            }
        }
    }

    void stop_lookups() {
        if (!dns_) return;
        for (auto& l : dns_->lookups)
            if (l.pending && l.handle) l.handle->cancel();
    }

    bool lookups_pending() const { return dns_ && (dns_->lookups[0].pending || dns_->lookups[1].pending); }
    const lookup_result& lookup(address_family f) const { return dns_->lookups[index(f)].result; }

    // Invoked on the strand with the answer stored in lookup(f).
    virtual void on_answer(address_family f, clock::time_point now) = 0;
    virtual void on_cancel() = 0;

    asio::any_io_executor ex_;
    asio::any_io_executor strand_;        // make_op_strand(ex_)
    // Keeps the handler's executor busy when it is not ex_ (rare: a pointer
    // keeps the common case small, as every dial in flight carries this).
    std::unique_ptr<asio::any_completion_executor> handler_work_;
    context ctx_;
    const client_trace* trace_;
    std::exception_ptr hook_exception_;
    std::string host_;
    asio::cancellation_slot slot_;

private:
    struct family_lookup {
        std::shared_ptr<pending_lookup> handle;
        bool pending = false;
        lookup_result result;
    };

    // What looking up a name takes, made when a lookup starts: a dial of an
    // IP literal needs none of it.
    struct dns_state {
        std::array<family_lookup, 2> lookups;
        clock::time_point started{};
        asio::any_io_executor work;  // keeps the I/O executor busy while we wait on DNS
    };

    void on_lookup(address_family f, lookup_result result) {
        auto& l = dns_->lookups[index(f)];
        if (!l.pending) return;
        l.pending = false;
        l.handle.reset();
        l.result = std::move(result);
        const auto now = clock::now();
        if (trace_) report_answer(f, now);
        on_answer(f, now);
    }

    void report_answer(address_family f, clock::time_point now) {
        const auto& r = dns_->lookups[index(f)].result;
        fire(trace_->dns_answer, dns_answer_info{host_, f, r.addrs, r.error, r.source, r.coalesced, now - dns_->started});
        if (lookups_pending() || !trace_->dns_done) return;
        dns_done_info done{host_, {}, false, {}, dns_source::none, now - dns_->started};
        std::vector<asio::ip::address> all;
        for (const auto& l : dns_->lookups) {
            all.insert(all.end(), l.result.addrs.begin(), l.result.addrs.end());
            done.coalesced = done.coalesced || l.result.coalesced;
            if (done.source == dns_source::none || (!l.result.addrs.empty() && all.size() == l.result.addrs.size()))
                done.source = l.result.source;
        }
        done.addrs = all;
        if (all.empty())
            done.error = combine_lookup_errors(dns_->lookups[0].result.error, dns_->lookups[1].result.error);
        fire(trace_->dns_done, done);
    }

    std::unique_ptr<dns_state> dns_;
};

// ---------------------------------------------------------------------------

class dial_op final : public traced_op {
public:
    dial_op(std::shared_ptr<const dialer_state> state, context ctx, std::string network, std::string address,
            asio::any_io_executor ex, dial_handler handler)
        : traced_op(std::move(ex), std::move(ctx)),
          state_(std::move(state)),
          network_(std::move(network)),
          address_(std::move(address)),
          handler_(std::move(handler)) {
        // Made first: on a fresh io_context this creates the reactor, which
        // at the descriptor limit fails. The dial then completes with that
        // error (run() checks start_error_) and hands back a spare socket:
        // an exception from here would leave io_context::run() (or, in a
        // coroutine, abandon it) and lose the dial. This socket is also the
        // result when no attempt wins, so completing never makes one.
        first_socket_.emplace(make_socket(ex_, start_error_));
    }

    void initiate(const asio::any_completion_executor& handler_ex) {
        bind_handler(handler_, handler_ex);
        start([self = std::static_pointer_cast<dial_op>(shared_from_this())] { self->run(); });
    }

private:
    void run() {
        started_ = clock::now();
        if (trace_) fire(trace_->dial_start, dial_start_info{network_, address_});

        if (start_error_) return complete(start_error_);
        error_code ec;
        const auto net = parse_network(network_, ec);
        if (!net) return complete(ec);
        auto hp = parse_host_port(address_, ec);
        if (!hp) return complete(ec);
        host_ = std::move(hp->host);

        const auto pref = state_->options.preference;
        const bool ipv6 = *net != network::tcp4 && pref != family_preference::ipv4_only;
        const bool ipv4 = *net != network::tcp6 && pref != family_preference::ipv6_only;

        racer_.emplace(state_->racer, hp->port);
        if (hp->ip) {
            // IP literals skip DNS, and its hooks, as in Go.
            const auto family = hp->ip->is_v6() ? address_family::ipv6 : address_family::ipv4;
            if (family == address_family::ipv6 ? !ipv6 : !ipv4)
                return complete(make_error_code(error::no_suitable_address));
            racer_->start(started_, family == address_family::ipv6, family == address_family::ipv4);
            racer_->on_answer(family, std::span(&*hp->ip, 1), {}, started_);
        } else {
            if (!ipv6 && !ipv4) return complete(make_error_code(error::no_suitable_address));
            racer_->start(started_, ipv6, ipv4);
            start_lookups(*state_->options.resolver, ipv6, ipv4, started_);
        }
        drain();
    }

    void on_answer(address_family f, clock::time_point now) override {
        racer_->on_answer(f, lookup(f).addrs, lookup(f).error, now);
        drain();
    }

    void on_cancel() override {
        if (!handler_ || !racer_ || racer_->finished()) return;
        racer_->cancel(asio::error::operation_aborted, clock::now());
        drain();
    }

    // Performs the racer's actions until it has none left.
    void drain() {
        bool complete_now = false;
        happy_eyeballs::action a;
        while (racer_->next(a)) {
            switch (a.type) {
            case happy_eyeballs::action_type::start_attempt: start_attempt(a.attempt); break;
            case happy_eyeballs::action_type::cancel_attempt: {
                error_code ignored;
                attempt_socket(a.attempt).cancel(ignored);
                break;
            }
            case happy_eyeballs::action_type::set_timer:
                if (!timer_) timer_ = std::make_unique<asio::steady_timer>(strand_);
                timer_->expires_at(a.deadline);
                timer_->async_wait([self = shared_from_this(), this](const error_code& ec) {
                    if (ec == asio::error::operation_aborted) return;
                    racer_->on_timer(clock::now());
                    drain();
                });
                break;
            case happy_eyeballs::action_type::cancel_timer:
                if (timer_) timer_->cancel();
                break;
            case happy_eyeballs::action_type::stop_resolving: stop_lookups(); break;
            case happy_eyeballs::action_type::complete: complete_now = true; break;
            }
        }
        if (complete_now) complete(racer_->error());
    }

    void start_attempt(std::size_t i) {
        const tcp::endpoint endpoint = racer_->attempts()[i].endpoint;
        tcp::socket& socket = add_socket(i);
        if (trace_) fire(trace_->connect_start, connect_start_info{network_, endpoint, i});
        if (error_code ec = open(socket, endpoint)) {
            // Failing to create the socket (no IPv6 stack, no local address)
            // ends the attempt at once and frees its delay slot.
            return finish_attempt(i, ec);
        }
        with_strand([&](const auto& strand) {
            socket.async_connect(endpoint, asio::bind_executor(strand, [self = shared_from_this(), this,
                                                                        i](const error_code& ec) {
                                     finish_attempt(i, ec);
                                     drain();
                                 }));
        });
    }

    error_code open(tcp::socket& socket, const tcp::endpoint& endpoint) const {
        const auto& o = state_->options;
        error_code ec;
        if (endpoint.address().is_v6() ? (!o.local_ipv6 && o.local_ipv4) : (!o.local_ipv4 && o.local_ipv6))
            return make_error_code(error::no_local_address);
        socket.open(endpoint.protocol(), ec);
        if (!ec && endpoint.address().is_v6() && o.local_ipv6) socket.bind({*o.local_ipv6, 0}, ec);
        if (!ec && endpoint.address().is_v4() && o.local_ipv4) socket.bind({*o.local_ipv4, 0}, ec);
        return ec;
    }

    void finish_attempt(std::size_t i, const error_code& ec) {
        racer_->on_attempt_done(i, ec, clock::now());
        const auto& a = racer_->attempts()[i];
        if (a.outcome != connect_outcome::won) {
            error_code ignored;
            attempt_socket(i).close(ignored);
        }
        if (trace_)
            fire(trace_->connect_done,
                 connect_done_info{network_, a.endpoint, i, a.error, a.outcome, a.finished - a.started});
    }

    void complete(const error_code& ec) {
        // The winner's socket, else the first one, closed by now.
        tcp::socket result = std::move(attempt_socket(racer_ && racer_->winner() ? *racer_->winner() : 0));
        first_socket_.reset();
        more_sockets_.reset();
        if (trace_ && trace_->dial_done) report_done(ec, result);
        complete_with(handler_, ec, std::move(result));
    }

    void report_done(const error_code& ec, const tcp::socket& result) {
        // Inline room for two attempts: a traced dial of one or two addresses allocates nothing here.
        boost::container::small_vector<attempt_record, 2> records;
        if (racer_)
            for (const auto& a : racer_->attempts())
                records.push_back({a.endpoint, a.error, a.outcome, a.started - started_, a.finished - a.started});
        dial_done_info info{network_, address_, ec, {}, {}, std::span(records.data(), records.size()),
                            clock::now() - started_, hook_exception_};
        error_code ignored;
        if (!ec) {
            info.remote = result.remote_endpoint(ignored);
            info.local = result.local_endpoint(ignored);
        }
        fire(trace_->dial_done, info);
    }

    std::shared_ptr<const dialer_state> state_;
    std::string network_;
    std::string address_;
    std::unique_ptr<asio::steady_timer> timer_;  // made when first armed: a dial of one address never is
    dial_handler handler_;
    clock::time_point started_{};
    std::optional<happy_eyeballs> racer_;
    error_code start_error_;  // the first socket could not be made (see the constructor)

    // One socket per attempt, by index, never moved while it connects. The
    // first lives inline, so a dial of one address allocates none; the
    // others in a deque, made only when needed.
    tcp::socket& attempt_socket(std::size_t i) { return i == 0 ? *first_socket_ : (*more_sockets_)[i - 1]; }
    tcp::socket& add_socket(std::size_t i) {
        if (i == 0) return *first_socket_;
        if (!more_sockets_) more_sockets_ = std::make_unique<std::deque<tcp::socket>>();
        return more_sockets_->emplace_back(ex_);
    }
    std::optional<tcp::socket> first_socket_;
    std::unique_ptr<std::deque<tcp::socket>> more_sockets_;
};

// ---------------------------------------------------------------------------

class resolve_op final : public traced_op {
public:
    resolve_op(std::shared_ptr<const dialer_state> state, context ctx, std::string host, asio::any_io_executor ex,
               resolve_handler handler)
        : traced_op(std::move(ex), std::move(ctx)), state_(std::move(state)), handler_(std::move(handler)) {
        host_ = std::move(host);
    }

    void initiate(const asio::any_completion_executor& handler_ex) {
        bind_handler(handler_, handler_ex);
        start([self = std::static_pointer_cast<resolve_op>(shared_from_this())] { self->run(); });
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
        const auto pref = state_->options.preference;
        start_lookups(*state_->options.resolver, pref != family_preference::ipv4_only,
                      pref != family_preference::ipv6_only, clock::now());
    }

    void on_answer(address_family, clock::time_point) override {
        if (lookups_pending()) return;
        if (cancelled_) return complete(asio::error::operation_aborted, {});
        const bool v4_first = state_->options.preference == family_preference::prefer_ipv4;
        const auto& first = lookup(v4_first ? address_family::ipv4 : address_family::ipv6);
        const auto& second = lookup(v4_first ? address_family::ipv6 : address_family::ipv4);
        std::vector<asio::ip::address> addrs = first.addrs;
        addrs.insert(addrs.end(), second.addrs.begin(), second.addrs.end());
        const error_code ec = addrs.empty() ? combine_lookup_errors(first.error, second.error) : error_code();
        complete(ec, std::move(addrs));
    }

    void on_cancel() override {
        if (!handler_ || cancelled_) return;
        cancelled_ = true;
        stop_lookups();
    }

    void complete(const error_code& ec, std::vector<asio::ip::address> addrs) {
        complete_with(handler_, ec, std::move(addrs));
    }

    std::shared_ptr<const dialer_state> state_;
    resolve_handler handler_;
    bool cancelled_ = false;
};

}  // namespace

void start_dial(std::shared_ptr<const dialer_state> state, context ctx, std::string network, std::string address,
                asio::any_io_executor ex, asio::any_completion_executor handler_ex, dial_handler handler) {
    std::make_shared<dial_op>(std::move(state), std::move(ctx), std::move(network), std::move(address),
                              std::move(ex), std::move(handler))
        ->initiate(handler_ex);
}

void start_resolve(std::shared_ptr<const dialer_state> state, context ctx, std::string host,
                   asio::any_io_executor ex, asio::any_completion_executor handler_ex, resolve_handler handler) {
    std::make_shared<resolve_op>(std::move(state), std::move(ctx), std::move(host), std::move(ex),
                                 std::move(handler))
        ->initiate(handler_ex);
}

}  // namespace nettrace::detail
