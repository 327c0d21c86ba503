// The recorder and the exporters: records made by real dials on loopback
// (a black-holed first address racing a live second one), written as JSON
// lines, a Chrome trace and an SVG waterfall, and each output checked by a
// parser rather than by string matching alone.
#define BOOST_TEST_MODULE export
#include <boost/test/unit_test.hpp>

#include <nettrace/nettrace.hpp>

#include "support/common.hpp"

// Boost.JSON header-only, in this one translation unit.
#include <boost/json/src.hpp>

#include <boost/asio/io_context.hpp>

#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace json = boost::json;

namespace {

constexpr auto attempt_delay = 30ms;

// [127.0.0.2]:P drops SYNs, 127.0.0.1:P accepts; race.test resolves to both
// in that order (IPv4 only: the AAAA lookup fails with no_addresses).
struct race {
    asio::io_context io;
    std::unique_ptr<nettrace::testing::black_hole> hole;
    std::unique_ptr<nettrace::testing::live_listener> live;
    unsigned short port = 0;
    nettrace::dialer dialer;

    race() {
        std::string last_error;
        // The port is free when the black hole binds it, but another process
        // may take it on 127.0.0.1 first; a fresh port fixes that.
        for (int i = 0; i < 10 && !live; ++i) {
            try {
                hole = std::make_unique<nettrace::testing::black_hole>(v4_other);
                live = std::make_unique<nettrace::testing::live_listener>(io.get_executor(), v4, hole->port());
                port = hole->port();
            } catch (const std::exception& e) {
                last_error = e.what();
            }
        }
        if (!live) throw std::runtime_error("cannot set up the loopback peers: " + last_error);
        nettrace::dial_options o;
        o.attempt_delay = attempt_delay;
        o.timeout = 10s;  // the black hole would otherwise hold a broken race for minutes
        o.resolver = nettrace::make_static_resolver({{"race.test", {v4_other, v4}}});
        dialer = nettrace::dialer(o);
    }

    std::string address() const { return "race.test:" + std::to_string(port); }

    /// Dials race.test with `ctx` and returns the dial's error.
    error_code dial(const nettrace::context& ctx) {
        error_code result = asio::error::would_block;
        dialer.dial(io.get_executor(), ctx, "tcp", address(), [&](error_code ec, tcp::socket) {
            result = ec;
            io.stop();  // the live listener would keep run() busy
        });
        io.restart();
        io.run();
        return result;
    }

    nettrace::dial_record record() {
        nettrace::dial_record r;
        const auto ec = dial(nettrace::with_recording({}, r));
        BOOST_REQUIRE_MESSAGE(!ec, "the race failed: " << ec.message());
        return r;
    }
};

std::vector<nettrace::event_kind> kinds(const nettrace::dial_record& r) {
    std::vector<nettrace::event_kind> out;
    for (const auto& e : r.events) out.push_back(e.kind);
    return out;
}

std::size_t count(const nettrace::dial_record& r, nettrace::event_kind k) {
    std::size_t n = 0;
    for (const auto& e : r.events) n += e.kind == k;
    return n;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + what.size())) ++n;
    return n;
}

// An error whose message is not UTF-8 and holds a control character, as a
// legacy-locale strerror can produce.
struct latin1_category final : boost::system::error_category {
    const char* name() const noexcept override { return "latin1"; }
    std::string message(int) const override { return "caf\xE9 \x01 \"bad\" \xFF"; }
};
const latin1_category latin1;

// A record built by hand: host names and errors no resolver would produce.
nettrace::dial_record hostile_record(const std::string& host) {
    nettrace::dial_record r;
    r.started = std::chrono::steady_clock::now();
    r.events.reserve(8);  // add() hands out references into the vector: it must not move
    const auto add = [&](nettrace::event_kind k, std::chrono::microseconds at) -> nettrace::recorded_event& {
        nettrace::recorded_event e;
        e.kind = k;
        e.at = at;
        e.network = "tcp";
        e.address = host + ":80";
        e.host = host;
        r.events.push_back(std::move(e));
        return r.events.back();
    };
    add(nettrace::event_kind::dial_start, 0us);
    add(nettrace::event_kind::dns_start, 10us);
    auto& answer = add(nettrace::event_kind::dns_answer, 20us);
    answer.family = nettrace::address_family::ipv4;
    answer.addrs = {v4};
    answer.elapsed = 10us;
    auto& dns_done = add(nettrace::event_kind::dns_done, 30us);
    dns_done.addrs = answer.addrs;
    dns_done.elapsed = 20us;
    auto& start = add(nettrace::event_kind::connect_start, 40us);
    start.endpoint = {v4, 80};
    auto& done = add(nettrace::event_kind::connect_done, 90us);
    done.endpoint = start.endpoint;
    done.error = error_code(7, latin1);
    done.elapsed = 50us;
    auto& dial_done = add(nettrace::event_kind::dial_done, 100us);
    dial_done.error = done.error;
    dial_done.description = "dial tcp " + host + ":80: " + done.error.message();
    dial_done.attempts = {{done.endpoint, done.error, nettrace::connect_outcome::failed, 40us, 50us}};
    dial_done.elapsed = 100us;
    return r;
}

