// Where an operation's code runs, told by tracker executors
// (support/tracker_executor.hpp). dial, resolve and dial_tls take their I/O
// executor (a tracked io_context executor here) and a completion handler
// bound to another executor: a tracked strand of the same io_context, or a
// tracked second io_context run by a thread of its own. The handler must run
// on its own executor; the hooks on the operation's strand of the I/O
// executor, never on the handler's; and what the operation hands back uses
// the I/O executor.
#define BOOST_TEST_MODULE executor
#include <boost/test/unit_test.hpp>

#include <nettrace/nettrace.hpp>
#include <nettrace/tls.hpp>

#include "support/common.hpp"
#include "support/tls_server.hpp"
#include "support/trace_recorder.hpp"
#include "support/tracker_executor.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace ssl = asio::ssl;
using nettrace::testing::trace_recorder;
using nettrace::testing::tracker_executor;

namespace {

const nettrace::testing::test_certificate& certificate() {
    static const nettrace::testing::test_certificate cert({"exec.test"});
    return cert;
}

// Where a piece of code ran: the trackers running it (outermost first), its
// thread, and whether the handler's executor was running it.
struct place {
    std::vector<int> trackers;
    std::thread::id thread;
    bool on_handler_executor = false;

    int innermost() const { return trackers.empty() ? -1 : trackers.back(); }
    bool inside(int id) const { return std::find(trackers.begin(), trackers.end(), id) != trackers.end(); }
};

// The places of every hook of one operation, in order.
class hook_places {
public:
    explicit hook_places(std::function<bool()> on_handler_executor) : on_handler_(std::move(on_handler_executor)) {}

    place here() const {
        const auto running = nettrace::testing::running_trackers();
        return {{running.begin(), running.end()}, std::this_thread::get_id(), on_handler_()};
    }

    nettrace::client_trace trace() {
        nettrace::client_trace t;
#define NETTRACE_TEST_PLACE(name, info) t.name = [this](const nettrace::info&) { add(#name); };
        NETTRACE_HOOKS(NETTRACE_TEST_PLACE)
#undef NETTRACE_TEST_PLACE
        return t;
    }

    std::vector<std::pair<std::string, place>> all() const {
        std::lock_guard lock(mutex_);
        return places_;
    }

private:
    void add(const char* hook) {
        auto p = here();
        std::lock_guard lock(mutex_);
        places_.emplace_back(hook, std::move(p));
    }

    std::function<bool()> on_handler_;
    mutable std::mutex mutex_;
    std::vector<std::pair<std::string, place>> places_;
};

// What a completion handler saw.
struct completion {
    error_code ec;
    std::optional<place> at;
    int io_object_executor = -1;  // the tracker of the socket or stream handed back
    std::size_t addresses = 0;    // resolve's
};

// The I/O side every case shares: an io_context run by the test's thread,
// its executor tracked; a live listener and a TLS server; exec.test pinned
// to 127.0.0.1. A derived fixture gives the handler's executor.
struct operations {
    asio::io_context ioc;
    tracker_executor io{ioc.get_executor()};
    nettrace::testing::live_listener live{ioc.get_executor(), v4};
    nettrace::testing::tls_server tls{ioc.get_executor(), v4, certificate()};
    ssl::context client{ssl::context::tls_client};
    nettrace::dialer dialer;
    trace_recorder rec;
    hook_places hooks;

    explicit operations(std::function<bool()> on_handler_executor) : hooks(std::move(on_handler_executor)) {
        certificate().trust_in(client);
        nettrace::dial_options o;
        o.resolver = nettrace::make_static_resolver({{"exec.test", {v4}}});
        dialer = nettrace::dialer(o);
    }

    nettrace::context traced() { return nettrace::with_client_trace(rec.attach(), hooks.trace()); }

