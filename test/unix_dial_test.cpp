// dial_unix against unix-domain servers made by the test in a directory of
// its own (and in the abstract namespace): what connects, each error named,
// cancellation and deadlines, and the trace (network "unix", the path).
#define BOOST_TEST_MODULE unix_dial
#include <boost/test/unit_test.hpp>

#include <nettrace/error.hpp>
#include <nettrace/unix.hpp>

#include "support/common.hpp"
#include "support/trace_recorder.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using local = asio::local::stream_protocol;
using nettrace::error;
namespace t = nettrace::testing;

namespace {

struct unix_fixture {
    unix_fixture() {
        char tmpl[] = "/tmp/nettrace-unix-XXXXXX";
        BOOST_REQUIRE(::mkdtemp(tmpl));
        dir = tmpl;
    }
    ~unix_fixture() {
        std::error_code ignored;
        fs::remove_all(dir, ignored);
    }

    struct outcome {
        error_code error;
        std::optional<local::socket> socket;
        steady::duration took{};
    };

    outcome dial(const std::string& path, const nettrace::context& ctx = {}, const nettrace::dialer& d = {},
                 asio::cancellation_slot slot = {}) {
        rec = t::trace_recorder{};  // one trace per dial
        std::optional<outcome> out;
        const auto started = steady::now();
        nettrace::dial_unix(ioc.get_executor(), d, rec.attach(ctx), path,
                            asio::bind_cancellation_slot(slot, [&](error_code ec, local::socket s) {
                                rec.completed();
                                out = outcome{ec, std::move(s), steady::now() - started};
                            }));
        ioc.restart();  // the previous dial may have let it run out of work
        while (!out && ioc.run_one_for(10s)) {}
        BOOST_REQUIRE(out);
        rec.check_contract();
        return std::move(*out);
    }

