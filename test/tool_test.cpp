// nettrace-dial end to end: runs the built tool against loopback peers and
// checks what it prints and how it exits.
#define BOOST_TEST_MODULE tool
#include <boost/test/unit_test.hpp>

#include "support/dns_resolver_setup.hpp"
#include "support/dns_server.hpp"
#include "support/common.hpp"
#include "support/run_tool.hpp"
#include "support/svcb_rdata.hpp"
#include "support/tls_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>

#include <nettrace/version.hpp>

// Boost.JSON header-only, to parse --trace-json files.
#include <boost/json/src.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using nettrace::testing::run_result;
using nettrace::testing::run_tool;

std::vector<std::string> events(const run_result& r, const std::string& kind) {
    std::vector<std::string> out;
    for (auto& l : r.lines)
        if (l.find("\"event\":\"" + kind + "\"") != std::string::npos) out.push_back(l);
    return out;
}

std::string field(const std::string& line, const std::string& name) {
    std::smatch m;
    const std::regex re("\"" + name + "\":(\"[^\"]*\"|[^,}]*)");
    return std::regex_search(line, m, re) ? m[1].str() : std::string("<missing>");
}

// A file in /tmp for the tool to write, removed when the test ends.
struct temp_file {
    std::string path;
    explicit temp_file(const std::string& name)
        : path("/tmp/nettrace-tool-test-" + std::to_string(::getpid()) + "-" + name) {
        std::remove(path.c_str());
    }
    ~temp_file() { std::remove(path.c_str()); }
    std::string read() const {
        std::ifstream in(path, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
    }
};

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + what.size())) ++n;
    return n;
}

// What a --trace-json file says about its connect spans, after checking that
// it is a trace-event document.
struct trace_summary {
    std::set<std::int64_t> pids;
    std::map<std::int64_t, std::set<std::int64_t>> attempt_tids;  // per pid
    std::vector<std::string> winners;                             // network.peer.address of each won span
};

trace_summary summarize_trace(const std::string& text) {
    boost::system::error_code ec;
    const auto doc = boost::json::parse(text, ec);
    BOOST_REQUIRE_MESSAGE(!ec, "not JSON: " << ec.message() << ": " << text.substr(0, 300));
    BOOST_TEST(doc.as_object().at("displayTimeUnit").as_string() == "ms");
    trace_summary s;
    for (const auto& ev : doc.as_object().at("traceEvents").as_array()) {
        const auto& o = ev.as_object();
        const std::string ph(o.at("ph").as_string());
        BOOST_TEST((ph == "X" || ph == "M"), ph);
        BOOST_TEST(o.at("ts").is_number());
        BOOST_REQUIRE(o.at("pid").is_int64());
        BOOST_REQUIRE(o.at("tid").is_int64());
        if (ph != "X") continue;
        BOOST_TEST(o.at("dur").to_number<double>() >= 0.0);
        const auto pid = o.at("pid").as_int64();
        s.pids.insert(pid);
        if (o.at("cat").as_string() != "connect") continue;
        s.attempt_tids[pid].insert(o.at("tid").as_int64());
        const auto& args = o.at("args").as_object();
        if (args.at("nettrace.outcome").as_string() == "won")
            s.winners.emplace_back(args.at("network.peer.address").as_string());
    }
    return s;
}

// Runs an io_context on a thread so live listeners accept while the tool runs.
struct background_io {
    asio::io_context ioc;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{ioc.get_executor()};
    std::thread thread{[this] { ioc.run(); }};
    ~background_io() {
        work.reset();
        ioc.stop();
        thread.join();
    }
};

// A live listener on 127.0.0.1, accepting on a thread of its own, for the
// tool to dial.
struct live_ipv4 {
    background_io io;
    nettrace::testing::live_listener live{io.ioc.get_executor(), v4};
    std::string address() const { return "127.0.0.1:" + std::to_string(live.port()); }
};