// ---------------------------------------------------------------------------
// A small XML well-formedness checker for what the SVG writer emits: every
// tag closed in order, attributes quoted, '<' and '&' only as markup or
// entities, no control characters, valid UTF-8. Returns "" or the problem.

bool valid_utf8(const std::string& s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (n == 0 || i + n > s.size() || (n == 2 && c < 0xC2)) return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}

std::string check_text(const std::string& t) {
    for (std::size_t i = 0; i < t.size(); ++i) {
        const auto c = static_cast<unsigned char>(t[i]);
        if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') return "control character in text";
        if (t[i] == '<') return "raw '<' in text";
        if (t[i] == '&') {
            const auto semi = t.find(';', i);
            const std::string entity = semi == std::string::npos ? "" : t.substr(i, semi - i + 1);
            static const std::set<std::string> known = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
            if (!known.count(entity)) return "bad entity at '" + t.substr(i, 8) + "'";
        }
    }
    return {};
}

std::string xml_problem(const std::string& doc) {
    if (!valid_utf8(doc)) return "not UTF-8";
    std::vector<std::string> open;
    std::size_t i = 0, roots = 0;
    if (doc.rfind("<?xml", 0) == 0) i = doc.find("?>") + 2;
    while (i < doc.size()) {
        const auto lt = doc.find('<', i);
        if (auto p = check_text(doc.substr(i, lt == std::string::npos ? std::string::npos : lt - i)); !p.empty())
            return p;
        if (lt == std::string::npos) break;
        if (open.empty() && doc.find_first_not_of(" \n\r\t", i) < lt) return "text outside the root element";
        const auto gt = doc.find('>', lt);
        if (gt == std::string::npos) return "unterminated tag";
        std::string tag = doc.substr(lt + 1, gt - lt - 1);
        i = gt + 1;
        if (tag.starts_with("/")) {
            if (open.empty() || open.back() != tag.substr(1)) return "mismatched </" + tag.substr(1) + ">";
            open.pop_back();
            continue;
        }
        const bool self_closing = tag.ends_with("/");
        if (self_closing) tag.pop_back();
        const auto name_end = tag.find_first_of(" \n\t");
        const std::string name = tag.substr(0, name_end);
        if (name.empty()) return "empty tag name";
        // Attributes: name="value" pairs, values free of '<' and stray '&'.
        std::string rest = name_end == std::string::npos ? "" : tag.substr(name_end);
        std::set<std::string> seen;
        for (std::size_t k = 0;;) {
            k = rest.find_first_not_of(" \n\t", k);
            if (k == std::string::npos) break;
            const auto eq = rest.find('=', k);
            if (eq == std::string::npos || eq + 1 >= rest.size()) return "attribute without value in <" + name + ">";
            const char q = rest[eq + 1];
            if (q != '"' && q != '\'') return "unquoted attribute in <" + name + ">";
            const auto close = rest.find(q, eq + 2);
            if (close == std::string::npos) return "unterminated attribute in <" + name + ">";
            if (!seen.insert(rest.substr(k, eq - k)).second) return "duplicate attribute in <" + name + ">";
            if (auto p = check_text(rest.substr(eq + 2, close - eq - 2)); !p.empty()) return p + " (attribute)";
            k = close + 1;
        }
        if (open.empty()) ++roots;
        if (!self_closing) open.push_back(name);
    }
    if (!open.empty()) return "<" + open.back() + "> not closed";
    if (roots != 1) return "expected one root element, found " + std::to_string(roots);
    return {};
}

json::value parse(const std::string& text) {
    error_code ec;
    auto v = json::parse(text, ec);
    BOOST_REQUIRE_MESSAGE(!ec, "invalid JSON (" << ec.message() << "): " << text.substr(0, 400));
    return v;
}

std::string chrome_trace(std::span<const nettrace::dial_record> dials) {
    std::ostringstream out;
    nettrace::write_chrome_trace(out, dials);
    return out.str();
}

}  // namespace

// ---------------------------------------------------------------------------
// Recording