    std::string dir;
    asio::io_context ioc;
    t::trace_recorder rec;
};

// A listener whose backlog is full: a further connect waits, as a SYN to a
// black hole does, so cancellation and deadlines have something to end.
struct full_backlog {
    explicit full_backlog(const std::string& path) {
        listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        path.copy(a.sun_path, sizeof a.sun_path - 1);
        BOOST_REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        BOOST_REQUIRE(::listen(listener, 0) == 0);
        // Connect until the queue refuses one more (EAGAIN): then it is full.
        for (int i = 0; i < 16; ++i) {
            const int c = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            const bool queued = ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
            if (!queued) {
                ::close(c);
                break;
            }
            fillers.push_back(c);
        }
        BOOST_REQUIRE(!fillers.empty());
    }
    ~full_backlog() {
        for (int c : fillers) ::close(c);
        ::close(listener);
    }
    int listener = -1;
    std::vector<int> fillers;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(dial_unix, unix_fixture)

BOOST_AUTO_TEST_CASE(connects_to_a_live_server_with_paired_unix_hooks) {
    const std::string path = dir + "/live.sock";
    local::acceptor server(ioc, local::endpoint(path));
    std::optional<local::socket> accepted;
    server.async_accept([&](error_code ec, local::socket s) {
        if (!ec) accepted = std::move(s);
    });
    auto r = dial(path);
    BOOST_REQUIRE_MESSAGE(!r.error, r.error.message());
    BOOST_TEST(r.socket->is_open());
    BOOST_TEST(r.socket->remote_endpoint().path() == path);
    const auto start = rec.of("connect_start"), done = rec.of("connect_done");
    BOOST_REQUIRE(start.size() == 1u);
    BOOST_TEST((done.at(0).outcome == nettrace::connect_outcome::won));
    BOOST_TEST(rec.count("dns_start") == 0u);
    BOOST_TEST(rec.of("dial_done").at(0).description == "dial unix " + path + ": connected to " + path);
}

BOOST_AUTO_TEST_CASE(an_abstract_name_connects) {
    const std::string name = "nettrace-test-" + std::to_string(::getpid());
    local::acceptor server(ioc, local::endpoint(std::string(1, '\0') + name));
    server.async_accept([](error_code, local::socket) {});
    const auto r = dial("@" + name);
    BOOST_TEST(!r.error, r.error.message());
}

BOOST_AUTO_TEST_CASE(a_missing_path_is_no_such_file) {
    const auto r = dial(dir + "/nothing.sock");
    BOOST_TEST((r.error == boost::system::errc::no_such_file_or_directory), r.error.message());
    const auto d = rec.of("dial_done").at(0).description;
    BOOST_TEST(d.find("connect " + dir + "/nothing.sock: ") != std::string::npos, d);
}

BOOST_AUTO_TEST_CASE(a_stale_socket_file_is_refused) {
    const std::string path = dir + "/stale.sock";
    { local::acceptor gone(ioc, local::endpoint(path)); }  // closed, its file left behind, as after a crash
    BOOST_REQUIRE(fs::exists(path));
    const auto r = dial(path);
    BOOST_TEST((r.error == boost::system::errc::connection_refused), r.error.message());
}

BOOST_AUTO_TEST_CASE(bad_paths_are_named_before_any_connect) {
    std::ofstream(dir + "/plain.txt") << "not a socket";
    BOOST_TEST((dial(dir + "/plain.txt").error == error::not_a_socket));
    BOOST_TEST((dial("/" + std::string(200, 'x')).error == error::unix_path_too_long));
    BOOST_TEST((dial("").error == error::invalid_unix_path));
    BOOST_TEST((dial(std::string("a\0b", 3)).error == error::invalid_unix_path));
    BOOST_TEST(rec.count("connect_start") == 0u);  // the last one's trace
}

BOOST_AUTO_TEST_CASE(a_full_accept_queue_is_try_again_not_a_false_success) {
    // The reactor takes EAGAIN for "in progress", then reports success for
    // a socket that never connected; dial_unix must not.
    const std::string path = dir + "/full.sock";
    const full_backlog server(path);
    const auto r = dial(path);
    BOOST_TEST((r.error == boost::system::errc::resource_unavailable_try_again), r.error.message());
}

BOOST_AUTO_TEST_CASE(cancellation_emitted_at_once_wins_over_the_connect) {
    // A unix connect completes inside async_connect; its handler is queued
    // behind the cancellation posted by the emit, so the dial must report
    // operation_aborted and close what it connected.
    const std::string path = dir + "/live.sock";
    local::acceptor server(ioc, local::endpoint(path));
    server.async_accept([](error_code, local::socket) {});
    asio::cancellation_signal cancel;
    rec = t::trace_recorder{};
    std::optional<error_code> done;
    nettrace::dial_unix(ioc.get_executor(), nettrace::dialer(), rec.attach(), path,
                        asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec, local::socket s) {
                            rec.completed();
                            BOOST_TEST(!s.is_open());
                            done = ec;
                        }));
    cancel.emit(asio::cancellation_type::terminal);
    while (!done && ioc.run_one_for(10s)) {}
    BOOST_REQUIRE(done);
    BOOST_TEST((*done == asio::error::operation_aborted), done->message());
    rec.check_contract();
}

BOOST_AUTO_TEST_CASE(a_passed_deadline_fails_before_connecting_and_a_later_one_changes_nothing) {
    const std::string path = dir + "/live.sock";
    local::acceptor server(ioc, local::endpoint(path));
    server.async_accept([](error_code, local::socket) {});
    auto r = dial(path, nettrace::with_deadline({}, steady::now() - 1s));
    BOOST_TEST((r.error == error::timeout), r.error.message());
    BOOST_TEST(rec.count("connect_start") == 0u);
    r = dial(path, nettrace::with_timeout({}, 1h));
    BOOST_TEST(!r.error, r.error.message());
}

BOOST_AUTO_TEST_SUITE_END()