// A unix-domain listener at DIR/s.sock in a fresh mkdtemp directory,
// accepting on `ex`'s thread; the socket and the directory go with it.
class unix_listener {
public:
    explicit unix_listener(asio::any_io_executor ex) : acceptor_(ex) {
        char dir[] = "/tmp/nettrace-tool-test-XXXXXX";
        BOOST_REQUIRE(::mkdtemp(dir));
        dir_ = dir;
        path_ = dir_ + "/s.sock";
        acceptor_.open();
        acceptor_.bind(asio::local::stream_protocol::endpoint(path_));
        acceptor_.listen();
        accept();
    }
    ~unix_listener() {
        asio::post(acceptor_.get_executor(), [this] { acceptor_.close(); });
        // The close runs on the io thread; wait for it before the acceptor goes.
        while (!closed_) std::this_thread::yield();
        ::unlink(path_.c_str());
        ::rmdir(dir_.c_str());
    }
    unix_listener(const unix_listener&) = delete;
    unix_listener& operator=(const unix_listener&) = delete;

    const std::string& path() const { return path_; }
    const std::string& dir() const { return dir_; }

private:
    void accept() {
        acceptor_.async_accept([this](boost::system::error_code ec, asio::local::stream_protocol::socket) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
                closed_ = true;
                return;
            }
            accept();  // the accepted socket closes here: the tool only connects
        });
    }

    asio::local::stream_protocol::acceptor acceptor_;
    std::string dir_, path_;
    std::atomic<bool> closed_{false};
};

}  // namespace

BOOST_AUTO_TEST_CASE(version_prints_the_library_version_and_exits_0) {
    const auto r = run_tool("--version");
    BOOST_TEST(r.status == 0, r.err);
    BOOST_TEST(r.lines == std::vector<std::string>{std::string("nettrace-dial ") + NETTRACE_VERSION_STRING});
    BOOST_TEST(r.err.empty(), r.err);
}