    // Each runs its operation to completion with `io` as the I/O executor
    // and the handler bound to `handler_ex`.
    completion dial(const tracker_executor& handler_ex) {
        completion c;
        dialer.dial(
            io, traced(), "tcp", host_port("exec.test", live.port()),
            asio::bind_executor(handler_ex, [&](error_code ec, tcp::socket s) { finished(c, ec, s.get_executor()); }));
        ioc.run();
        return c;
    }
    completion resolve(const tracker_executor& handler_ex) {
        completion c;
        dialer.resolve(io, traced(), "exec.test",
                       asio::bind_executor(handler_ex, [&](error_code ec, std::vector<asio::ip::address> addrs) {
                           c.addresses = addrs.size();
                           finished(c, ec, std::nullopt);
                       }));
        ioc.run();
        BOOST_TEST(c.addresses == 1u);
        return c;
    }
    completion dial_tls(const tracker_executor& handler_ex) {
        completion c;
        nettrace::tls_dialer(client, {}, dialer)
            .dial(io, traced(), "tcp", host_port("exec.test", tls.port()),
                  asio::bind_executor(handler_ex, [&](error_code ec, nettrace::tls_stream s) {
                      finished(c, ec, s.lowest_layer().get_executor());
                  }));
        ioc.run();
        return c;
    }

    // The handler ran at `c.at`, on `handler_id`'s executor; every hook ran
    // on the I/O executor, outside the handler's; a dial's socket or stream
    // uses the I/O executor; and the trace kept its contract.
    enum class kind { dial, resolve };
    void check(const completion& c, int handler_id, kind k = kind::dial) const {
        BOOST_TEST(!c.ec, c.ec.message());
        BOOST_TEST_REQUIRE(c.at.has_value(), "the handler never ran");
        BOOST_TEST(c.at->innermost() == handler_id);
        BOOST_TEST(c.at->on_handler_executor);
        if (k == kind::dial) BOOST_TEST(c.io_object_executor == io.id());
        const auto places = hooks.all();
        BOOST_TEST(!places.empty());
        for (const auto& [hook, p] : places) {
            BOOST_TEST_CONTEXT(hook) {
                BOOST_TEST(p.innermost() == io.id());
                BOOST_TEST(!p.inside(handler_id));
                BOOST_TEST(!p.on_handler_executor);
            }
        }
        if (k == kind::dial) {
            rec.check_contract();
        } else {  // a lookup's own pair, nothing after completion, no two hooks at once
            BOOST_TEST(rec.count("dns_start") == 1u);
            BOOST_TEST(rec.count("dns_done") == 1u);
            BOOST_TEST(rec.hooks_after_completion() == 0);
            BOOST_TEST(rec.overlapping_hooks() == 0);
        }
    }

private:
    void finished(completion& c, error_code ec, std::optional<asio::any_io_executor> io_object) {
        rec.completed();
        c.ec = ec;
        c.at = hooks.here();
        if (io_object) c.io_object_executor = nettrace::testing::tracker_id(*io_object);
        ioc.stop();  // the listener and the server keep accepting
    }
};

// The handler on a strand of the I/O io_context: the same threads, another
// executor.
struct handler_on_a_strand : operations {
    asio::strand<asio::io_context::executor_type> strand = asio::make_strand(ioc);
    tracker_executor handler{strand};

    handler_on_a_strand() : operations([this] { return strand.running_in_this_thread(); }) {}
};

// The handler on a second io_context, run by a thread of its own.
struct handler_on_a_second_io_context : operations {
    asio::io_context other;
    asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(other);
    std::thread runner{[this] { other.run(); }};
    tracker_executor handler{other.get_executor()};

    handler_on_a_second_io_context() : operations([this] { return other.get_executor().running_in_this_thread(); }) {}
    ~handler_on_a_second_io_context() {
        work.reset();
        runner.join();
    }

