// One dial and the run of all of them (session.hpp).
#include "session.hpp"

#include "text.hpp"

#include <nettrace/unix.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <iostream>
#include <span>
#include <utility>

namespace nettrace::tool {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

dial_session::dial_session(std::size_t index, std::size_t count, std::string network, std::string address,
                           reporter& out)
    : index_(index), count_(count), network_(std::move(network)), address_(std::move(address)), out_(out) {
    ctx_ =
        nettrace::with_recording({}, record_, [this](const nettrace::dial_record&, const nettrace::recorded_event& e) {
            if (e.kind == nettrace::event_kind::dial_done && e.hook_exception) report_hook_exception(e.hook_exception);
            out_.event(*this, e);
        });
}

void dial_session::completed(const boost::system::error_code& ec) {
    if (!record_.done()) {
        // A dial that could not start (dial_once) fired no hook; the
        // output still gets its result line.
        nettrace::recorded_event e;
        e.kind = nettrace::event_kind::dial_done;
        e.network = network_;
        e.address = address_;
        e.error = ec;
        e.at = record_.events.empty() ? steady::duration{} : steady::now() - record_.started;
        e.elapsed = e.at;
        e.description = "dial " + network_ + " " + address_ + ": " + ec.message();
        record_.events.push_back(std::move(e));
        out_.event(*this, record_.events.back());
    }
    out_.finished(*this);
}

// The dialer swallows what a hook throws; a bug in this tool's hooks
// should still be seen.
void dial_session::report_hook_exception(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        std::cerr << program << ": internal error in a trace hook: " << x.what() << '\n';
    } catch (...) {
        std::cerr << program << ": internal error in a trace hook\n";
    }
}

namespace {

asio::awaitable<void> dial_once(nettrace::dialer dialer, const dial_kind& kind, dial_session& session) {
    boost::system::error_code ec;
    try {
        if (kind.unix_socket) {
            auto [dial_ec, socket] = co_await nettrace::dial_unix(dialer, session.context(), session.address(),
                                                                  asio::as_tuple(asio::use_awaitable));
            ec = dial_ec;
        } else if (kind.tls) {
            auto [dial_ec, stream] = co_await kind.tls->dial(session.context(), session.network(), session.address(),
                                                             asio::as_tuple(asio::use_awaitable));
            ec = dial_ec;
        } else {
            auto [dial_ec, socket] = co_await dialer.dial(session.context(), session.network(), session.address(),
                                                          asio::as_tuple(asio::use_awaitable));
            ec = dial_ec;
        }
    } catch (const boost::system::system_error& e) {
        // The dial could not start: the first socket of this io_context
        // met the descriptor limit (no_descriptors). No hook has fired.
        ec = e.code();
    }
    session.completed(ec);
}

// --repeat: the dials in turn, each started once the previous one is over.
asio::awaitable<void> dial_in_turn(nettrace::dialer dialer, const dial_kind& kind,
                                   std::span<const std::unique_ptr<dial_session>> sessions, std::size_t& started,
                                   reporter& out) {
    for (const auto& s : sessions) {
        ++started;
        out.started(*s);
        co_await dial_once(dialer, kind, *s);
    }
}

}  // namespace

std::vector<std::unique_ptr<dial_session>> run_dials(asio::io_context& io, const nettrace::dialer& dialer,
                                                     const dial_kind& kind, const std::string& network,
                                                     const std::string& address, unsigned count, bool sequential,
                                                     reporter& out) {
    std::vector<std::unique_ptr<dial_session>> sessions;
    for (unsigned i = 0; i < count; ++i)
        sessions.push_back(std::make_unique<dial_session>(i, count, network, address, out));
    std::size_t started = 0;  // the sessions told to `out` as started, in order
    const auto done = [&](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
        // The demo's listener would keep run() busy forever.
        io.stop();
    };
    // Outside the branches: the completion handlers below refer to it while
    // run() runs, after the branch's scope has ended.
    std::size_t remaining = count;
    if (sequential) {
        asio::co_spawn(io, dial_in_turn(dialer, kind, sessions, started, out), done);
    } else {
        for (auto& s : sessions) {
            ++started;
            out.started(*s);
            asio::co_spawn(io, dial_once(dialer, kind, *s), [&remaining, done](std::exception_ptr e) {
                if (e || --remaining == 0) done(e);
            });
        }
    }
    try {
        io.run();
    } catch (const boost::system::system_error& e) {
        // A process that hit its descriptor limit before it could make even
        // one reactor cannot complete a dial: the library throws from the
        // initiation, which Asio's coroutines let out of run().
        for (std::size_t i = 0; i < sessions.size(); ++i) {
            if (i >= started) out.started(*sessions[i]);
            if (!sessions[i]->finished()) sessions[i]->completed(e.code());
        }
    }
    out.all_finished(sessions);
    return sessions;
}

}  // namespace nettrace::tool