BOOST_AUTO_TEST_CASE(help_documents_the_exit_statuses) {
    const auto r = run_tool("--help");
    BOOST_TEST(r.status == 0, r.err);
    const auto text = r.out();
    BOOST_TEST(text.find("--version") != std::string::npos);
    BOOST_TEST(text.find("--repeat N") != std::string::npos);
    BOOST_TEST(text.find("Exit status: 0 when every dial connected, 1 when one failed or FILE could not be\n"
                         "written, 2 for bad usage.") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(demo_json_shows_the_black_hole_losing_to_the_live_address) {
    const auto r = run_tool("--demo --json");
    BOOST_TEST(r.status == 0, r.err);
    const auto starts = events(r, "connect_start"), dones = events(r, "connect_done"), result = events(r, "result");
    BOOST_REQUIRE(starts.size() == 2u);
    BOOST_TEST(dones.size() == 2u);
    BOOST_REQUIRE(result.size() == 1u);
    BOOST_TEST(field(result[0], "ok") == "true");
    BOOST_TEST(field(result[0], "remote").rfind("\"127.0.0.1:", 0) == 0u, result[0]);
    // The live address joined after about the 250 ms attempt delay.
    const double second = std::stod(field(starts[1], "t_ms"));
    BOOST_TEST(second >= 249.0);
    BOOST_TEST(second < 2000.0);
    BOOST_TEST(field(starts[1], "address") == "\"127.0.0.1\"");
}

BOOST_AUTO_TEST_CASE(demo_timeline_names_the_winner) {
    const auto r = run_tool("--demo");
    BOOST_TEST(r.status == 0, r.err);
    bool connected = false;
    for (auto& l : r.lines) connected = connected || l.rfind("connected to 127.0.0.1:", 0) == 0;
    BOOST_TEST(connected);
}

BOOST_AUTO_TEST_CASE(refused_port_exits_1_with_the_reason) {
    nettrace::testing::refused_port refused(v4);
    const auto r = run_tool("--json tcp 127.0.0.1:" + std::to_string(refused.port()));
    BOOST_TEST(r.status == 1);
    const auto result = events(r, "result");
    BOOST_REQUIRE(result.size() == 1u);
    BOOST_TEST(field(result[0], "ok") == "false");
    BOOST_TEST(field(result[0], "error").find("refused") != std::string::npos, result[0]);
}

BOOST_FIXTURE_TEST_CASE(count_runs_concurrent_dials_each_with_its_index, live_ipv4) {
    const auto r = run_tool("--json --count 3 tcp " + address());
    BOOST_TEST(r.status == 0, r.err);
    const auto result = events(r, "result");
    BOOST_REQUIRE(result.size() == 3u);
    std::vector<std::string> indexes;
    for (auto& l : result) indexes.push_back(field(l, "dial"));
    std::sort(indexes.begin(), indexes.end());
    BOOST_TEST(indexes == (std::vector<std::string>{"0", "1", "2"}));
}

BOOST_FIXTURE_TEST_CASE(repeat_runs_dials_one_after_another_each_with_its_index, live_ipv4) {
    const auto r = run_tool("--json --repeat 3 tcp " + address());
    BOOST_TEST(r.status == 0, r.err);
    const auto result = events(r, "result");
    BOOST_REQUIRE(result.size() == 3u);
    // In turn: each dial's events all come before the next one's, in order.
    std::vector<std::string> order;
    for (const auto& l : r.lines)
        if (order.empty() || order.back() != field(l, "dial")) order.push_back(field(l, "dial"));
    BOOST_TEST(order == (std::vector<std::string>{"0", "1", "2"}));
    for (const auto& l : result) BOOST_TEST(field(l, "ok") == "true", l);
}

BOOST_FIXTURE_TEST_CASE(repeat_timeline_prints_each_dial_then_the_summary, live_ipv4) {
    const auto r = run_tool("--repeat 2 tcp " + address());
    BOOST_TEST(r.status == 0, r.err);
    const auto text = r.out();
    const auto first = text.find("dial tcp " + address() + "  [dial 0]\n");
    const auto second = text.find("dial tcp " + address() + "  [dial 1]\n");
    BOOST_REQUIRE(first != std::string::npos);
    BOOST_REQUIRE(second != std::string::npos);
    BOOST_TEST(first < second);
    BOOST_TEST(text.find("connected to 127.0.0.1:", first) < second);
    BOOST_REQUIRE(!r.lines.empty());
    BOOST_TEST(r.lines.back().rfind("2 dials: 2 connected, 0 failed; time to connect min ", 0) == 0u, r.lines.back());
}

BOOST_AUTO_TEST_CASE(unix_dials_a_listening_socket_path) {
    background_io io;
    unix_listener listener(io.ioc.get_executor());
    auto r = run_tool("--json unix " + listener.path());
    BOOST_TEST(r.status == 0, r.err);
    BOOST_TEST(events(r, "dns_start").empty());
    const auto starts = events(r, "connect_start"), dones = events(r, "connect_done");
    BOOST_REQUIRE(starts.size() == 1u);
    BOOST_REQUIRE(dones.size() == 1u);
    BOOST_TEST(field(starts[0], "path") == "\"" + listener.path() + "\"", starts[0]);
    BOOST_TEST(field(dones[0], "path") == "\"" + listener.path() + "\"", dones[0]);
    BOOST_TEST(field(dones[0], "network") == "\"unix\"", dones[0]);
    const auto result = events(r, "result");
    BOOST_REQUIRE(result.size() == 1u);
    BOOST_TEST(field(result[0], "ok") == "true", result[0]);

    // The timeline names the path, not an endpoint.
    r = run_tool("unix " + listener.path());
    BOOST_TEST(r.status == 0, r.err);
    BOOST_REQUIRE(!r.lines.empty());
    BOOST_TEST(r.lines.back().rfind("connected to " + listener.path() + " in ", 0) == 0u, r.lines.back());

    // --repeat through one dialer works for unix too.
    r = run_tool("--json --repeat 2 unix " + listener.path());
    BOOST_TEST(r.status == 0, r.err);
    BOOST_TEST(events(r, "result").size() == 2u);
}

BOOST_AUTO_TEST_CASE(unix_with_a_missing_path_exits_1_with_the_reason) {
    background_io io;
    unix_listener listener(io.ioc.get_executor());  // for a directory that exists
    const auto r = run_tool("--json unix " + listener.dir() + "/missing.sock");
    BOOST_TEST(r.status == 1, r.err);
    const auto result = events(r, "result");
    BOOST_REQUIRE(result.size() == 1u);
    BOOST_TEST(field(result[0], "ok") == "false");
    BOOST_TEST(field(result[0], "error").find("No such file or directory") != std::string::npos, result[0]);
}

BOOST_AUTO_TEST_CASE(bad_usage_exits_2_and_says_what_is_wrong) {
    struct row {
        const char* args;
        const char* says;
    };
    const row rows[] = {
        {"tcp nohostport", "missing port"},
        {"udp 127.0.0.1:1", "unknown network"},
        {"--resolve bad tcp a.test:1", "--resolve"},
        {"--timeout abc 127.0.0.1:1", "--timeout"},
        {"--no-such-option 127.0.0.1:1", "--no-such-option"},
        {"--demo --trace-json same.out --svg same.out", "name the same file"},
        // One file under two spellings is still one file.
        {"--demo --trace-json same.out --svg ./same.out", "name the same file"},
        {"--demo --trace-json same.out --svg ../$(basename $PWD)/same.out", "name the same file"},
        {"--nameserver '[::1]:' 127.0.0.1:1", "the port after ':' is empty"},
        {"--nameserver '[fe80::1%lo]:53' 127.0.0.1:1", "zone"},
        {"--count 2 --repeat 2 127.0.0.1:1", "exclude one another"},
        {"--repeat 0 127.0.0.1:1", "--repeat: 0 is out of range"},
        {"unix", "missing PATH"},
        {"--tls unix /tmp/x.sock", "TLS options do not apply"},
        {"--resolver system unix /tmp/x.sock", "--resolver"},
    };
    for (const auto& row : rows) {
        const auto r = run_tool(row.args);
        BOOST_TEST(r.status == 2, row.args);
        BOOST_TEST(r.err.find(row.says) != std::string::npos, row.args << " said: " << r.err);
    }
}

BOOST_AUTO_TEST_CASE(same_file_check_leaves_no_file_behind_and_accepts_two_files) {
    std::remove("same.out");
    auto r = run_tool("--demo --trace-json same.out --svg ./same.out");
    BOOST_TEST(r.status == 2);
    BOOST_TEST(!std::ifstream("same.out").good(), "a usage error wrote the file");
    r = run_tool("--demo --trace-json one.out --svg two.out");
    BOOST_TEST(r.status == 0, r.err);
    std::remove("one.out");
    std::remove("two.out");
}

// An IPv6 name server without a port once crashed the tool at exit (SIGSEGV,
// status 139): c-ares refused the form and the io_context's shutdown met the
// channel that had failed to start. It is now asked on port 53, where nothing
// listens here, so the dial fails with a DNS error and exit status 1.
BOOST_AUTO_TEST_CASE(ipv6_nameserver_without_a_port_fails_the_dial_not_the_process,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                         return NETTRACE_WITH_CARES && nettrace::testing::ipv6_loopback_available();
                     })) {
    const auto r = run_tool("--json --timeout 5000 --nameserver ::1 x.test:80");
    BOOST_TEST(r.status == 1, "status " << r.status << ": " << r.err);
    const auto result = events(r, "result");
    BOOST_REQUIRE(result.size() == 1u);
    BOOST_TEST(field(result[0], "error").find("DNS") != std::string::npos, result[0]);
}