BOOST_AUTO_TEST_CASE(recording_keeps_every_event_of_the_race_with_its_time) {
    race r;
    const auto rec = r.record();
    using k = nettrace::event_kind;
    BOOST_REQUIRE(!rec.events.empty());
    BOOST_TEST(rec.events.front().kind == k::dial_start);
    BOOST_TEST(rec.events.back().kind == k::dial_done);
    BOOST_TEST(rec.events.front().address == r.address());  // copied out of a view that is gone
    BOOST_TEST(count(rec, k::dns_start) == 1u);
    BOOST_TEST(count(rec, k::dns_answer) == 2u);
    BOOST_TEST(count(rec, k::dns_done) == 1u);
    BOOST_TEST(count(rec, k::connect_start) == 2u);
    BOOST_TEST(count(rec, k::connect_done) == 2u);
    for (std::size_t i = 1; i < rec.events.size(); ++i) BOOST_TEST(rec.events[i - 1].at <= rec.events[i].at);

    std::map<std::size_t, nettrace::recorded_event> done;
    for (const auto& e : rec.events) {
        if (e.kind == k::dns_answer) {
            BOOST_TEST(e.host == "race.test");
            BOOST_REQUIRE(e.family.has_value());
            if (*e.family == nettrace::address_family::ipv6) BOOST_TEST(e.error == nettrace::error::no_addresses);
            if (*e.family == nettrace::address_family::ipv4) BOOST_TEST(e.addrs.size() == 2u);
        }
        if (e.kind == k::connect_start && e.attempt == 1)
            BOOST_TEST(e.at >= attempt_delay - 1ms, "attempt 1 started after the attempt delay");
        if (e.kind == k::connect_done) done[e.attempt] = e;
    }
    BOOST_REQUIRE(done.size() == 2u);
    BOOST_TEST(done[0].endpoint == tcp::endpoint(v4_other, r.port));
    BOOST_TEST(done[0].outcome == nettrace::connect_outcome::superseded);
    BOOST_TEST(done[1].outcome == nettrace::connect_outcome::won);
    BOOST_REQUIRE(rec.done() != nullptr);
    BOOST_TEST(!rec.done()->error);
    BOOST_TEST(rec.done()->endpoint == done[1].endpoint);
    BOOST_TEST(rec.done()->attempts.size() == 2u);
    BOOST_TEST(rec.done()->description.find("connected to 127.0.0.1:") != std::string::npos, rec.done()->description);
}

BOOST_AUTO_TEST_CASE(streaming_sees_each_event_as_it_is_recorded) {
    race r;
    nettrace::dial_record rec;
    std::vector<nettrace::event_kind> seen;
    bool was_last = true;
    const auto ec = r.dial(
        nettrace::with_recording({}, rec, [&](const nettrace::dial_record& all, const nettrace::recorded_event& e) {
            seen.push_back(e.kind);
            // Streamed when it happens: the event is the newest one so far.
            was_last = was_last && &all == &rec && &all.events.back() == &e && all.events.size() == seen.size();
        }));
    BOOST_TEST(!ec);
    BOOST_TEST(was_last);
    BOOST_TEST(seen == kinds(rec));
    BOOST_TEST(seen.size() >= 9u);
}

BOOST_AUTO_TEST_CASE(a_record_reused_for_a_second_dial_holds_only_that_dial) {
    race r;
    nettrace::dial_record rec;
    const auto ctx = nettrace::with_recording({}, rec);
    BOOST_TEST(!r.dial(ctx));
    const auto first_started = rec.started;
    BOOST_TEST(!r.dial(ctx));
    BOOST_TEST(count(rec, nettrace::event_kind::dial_start) == 1u);
    BOOST_TEST(count(rec, nettrace::event_kind::dial_done) == 1u);
    BOOST_TEST((rec.started > first_started));
}

// ---------------------------------------------------------------------------
// JSON lines