    // Beside check(): every hook ran on this thread, the I/O io_context's.
    void check_hooks_on_this_thread() const {
        for (const auto& [hook, p] : hooks.all())
            BOOST_TEST((p.thread == std::this_thread::get_id()), hook << " ran on another thread");
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(handler_bound_to_a_strand_of_the_io_context, handler_on_a_strand)

BOOST_AUTO_TEST_CASE(dial_completes_on_the_strand_and_fires_its_hooks_on_the_io_executor) {
    check(dial(handler), handler.id());
}

BOOST_AUTO_TEST_CASE(resolve_completes_on_the_strand_and_fires_its_hooks_on_the_io_executor) {
    check(resolve(handler), handler.id(), kind::resolve);
}

BOOST_AUTO_TEST_CASE(dial_tls_completes_on_the_strand_and_fires_its_hooks_on_the_io_executor) {
    check(dial_tls(handler), handler.id());
    BOOST_TEST(rec.count("tls_handshake_done") == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(handler_bound_to_a_second_io_context, handler_on_a_second_io_context)

BOOST_AUTO_TEST_CASE(dial_completes_on_the_second_io_contexts_thread_and_its_hooks_stay_on_this_one) {
    const auto c = dial(handler);
    check(c, handler.id());
    BOOST_TEST((c.at->thread == runner.get_id()));
    BOOST_TEST(!c.at->inside(io.id()));
    check_hooks_on_this_thread();
}

BOOST_AUTO_TEST_CASE(resolve_completes_on_the_second_io_contexts_thread_and_its_hooks_stay_on_this_one) {
    const auto c = resolve(handler);
    check(c, handler.id(), kind::resolve);
    BOOST_TEST((c.at->thread == runner.get_id()));
    check_hooks_on_this_thread();
}

BOOST_AUTO_TEST_CASE(dial_tls_completes_on_the_second_io_contexts_thread_and_its_hooks_stay_on_this_one) {
    const auto c = dial_tls(handler);
    check(c, handler.id());
    BOOST_TEST((c.at->thread == runner.get_id()));
    check_hooks_on_this_thread();
}

BOOST_AUTO_TEST_SUITE_END()

// Several threads run the I/O io_context and many dials at once: each dial's
// hooks still run one at a time (its strand), on the I/O executor, and
// never on the strand its handler is bound to.
BOOST_AUTO_TEST_CASE(hooks_of_concurrent_dials_run_on_each_dials_strand_never_on_the_handlers) {
    asio::io_context ioc(4);
    const tracker_executor io{ioc.get_executor()};
    nettrace::testing::live_listener live(ioc.get_executor(), v4);
    const auto handler_strand = asio::make_strand(ioc);
    const tracker_executor handler{handler_strand};
    nettrace::dial_options o;
    o.resolver = nettrace::make_static_resolver({{"exec.test", {v4}}});
    const nettrace::dialer d(o);

    constexpr int dials = 50;
    std::vector<trace_recorder> recs(dials);
    std::atomic<int> done{0}, failed{0}, hooks_elsewhere{0}, handlers_elsewhere{0};
    nettrace::client_trace where;
    const auto check_hook = [&] {
        if (nettrace::testing::innermost_tracker() != io.id() || nettrace::testing::running_in(handler.id()) ||
            handler_strand.running_in_this_thread())
            ++hooks_elsewhere;
    };
#define NETTRACE_TEST_CHECK(name, info) where.name = [&](const nettrace::info&) { check_hook(); };
    NETTRACE_HOOKS(NETTRACE_TEST_CHECK)
#undef NETTRACE_TEST_CHECK
    for (auto& rec : recs)
        d.dial(
            io, nettrace::with_client_trace(rec.attach(), where), "tcp", host_port("exec.test", live.port()),
            asio::bind_executor(handler, [&](error_code ec, tcp::socket) {
                rec.completed();
                if (ec) ++failed;
                if (nettrace::testing::innermost_tracker() != handler.id() || !handler_strand.running_in_this_thread())
                    ++handlers_elsewhere;
                if (++done == dials) ioc.stop();
            }));
    run_on_threads(ioc, 4);
    BOOST_TEST(done.load() == dials);
    BOOST_TEST(failed.load() == 0);
    BOOST_TEST(hooks_elsewhere.load() == 0);
    BOOST_TEST(handlers_elsewhere.load() == 0);
    for (const auto& rec : recs) rec.check_contract();  // among them: no two hooks of one dial at once
}