// Sanitizer runtimes need descriptors of their own (UBSan's vptr check
// probes memory through a pipe): a sanitized tool at a limit of a few
// descriptors reports false errors, so these cases run in the plain build.
struct not_sanitized {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
        boost::test_tools::assertion_result r(false);
        r.message() << "skipped: a sanitized tool cannot run at a limit of a few descriptors";
        return r;
#else
        return true;
#endif
    }
};

// With 4 descriptors nothing can make an Asio reactor, so no dial can
// complete; the tool still reports the dial's failure, not a stray
// exception.
BOOST_AUTO_TEST_CASE(descriptor_limit_below_any_reactor_fails_the_dial_with_emfile,
                     *boost::unit_test::precondition(not_sanitized())) {
    const auto r = run_tool("127.0.0.1:9", "ulimit -n 4; exec ");
    BOOST_TEST(r.status == 1, "status " << r.status << ": " << r.err);
    BOOST_REQUIRE(!r.lines.empty());
    BOOST_TEST(r.lines.back() == "failed: dial tcp 127.0.0.1:9: Too many open files", r.lines.back() << r.err);
}

// Enough descriptors for nettrace's spare reactor, not for the tool's own
// io_context: the library completes the dial with EMFILE and a paired trace.
BOOST_AUTO_TEST_CASE(descriptor_limit_at_the_first_socket_fails_the_dial_with_emfile,
                     *boost::unit_test::precondition(not_sanitized())) {
    const auto r = run_tool("--json 127.0.0.1:9", "ulimit -n 7; exec ");
    BOOST_TEST(r.status == 1, "status " << r.status << ": " << r.err);
    BOOST_TEST(events(r, "dial_start").size() == 1u);
    const auto result = events(r, "result");
    BOOST_REQUIRE(result.size() == 1u);
    BOOST_TEST(field(result[0], "error").find("Too many open files") != std::string::npos, result[0]);
}