BOOST_AUTO_TEST_CASE(json_lines_parse_with_the_documented_keys) {
    race r;
    const auto rec = r.record();
    std::ostringstream out;
    nettrace::write_json_lines(out, rec, 3);
    const auto lines = lines_of(out.str());
    BOOST_TEST(lines.size() == rec.events.size());
    const std::map<std::string, std::vector<std::string>> keys = {
        {"dial_start", {"event", "dial", "t_ms", "network", "address"}},
        {"dns_start", {"event", "dial", "t_ms", "host", "addrs", "coalesced", "error"}},
        {"dns_answer",
         {"event", "dial", "t_ms", "host", "family", "addrs", "coalesced", "error", "source", "elapsed_ms"}},
        {"dns_done", {"event", "dial", "t_ms", "host", "addrs", "coalesced", "error", "source", "elapsed_ms"}},
        {"connect_start", {"event", "dial", "t_ms", "network", "address", "port", "attempt", "error", "reason"}},
        {"connect_done",
         {"event", "dial", "t_ms", "network", "address", "port", "attempt", "error", "outcome", "elapsed_ms"}},
        {"result", {"event", "dial", "t_ms", "ok", "remote", "local", "error", "attempts", "elapsed_ms"}},
    };
    std::map<std::string, int> seen;
    for (const auto& line : lines) {
        const auto v = parse(line);
        BOOST_REQUIRE(v.is_object());
        const auto& o = v.as_object();
        const std::string event(o.at("event").as_string());
        ++seen[event];
        BOOST_REQUIRE_MESSAGE(keys.count(event), "unexpected event " << event);
        std::vector<std::string> got;
        for (const auto& kv : o) got.emplace_back(kv.key());
        BOOST_TEST(got == keys.at(event), line);
        BOOST_TEST(o.at("dial").as_int64() == 3);
        BOOST_TEST(o.at("t_ms").is_double());
        if (event == "connect_done" && o.at("outcome").as_string() == "won") {
            BOOST_TEST(o.at("address").as_string() == "127.0.0.1");
            BOOST_TEST(o.at("port").as_int64() == r.port);
            BOOST_TEST(o.at("error").is_null());
        }
        if (event == "result") {
            BOOST_TEST(o.at("ok").as_bool());
            BOOST_TEST(o.at("remote").as_string() == "127.0.0.1:" + std::to_string(r.port));
            BOOST_TEST(o.at("attempts").as_int64() == 2);
        }
    }
    BOOST_TEST(seen["connect_done"] == 2);
    BOOST_TEST(seen["result"] == 1);

    // Without an index, no "dial" key (a single dial, as nettrace-dial prints it).
    BOOST_TEST(!parse(nettrace::to_json_line(rec.events.front())).as_object().contains("dial"));
}

BOOST_AUTO_TEST_CASE(json_lines_stay_valid_for_invalid_utf8_and_control_characters) {
    const std::string host = "bad\xFF\xC0\x80 \"host\"\n\\";
    const auto rec = hostile_record(host);
    std::ostringstream out;
    nettrace::write_json_lines(out, rec);
    const auto lines = lines_of(out.str());
    BOOST_REQUIRE(lines.size() == rec.events.size());  // the \n in the host did not split a line
    bool host_checked = false, error_checked = false;
    for (const auto& line : lines) {
        const auto o = parse(line).as_object();
        if (o.contains("host")) {
            BOOST_TEST(std::string(o.at("host").as_string()) == "bad\uFFFD\uFFFD\uFFFD \"host\"\n\\");
            host_checked = true;
        }
        if (o.at("event").as_string() == "connect_done") {
            BOOST_TEST(std::string(o.at("error").as_string()) == "caf\uFFFD \x01 \"bad\" \uFFFD");
            error_checked = true;
        }
    }
    BOOST_TEST(host_checked);
    BOOST_TEST(error_checked);
}

// ---------------------------------------------------------------------------
// Chrome trace events

BOOST_AUTO_TEST_CASE(chrome_trace_follows_the_trace_event_format) {
    race r;
    const std::vector<nettrace::dial_record> dials{r.record(), r.record()};
    const auto doc = parse(chrome_trace(dials));
    BOOST_REQUIRE(doc.is_object());
    BOOST_TEST(doc.as_object().at("displayTimeUnit").as_string() == "ms");
    const auto& events = doc.as_object().at("traceEvents").as_array();
    BOOST_REQUIRE(!events.empty());

    const std::set<std::string> phases = {"X", "M", "i", "I", "B", "E"};
    std::map<std::int64_t, std::set<std::int64_t>> span_tids, named_tids;      // per pid
    std::map<std::int64_t, std::map<std::int64_t, std::int64_t>> attempt_tid;  // pid -> attempt -> tid
    std::map<std::int64_t, std::string> process_names;
    int winners = 0, dns_lookups = 0, aaaa_failures = 0;
    for (const auto& ev : events) {
        const auto& o = ev.as_object();
        BOOST_REQUIRE(o.at("name").is_string());
        const std::string ph(o.at("ph").as_string());
        BOOST_TEST(phases.count(ph) == 1u, ph);
        BOOST_TEST(o.at("ts").is_number());
        BOOST_REQUIRE(o.at("pid").is_int64());
        BOOST_REQUIRE(o.at("tid").is_int64());
        const auto pid = o.at("pid").as_int64(), tid = o.at("tid").as_int64();
        const std::string name(o.at("name").as_string());
        const auto& args = o.at("args").as_object();
        if (ph == "M") {
            if (name == "thread_name") named_tids[pid].insert(tid);
            if (name == "process_name") process_names[pid] = std::string(args.at("name").as_string());
            continue;
        }
        BOOST_TEST(ph == "X");
        BOOST_TEST(o.at("dur").to_number<double>() >= 0.0);
        BOOST_TEST(o.at("ts").to_number<double>() >= 0.0);
        span_tids[pid].insert(tid);
        const std::string cat(o.at("cat").as_string());
        if (cat == "connect") {
            const auto attempt = args.at("nettrace.attempt").as_int64();
            BOOST_TEST(!attempt_tid[pid].count(attempt), "one span per attempt");
            attempt_tid[pid][attempt] = tid;
            BOOST_TEST(args.at("network.peer.port").as_int64() == r.port);
            BOOST_TEST(args.at("network.type").as_string() == "ipv4");
            BOOST_TEST(args.at("network.transport").as_string() == "tcp");
            if (args.at("nettrace.outcome").as_string() == "won") {
                ++winners;
                BOOST_TEST(args.at("network.peer.address").as_string() == "127.0.0.1");
                BOOST_TEST(name.find("won") != std::string::npos, name);
            } else {
                BOOST_TEST(args.at("network.peer.address").as_string() == "127.0.0.2");
                BOOST_TEST(args.at("error.type").as_string() == "operation_aborted");
            }
        }
        if (cat == "dns") {
            BOOST_TEST(args.at("dns.question.name").as_string() == "race.test");
            if (name.starts_with("dns.lookup")) {
                ++dns_lookups;
                BOOST_TEST(args.at("dns.lookup.duration").to_number<double>() >= 0.0);
                BOOST_TEST(args.at("dns.answers").as_array().size() == 2u);
            }
            if (name.starts_with("AAAA")) {
                ++aaaa_failures;
                BOOST_TEST(args.at("error.type").as_string() == "no_addresses");
            }
        }
    }
    // Two dials, two processes, each with its own name.
    BOOST_TEST(process_names.size() == 2u);
    BOOST_TEST(span_tids.size() == 2u);
    BOOST_TEST(winners == 2);
    BOOST_TEST(dns_lookups == 2);
    BOOST_TEST(aaaa_failures == 2);
    for (const auto& [pid, tids] : span_tids) {
        BOOST_TEST(process_names[pid].find(r.address()) != std::string::npos, process_names[pid]);
        // One track per attempt, none shared with DNS or the dial.
        BOOST_REQUIRE(attempt_tid[pid].size() == 2u);
        BOOST_TEST(attempt_tid[pid][0] != attempt_tid[pid][1]);
        // DNS per family on its own tracks, plus the lookup and the dial.
        BOOST_TEST(tids.size() == 2u + 2u + 1u + 1u);
        for (auto tid : tids) BOOST_TEST(named_tids[pid].count(tid) == 1u, "tid " << tid << " has a thread_name");
    }
}