// The tool's DNS options need a build with c-ares, and the test needs dnsmasq.
struct dns_testable {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        return NETTRACE_WITH_CARES && nettrace::testing::dnsmasq_server::available();
    }
};

BOOST_AUTO_TEST_CASE(nameserver_option_resolves_through_a_loopback_dns_server,
                     *boost::unit_test::precondition(dns_testable())) {
    background_io io;
    nettrace::testing::live_listener live(io.ioc.get_executor(), v4);
    nettrace::testing::dnsmasq_records records;
    records.host_records = {"dual.test,127.0.0.1,::1,60"};
    records.extra_args = {"--local=/test/"};
    nettrace::testing::dnsmasq_server dns(records);
    const auto target = " tcp dual.test:" + std::to_string(live.port());
    auto r = run_tool("--json --nameserver " + dns.address() + target);
    BOOST_TEST(r.status == 0, r.err);
    BOOST_TEST(events(r, "dns_start").size() == 1u);
    const auto done = events(r, "dns_done");
    BOOST_REQUIRE(done.size() == 1u);
    BOOST_TEST(field(done[0], "addrs") == "[\"::1\"", done[0]);  // the regex stops at the comma
    BOOST_TEST(done[0].find("\"127.0.0.1\"") != std::string::npos, done[0]);
    BOOST_TEST(field(done[0], "source") == "\"dns\"");

    // Concurrent dials share the lookups: one started them, the others joined.
    r = run_tool("--json --count 4 --nameserver " + dns.address() + target);
    BOOST_TEST(r.status == 0, r.err);
    const auto dones = events(r, "dns_done");
    BOOST_REQUIRE(dones.size() == 4u);
    int joined = 0;
    for (auto& l : dones) joined += field(l, "coalesced") == "true";
    BOOST_TEST(joined == 3);
}

BOOST_AUTO_TEST_CASE(demo_trace_json_writes_a_trace_event_document) {
    temp_file file("trace.json");
    const auto r = run_tool("--demo --trace-json " + file.path);
    BOOST_TEST(r.status == 0, r.err);
    const auto s = summarize_trace(file.read());
    BOOST_TEST(s.pids.size() == 1u);
    BOOST_REQUIRE(s.attempt_tids.size() == 1u);
    BOOST_TEST(s.attempt_tids.begin()->second.size() == 2u);  // two attempts, a track each
    BOOST_TEST(s.winners == std::vector<std::string>{"127.0.0.1"});
}

BOOST_FIXTURE_TEST_CASE(count_with_trace_json_writes_one_process_per_dial, live_ipv4) {
    temp_file file("count.json");
    const auto r = run_tool("--json --count 3 --trace-json " + file.path + " tcp " + address());
    BOOST_TEST(r.status == 0, r.err);
    BOOST_TEST(events(r, "result").size() == 3u);  // stdout still carries the JSON lines
    const auto s = summarize_trace(file.read());
    BOOST_TEST(s.pids == (std::set<std::int64_t>{1, 2, 3}));
    BOOST_TEST(s.winners.size() == 3u);
}

BOOST_AUTO_TEST_CASE(demo_svg_writes_a_waterfall) {
    temp_file file("waterfall.svg");
    const auto r = run_tool("--demo --svg " + file.path);
    BOOST_TEST(r.status == 0, r.err);
    const auto svg = file.read();
    BOOST_TEST(svg.rfind("<?xml", 0) == 0u);
    BOOST_TEST(occurrences(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"") == 1u);
    BOOST_TEST(svg.ends_with("</svg>\n"));
    BOOST_TEST(occurrences(svg, "<rect class=\"bar attempt ") == 2u);
    BOOST_TEST(occurrences(svg, "class=\"bar attempt won winner\"") == 1u);
    BOOST_TEST(svg.find(">#1 127.0.0.1:") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unwritable_trace_file_fails_at_once_with_the_reason) {
    for (const std::string option : {"--svg", "--trace-json"}) {
        // A directory cannot be opened for writing.
        const auto r = run_tool("--demo " + option + " /tmp");
        BOOST_TEST(r.status == 1, option);
        BOOST_TEST(r.err.find(option + " /tmp: cannot open for writing") != std::string::npos, r.err);
        // It failed before dialing: no demo intro, no timeline.
        BOOST_TEST(r.lines.empty(), option);
    }
}

// ---------------------------------------------------------------------------
// --tls: every attempt's handshake is part of the race.

BOOST_AUTO_TEST_CASE(tls_json_shows_a_stalled_ipv6_handshake_losing_to_ipv4_with_paired_events,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                         return nettrace::testing::ipv6_loopback_available();
                     })) {
    background_io io;
    const nettrace::testing::test_certificate cert({"dual.test"});
    nettrace::testing::tls_server server(io.ioc.get_executor(), v4, cert);
    // Completes TCP on [::1] and never answers the ClientHello.
    nettrace::testing::live_listener stall(io.ioc.get_executor(), v6, server.port());
    const std::string port = std::to_string(server.port());
    const auto r = run_tool("--json --tls --insecure --timeout 5000 --resolve dual.test:" + port +
                            ":[::1],127.0.0.1 dual.test:" + port);
    BOOST_TEST(r.status == 0, r.err);
    const auto starts = events(r, "tls_start"), dones = events(r, "tls_done");
    BOOST_REQUIRE(starts.size() == 2u);
    BOOST_REQUIRE(dones.size() == 2u);
    std::map<std::string, std::string> outcome;  // attempt -> outcome
    for (const auto& d : dones) outcome[field(d, "attempt")] = field(d, "outcome");
    BOOST_TEST(outcome["0"] == "\"superseded\"");
    BOOST_TEST(outcome["1"] == "\"won\"");
    for (const auto& d : dones)
        if (field(d, "attempt") == "1") BOOST_TEST(field(d, "version").find("TLS") != std::string::npos, d);
    const auto connects = events(r, "connect_done");
    BOOST_REQUIRE(connects.size() == 2u);
    for (const auto& c : connects) BOOST_TEST(field(c, "outcome") == "\"connected\"", c);
    const auto result = events(r, "result");
    BOOST_REQUIRE(result.size() == 1u);
    BOOST_TEST(field(result[0], "remote") == "\"127.0.0.1:" + port + "\"", result[0]);
    BOOST_TEST(field(result[0], "tls_version").find("TLS") != std::string::npos, result[0]);
    // About one extended attempt delay: 250 ms after [::1]'s TCP connect.
    const double at = std::stod(field(result[0], "elapsed_ms"));
    BOOST_TEST(at >= 249.0, "connected after " << at << " ms");
    BOOST_TEST(at < 1500.0, "connected after " << at << " ms");
}

// ---------------------------------------------------------------------------
// HTTPS records: the done-when of issue 12, with dnsmasq serving the record.