BOOST_AUTO_TEST_CASE(chrome_trace_places_dials_on_one_time_axis) {
    race r;
    const std::vector<nettrace::dial_record> dials{r.record(), r.record()};
    const auto doc = parse(chrome_trace(dials));
    // The second dial started after the first had taken its attempt delay.
    double first_dial_ts[3] = {-1, -1, -1};
    for (const auto& ev : doc.as_object().at("traceEvents").as_array()) {
        const auto& o = ev.as_object();
        if (o.at("ph").as_string() == "X" && o.at("cat").as_string() == "dial") {
            const auto pid = o.at("pid").as_int64();
            BOOST_REQUIRE(pid >= 1 && pid <= 2);
            first_dial_ts[pid] = o.at("ts").to_number<double>();
        }
    }
    BOOST_TEST(first_dial_ts[1] == 0.0);
    const double gap_us = std::chrono::duration<double, std::micro>(dials[1].started - dials[0].started).count();
    BOOST_TEST(std::abs(first_dial_ts[2] - gap_us) < 0.01, first_dial_ts[2] << " vs " << gap_us);
    BOOST_TEST(first_dial_ts[2] >= 29'000.0);
}

BOOST_AUTO_TEST_CASE(chrome_trace_marks_spans_a_snapshot_left_open) {
    auto rec = hostile_record("open.test");
    rec.events.resize(5);  // up to connect_start: taken mid-dial
    const auto doc = parse(chrome_trace({&rec, 1}));
    int unfinished = 0;
    for (const auto& ev : doc.as_object().at("traceEvents").as_array()) {
        const auto& o = ev.as_object();
        if (o.at("ph").as_string() != "X") continue;
        const auto& args = o.at("args").as_object();
        if (args.contains("nettrace.outcome") && args.at("nettrace.outcome").as_string() == "unfinished") {
            ++unfinished;
            BOOST_TEST(o.at("dur").to_number<double>() >= 0.0);
        }
    }
    BOOST_TEST(unfinished == 2);  // the dial and its one attempt; DNS had finished
}

BOOST_AUTO_TEST_CASE(chrome_trace_stays_valid_for_hostile_text) {
    const auto rec = hostile_record("bad\xFF<&>\"\n");
    const auto doc = parse(chrome_trace({&rec, 1}));
    bool found = false;
    for (const auto& ev : doc.as_object().at("traceEvents").as_array()) {
        const auto& args = ev.as_object().at("args").as_object();
        if (args.contains("error.type")) {
            // A name, not the localised message.
            BOOST_TEST(args.at("error.type").as_string() == "latin1:7");
            found = true;
        }
    }
    BOOST_TEST(found);
}

// Attempt indexes in a hand-built record may be anything: the track ids
// derived from them must neither overflow (UBSan) nor wrap onto another track.
BOOST_AUTO_TEST_CASE(chrome_trace_track_ids_hold_any_attempt_index) {
    for (const std::size_t index : {std::size_t(2147483647), std::size_t(-1) - 5, std::size_t(-1)}) {
        BOOST_TEST_CONTEXT("attempt " << index) {
            auto rec = hostile_record("huge.test");
            for (auto& e : rec.events)
                if (e.kind == nettrace::event_kind::connect_start || e.kind == nettrace::event_kind::connect_done)
                    e.attempt = index;
            const auto doc = parse(chrome_trace({&rec, 1}));
            std::set<std::uint64_t> attempt_tracks;
            for (const auto& ev : doc.as_object().at("traceEvents").as_array()) {
                const auto& o = ev.as_object();
                if (o.at("ph").as_string() != "X" || o.at("cat").as_string() != "connect") continue;
                attempt_tracks.insert(o.at("tid").to_number<std::uint64_t>());
            }
            BOOST_TEST_REQUIRE(attempt_tracks.size() == 1u);
            const std::uint64_t expected = index > std::numeric_limits<std::uint64_t>::max() - 10
                                               ? std::numeric_limits<std::uint64_t>::max()
                                               : 10 + std::uint64_t(index);
            BOOST_TEST(*attempt_tracks.begin() == expected);
        }
    }
}

// ---------------------------------------------------------------------------
// SVG

BOOST_AUTO_TEST_CASE(svg_waterfall_is_well_formed_with_a_bar_per_attempt_and_family) {
    race r;
    const auto rec = r.record();
    std::ostringstream out;
    nettrace::write_svg_waterfall(out, rec);
    const std::string svg = out.str();
    BOOST_TEST(xml_problem(svg) == "");
    BOOST_TEST(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
    // Self-contained: nothing fetched from elsewhere.
    BOOST_TEST(svg.find("href") == std::string::npos);
    BOOST_TEST(svg.find("<script") == std::string::npos);
    BOOST_TEST(svg.find("@import") == std::string::npos);

    BOOST_TEST(occurrences(svg, "<rect class=\"bar attempt ") == 2u);
    BOOST_TEST(occurrences(svg, "<rect class=\"bar dns ") == 2u);
    BOOST_TEST(occurrences(svg, "class=\"bar dns ipv6\"") == 1u);
    BOOST_TEST(occurrences(svg, "class=\"bar dns ipv4\"") == 1u);
    BOOST_TEST(occurrences(svg, "class=\"bar attempt won winner\"") == 1u);
    BOOST_TEST(occurrences(svg, "class=\"bar attempt superseded\"") == 1u);
    const std::string port = std::to_string(r.port);
    BOOST_TEST(svg.find(">#1 127.0.0.1:" + port + "</text>") != std::string::npos);
    BOOST_TEST(svg.find(">#0 127.0.0.2:" + port + "</text>") != std::string::npos);
    // Rows in start order, though #1 finished first.
    BOOST_TEST(svg.find(">#0 127.0.0.2:") < svg.find(">#1 127.0.0.1:"));
    BOOST_TEST(svg.find(">\u2605 won ") != std::string::npos);
    BOOST_TEST(svg.find(">superseded ") != std::string::npos);
    BOOST_TEST(svg.find("ms since the dial started") != std::string::npos);
    BOOST_TEST(svg.find(">0</text>") != std::string::npos);  // the axis starts at 0 ms
}

BOOST_AUTO_TEST_CASE(svg_waterfall_escapes_host_names_and_messages) {
    const auto rec = hostile_record("<evil & \"co\">'.test\xFF");
    std::ostringstream out;
    nettrace::write_svg_waterfall(out, rec);
    const std::string svg = out.str();
    BOOST_TEST(xml_problem(svg) == "");
    BOOST_TEST(svg.find("<evil") == std::string::npos);
    BOOST_TEST(svg.find("&lt;evil &amp; &quot;co&quot;&gt;&apos;.test\uFFFD") != std::string::npos);
    // The checker itself catches what the escaping prevents.
    BOOST_TEST(xml_problem("<svg><text>a < b</text></svg>") != "");
    BOOST_TEST(xml_problem("<svg><text>a & b</text></svg>") != "");
    BOOST_TEST(xml_problem("<svg><g></svg>") != "");
    BOOST_TEST(xml_problem("<svg><rect x=1/></svg>") != "");
}

BOOST_AUTO_TEST_CASE(svg_waterfall_draws_several_dials_with_one_header_each) {
    race r;
    const std::vector<nettrace::dial_record> dials{r.record(), r.record()};
    std::ostringstream out;
    nettrace::write_svg_waterfall(out, dials);
    const std::string svg = out.str();
    BOOST_TEST(xml_problem(svg) == "");
    BOOST_TEST(occurrences(svg, "<g class=\"dial\">") == 2u);
    BOOST_TEST(occurrences(svg, "[dial 0]") == 1u);
    BOOST_TEST(occurrences(svg, "[dial 1]") == 1u);
    BOOST_TEST(occurrences(svg, "<rect class=\"bar attempt ") == 4u);
    BOOST_TEST(occurrences(svg, "winner\"") == 2u);
}

// ---------------------------------------------------------------------------
// dial_tls's race: each attempt's handshake follows its TCP segment, on the
// attempt's own track (Chrome trace) and row (SVG).

namespace {

nettrace::dial_record two_handshakes() {
    nettrace::dial_record r;
    r.started = std::chrono::steady_clock::now();
    r.events.reserve(12);
    using nettrace::event_kind;
    const auto add = [&](event_kind k, std::chrono::microseconds at, std::size_t attempt) -> nettrace::recorded_event& {
        nettrace::recorded_event e;
        e.kind = k;
        e.at = at;
        e.network = "tcp";
        e.address = "tls.test:443";
        e.attempt = attempt;
        e.server_name = "tls.test";
        e.endpoint = {asio::ip::make_address(attempt == 0 ? "::1" : "127.0.0.1"), 443};
        r.events.push_back(std::move(e));
        return r.events.back();
    };
    add(event_kind::dial_start, 0us, 0);
    add(event_kind::connect_start, 10us, 0);
    add(event_kind::connect_done, 20us, 0).outcome = nettrace::connect_outcome::connected;
    add(event_kind::tls_handshake_start, 21us, 0);
    add(event_kind::connect_start, 250000us, 1);
    add(event_kind::connect_done, 250100us, 1).outcome = nettrace::connect_outcome::connected;
    add(event_kind::tls_handshake_start, 250101us, 1);
    auto& won = add(event_kind::tls_handshake_done, 254000us, 1);
    won.outcome = nettrace::connect_outcome::won;
    won.tls_version = "TLSv1.3";
    won.elapsed = 3899us;
    auto& lost = add(event_kind::tls_handshake_done, 254100us, 0);
    lost.outcome = nettrace::connect_outcome::superseded;
    lost.error = asio::error::operation_aborted;
    lost.elapsed = 254079us;
    auto& done = add(event_kind::dial_done, 254200us, 0);
    done.endpoint = won.endpoint;
    return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(chrome_trace_puts_each_handshake_on_its_attempts_track_after_its_connect) {
    const auto rec = two_handshakes();
    const auto doc = parse(chrome_trace({&rec, 1}));
    std::map<std::uint64_t, double> connect_end, tls_start;
    for (const auto& ev : doc.as_object().at("traceEvents").as_array()) {
        const auto& o = ev.as_object();
        if (o.at("ph").as_string() != "X") continue;
        const auto tid = o.at("tid").to_number<std::uint64_t>();
        const double ts = o.at("ts").to_number<double>(), dur = o.at("dur").to_number<double>();
        if (o.at("cat").as_string() == "connect") connect_end[tid] = ts + dur;
        if (o.at("cat").as_string() == "tls") tls_start[tid] = ts;
    }
    BOOST_REQUIRE(tls_start.size() == 2u);
    for (const auto& [tid, ts] : tls_start) {
        BOOST_TEST((tid == 10u || tid == 11u), "tls span on track " << tid);
        BOOST_REQUIRE(connect_end.count(tid) == 1u);
        BOOST_TEST(ts >= connect_end[tid], "track " << tid << ": tls at " << ts << " before connect ended");
    }
}

BOOST_AUTO_TEST_CASE(svg_waterfall_draws_a_tls_row_under_each_attempt) {
    const auto rec = two_handshakes();
    std::ostringstream out;
    nettrace::write_svg_waterfall(out, rec);
    const std::string svg = out.str();
    const auto a0 = svg.find("#0 [::1]:443"), t0 = svg.find("#0 tls"), a1 = svg.find("#1 127.0.0.1:443"),
               t1 = svg.find("#1 tls");
    BOOST_REQUIRE(t0 != std::string::npos);
    BOOST_REQUIRE(t1 != std::string::npos);
    BOOST_TEST((a0 < t0 && t0 < a1 && a1 < t1), "rows out of order");
    BOOST_TEST(svg.find("TLSv1.3") != std::string::npos);
    BOOST_TEST(xml_problem(svg) == "");
}

// ---------------------------------------------------------------------------
// HTTPS records, NAT64 and the attempt's reason in the exports

namespace {

// A record made by hand: an HTTPS answer, then one attempt of its record,
// synthesized by NAT64 and promoted by the history.
nettrace::dial_record service_record_dial() {
    using nettrace::event_kind;
    nettrace::dial_record rec;
    nettrace::recorded_event start;
    start.kind = event_kind::dns_start;
    start.host = "svc.test";
    rec.events.push_back(start);
    nettrace::recorded_event https;
    https.kind = event_kind::dns_answer;
    https.host = "svc.test";
    https.https = true;
    nettrace::service_record r;
    r.priority = 1;
    r.target = ".";
    r.alpn = {"h2"};
    r.port = 8443;
    https.records = {r};
    https.at = 2ms;
    rec.events.push_back(https);
    nettrace::recorded_event connect;
    connect.kind = event_kind::connect_start;
    connect.network = "tcp";
    connect.endpoint = tcp::endpoint(asio::ip::make_address("64:ff9b::7f00:1"), 8443);
    connect.priority = 1;
    connect.offered_alpn = {"h2"};
    connect.nat64_from = asio::ip::make_address_v4("127.0.0.1");
    connect.order_reason = nettrace::attempt_reason::history_promoted;
    connect.at = 3ms;
    rec.events.push_back(connect);
    nettrace::recorded_event done = connect;
    done.kind = event_kind::connect_done;
    done.outcome = nettrace::connect_outcome::won;
    done.at = 4ms;
    rec.events.push_back(done);
    return rec;
}

}  // namespace

BOOST_AUTO_TEST_CASE(json_lines_carry_https_records_nat64_and_the_reason) {
    const auto rec = service_record_dial();
    std::ostringstream out;
    nettrace::write_json_lines(out, rec);
    const auto lines = lines_of(out.str());
    BOOST_TEST_REQUIRE(lines.size() == 4u);
    const auto answer = parse(lines[1]).as_object();
    BOOST_TEST(answer.at("family").as_string() == "https");
    BOOST_TEST_REQUIRE(answer.at("records").as_array().size() == 1u);
    BOOST_TEST(answer.at("records").as_array()[0].as_string() == "1 . alpn=h2 port=8443");
    const auto connect = parse(lines[2]).as_object();
    BOOST_TEST(connect.at("priority").as_int64() == 1);
    BOOST_TEST(connect.at("alpn").as_array().at(0).as_string() == "h2");
    BOOST_TEST(connect.at("nat64_from").as_string() == "127.0.0.1");
    BOOST_TEST(connect.at("address").as_string() == "64:ff9b::7f00:1");
    BOOST_TEST(connect.at("reason").as_string() == "history_promoted");
}

BOOST_AUTO_TEST_CASE(chrome_trace_shows_the_https_answer_and_the_attempt_s_record) {
    const std::vector<nettrace::dial_record> dials{service_record_dial()};
    const auto doc = parse(chrome_trace(dials));
    bool https_span = false, connect_args = false;
    for (const auto& ev : doc.as_object().at("traceEvents").as_array()) {
        const auto& o = ev.as_object();
        if (o.at("ph").as_string() != "X") continue;
        const auto& args = o.at("args").as_object();
        if (o.at("name").as_string() == "HTTPS svc.test")
            https_span = args.at("dns.answers").as_array().at(0).as_string() == "1 . alpn=h2 port=8443";
        if (o.at("cat").as_string() == "connect")
            connect_args = args.at("nettrace.https.priority").as_int64() == 1 &&
                           args.at("nettrace.nat64.from").as_string() == "127.0.0.1";
    }
    BOOST_TEST(https_span);
    BOOST_TEST(connect_args);
}