namespace {

// dnsmasq with svc.test's A record and one HTTPS record under `owner`.
nettrace::testing::dnsmasq_records https_zone(const std::string& owner, const std::string& record) {
    return {.host_records = {"svc.test,127.0.0.1"},
            .extra_args = {"--dns-rr=" + owner + ",65," + nettrace::testing::hex(nettrace::testing::svcb_rdata(record)),
                           "--local=/test/"}};
}

// The TLS server the HTTPS records point svc.test at, on 127.0.0.1:p2.
struct svc_tls_server {
    background_io io;
    const nettrace::testing::test_certificate cert{{"svc.test"}};
    nettrace::testing::tls_server server{io.ioc.get_executor(), v4, cert};
    const std::string p2 = std::to_string(server.port());
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(tls_dial_of_port_443_follows_the_https_record_s_port, svc_tls_server,
                        *boost::unit_test::precondition(nettrace::testing::dnsmasq_present())) {
    nettrace::testing::dnsmasq_server dns(https_zone("svc.test", "1 . alpn=h2 port=" + p2));
    const auto r = run_tool("--json --tls --insecure --timeout 5000 --nameserver " + dns.address() + " svc.test:443");
    BOOST_TEST(r.status == 0, r.err << dns.log());
    const auto answers = events(r, "dns_answer");
    const auto https = std::find_if(answers.begin(), answers.end(),
                                    [](const std::string& a) { return field(a, "family") == "\"https\""; });
    BOOST_TEST_REQUIRE((https != answers.end()), r.out());
    BOOST_TEST(https->find("port=" + p2) != std::string::npos, *https);
    const auto result = events(r, "result");
    BOOST_TEST_REQUIRE(result.size() == 1u);
    BOOST_TEST(field(result[0], "remote") == "\"127.0.0.1:" + p2 + "\"", result[0]);
    const auto starts = events(r, "connect_start");
    BOOST_TEST_REQUIRE(!starts.empty());
    BOOST_TEST(field(starts[0], "port") == p2, starts[0]);
    BOOST_TEST(field(starts[0], "priority") == "1", starts[0]);
}

BOOST_FIXTURE_TEST_CASE(tls_dial_of_another_port_follows_the_underscore_name_s_record, svc_tls_server,
                        *boost::unit_test::precondition(nettrace::testing::dnsmasq_present())) {
    nettrace::testing::refused_port p1(v4);
    nettrace::testing::dnsmasq_server dns(
        https_zone("_" + std::to_string(p1.port()) + "._https.svc.test", "1 svc.test. alpn=h2 port=" + p2));
    const auto r = run_tool("--json --tls --insecure --timeout 5000 --nameserver " + dns.address() +
                            " svc.test:" + std::to_string(p1.port()));
    BOOST_TEST(r.status == 0, r.err << dns.log());
    const auto result = events(r, "result");
    BOOST_TEST_REQUIRE(result.size() == 1u);
    BOOST_TEST(field(result[0], "remote") == "\"127.0.0.1:" + p2 + "\"", result[0]);
}

// ---------------------------------------------------------------------------
// The run's history: the second dial learns from the first (issue 15).

namespace {

struct repeat_timing {
    std::vector<double> elapsed;           // per dial, from its result line
    std::vector<std::string> first_start;  // per dial: its first connect_start line
};

repeat_timing repeat_timings(const run_result& r) {
    repeat_timing t;
    for (const auto& l : r.lines) {
        if (l.find("\"event\":\"result\"") != std::string::npos) t.elapsed.push_back(std::stod(field(l, "elapsed_ms")));
        if (l.find("\"event\":\"connect_start\"") != std::string::npos && field(l, "attempt") == "0")
            t.first_start.push_back(l);
    }
    return t;
}

// dual.test on one port: a black hole on [::1], a live listener on
// 127.0.0.1; `target` is what the tool is told to dial.
struct black_holed_ipv6 {
    background_io io;
    const unsigned short port = nettrace::testing::free_dual_stack_port();
    nettrace::testing::black_hole hole{v6, port};
    nettrace::testing::live_listener live{io.ioc.get_executor(), v4, port};
    const std::string p = std::to_string(port);
    const std::string target = "--resolve dual.test:" + p + ":[::1],127.0.0.1 dual.test:" + p;
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(repeat_dials_skip_a_black_holed_ipv6_after_the_first, black_holed_ipv6,
                        *boost::unit_test::precondition(ipv6_available())) {
    const auto r = run_tool("--json --repeat 3 " + target);
    BOOST_TEST(r.status == 0, r.err);
    const auto t = repeat_timings(r);
    BOOST_TEST_REQUIRE(t.elapsed.size() == 3u, r.out());
    BOOST_TEST_REQUIRE(t.first_start.size() == 3u, r.out());
    // The first dial waits out the attempt delay on the black hole ...
    BOOST_TEST(t.elapsed[0] >= 240.0, t.elapsed[0]);
    BOOST_TEST(field(t.first_start[0], "address") == "\"::1\"", t.first_start[0]);
    // ... the next ones start with 127.0.0.1 and connect at once.
    for (std::size_t i = 1; i < 3; ++i) {
        BOOST_TEST(t.elapsed[i] < 100.0, "dial " << i << ": " << t.elapsed[i] << " ms");
        BOOST_TEST(field(t.first_start[i], "address") == "\"127.0.0.1\"", t.first_start[i]);
        const auto reason = field(t.first_start[i], "reason");
        BOOST_TEST((reason == "\"history_family\"" || reason == "\"history_promoted\""), t.first_start[i]);
    }
}

BOOST_FIXTURE_TEST_CASE(without_history_every_repeat_waits_out_the_black_hole, black_holed_ipv6,
                        *boost::unit_test::precondition(ipv6_available())) {
    const auto r = run_tool("--json --no-history --repeat 3 " + target);
    BOOST_TEST(r.status == 0, r.err);
    const auto t = repeat_timings(r);
    BOOST_TEST_REQUIRE(t.elapsed.size() == 3u, r.out());
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST(t.elapsed[i] >= 240.0, "dial " << i << ": " << t.elapsed[i] << " ms");
        BOOST_TEST(field(t.first_start[i], "address") == "\"::1\"", t.first_start[i]);
    }
}
