// The DNS test servers, checked with a small client written here rather
// than the servers' own encoder, so a mistake is not shared. The same client
// reads dnsmasq's replies (compressed names and all): a real server vouches
// for the client that judges the fake one.
#define BOOST_TEST_MODULE dns_server
#include <boost/test/unit_test.hpp>

#include "support/dns_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace nettrace::testing;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::uint16_t A = 1, AAAA = 28, CNAME = 5, SOA = 6;

std::vector<std::uint8_t> make_query(std::uint16_t id, const std::string& name, std::uint16_t type, bool edns = false) {
    std::vector<std::uint8_t> q = {std::uint8_t(id >> 8),
                                   std::uint8_t(id),
                                   0x01,
                                   0x00,  // RD
                                   0,
                                   1,
                                   0,
                                   0,
                                   0,
                                   0,
                                   0,
                                   std::uint8_t(edns ? 1 : 0)};
    std::size_t start = 0;
    while (start < name.size()) {
        auto dot = name.find('.', start);
        if (dot == std::string::npos) dot = name.size();
        q.push_back(std::uint8_t(dot - start));
        q.insert(q.end(), name.begin() + long(start), name.begin() + long(dot));
        start = dot + 1;
    }
    q.insert(q.end(), {0, 0, std::uint8_t(type), 0, 1});
    if (edns)  // OPT: root name, type 41, UDP size 1232, no flags, no options
        q.insert(q.end(), {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0});
    return q;
}

struct reply {
    std::uint16_t id = 0;
    bool qr = false, tc = false, rd = false, ra = false;
    int rcode = -1;
    std::string qname;  // as echoed, case kept
    std::uint16_t qtype = 0;
    std::vector<std::uint16_t> answer_types;
    std::vector<std::string> addrs, cnames;  // A/AAAA and CNAME rdata, in order
    std::vector<std::uint32_t> ttls;         // of the A/AAAA records
    std::optional<std::uint32_t> soa_minimum;
};

struct parser {
    std::span<const std::uint8_t> p;
    std::size_t i = 0;
    void need(std::size_t n) const {
        if (i + n > p.size()) throw std::out_of_range("short");
    }
    unsigned u8() { return need(1), p[i++]; }
    unsigned u16() { return need(2), i += 2, unsigned(p[i - 2] << 8 | p[i - 1]); }
    std::uint32_t u32() { return std::uint32_t(u16()) << 16 | u16(); }
    // Follows compression pointers (dnsmasq uses them), at most 16.
    std::string name() {
        std::string out;
        std::size_t at = i;
        bool jumped = false;
        for (int hops = 0; hops < 16;) {
            if (at >= p.size()) throw std::out_of_range("name");
            const unsigned len = p[at];
            if ((len & 0xc0) == 0xc0) {
                if (at + 1 >= p.size()) throw std::out_of_range("pointer");
                if (!jumped) i = at + 2;
                jumped = true, ++hops;
                at = (len & 0x3f) << 8 | p[at + 1];
                continue;
            }
            if (len == 0) {
                if (!jumped) i = at + 1;
                return out;
            }
            if (at + 1 + len > p.size()) throw std::out_of_range("label");
            if (!out.empty()) out += '.';
            out.append(reinterpret_cast<const char*>(&p[at + 1]), len);
            at += 1 + len;
        }
        throw std::out_of_range("pointer loop");
    }
};

std::optional<reply> parse(std::span<const std::uint8_t> bytes) {
    try {
        parser r{bytes};
        reply out;
        out.id = std::uint16_t(r.u16());
        const unsigned flags = r.u16();
        out.qr = flags & 0x8000, out.tc = flags & 0x0200, out.rd = flags & 0x0100, out.ra = flags & 0x0080;
        out.rcode = int(flags & 0xf);
        const unsigned qd = r.u16(), an = r.u16(), ns = r.u16(), ar = r.u16();
        if (qd != 1) return std::nullopt;
        out.qname = r.name();
        out.qtype = std::uint16_t(r.u16());
        r.u16();
        for (unsigned k = 0; k < an + ns + ar; ++k) {  // additional records skipped
            r.name();
            const auto type = std::uint16_t(r.u16());
            r.u16();
            const auto ttl = r.u32();
            const unsigned len = r.u16();
            r.need(len);
            const std::size_t end = r.i + len;
            if (k >= an) {
                if (k < an + ns && type == SOA) {
                    r.name(), r.name(), r.u32(), r.u32(), r.u32(), r.u32();
                    out.soa_minimum = r.u32();
                }
            } else if (out.answer_types.push_back(type); type == A && len == 4) {
                out.addrs.push_back(
                    asio::ip::make_address_v4(
                        asio::ip::address_v4::bytes_type{bytes[r.i], bytes[r.i + 1], bytes[r.i + 2], bytes[r.i + 3]})
                        .to_string());
                out.ttls.push_back(ttl);
            } else if (type == AAAA && len == 16) {
                asio::ip::address_v6::bytes_type b;
                std::copy_n(&bytes[r.i], 16, b.begin());
                out.addrs.push_back(asio::ip::make_address_v6(b).to_string());
                out.ttls.push_back(ttl);
            } else if (type == CNAME) {
                out.cnames.push_back(r.name());
            }
            r.i = end;
        }
        if (r.i != bytes.size()) return std::nullopt;
        return out;
    } catch (const std::out_of_range&) {
        return std::nullopt;
    }
}

struct exchange {
    std::optional<std::vector<std::uint8_t>> raw;  // nothing within the timeout
    clock_type::duration elapsed{};
    std::optional<reply> parsed() const { return raw ? parse(*raw) : std::nullopt; }
};

// One datagram out, the first one back (whatever its ID) or nothing.
exchange ask(unsigned short port, const std::vector<std::uint8_t>& query, std::chrono::milliseconds timeout = 2s) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(fd >= 0);
    const asio::ip::udp::endpoint ep(asio::ip::address_v4::loopback(), port);
    BOOST_REQUIRE(::connect(fd, ep.data(), socklen_t(ep.size())) == 0);
    exchange x;
    const auto start = clock_type::now();
    BOOST_REQUIRE(::send(fd, query.data(), query.size(), 0) == ssize_t(query.size()));
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, int(timeout.count())) == 1) {
        std::vector<std::uint8_t> buf(4096);
        const auto n = ::recv(fd, buf.data(), buf.size(), 0);
        if (n >= 0) buf.resize(std::size_t(n)), x.raw = std::move(buf);
    }
    x.elapsed = clock_type::now() - start;
    ::close(fd);
    return x;
}

reply ask_ok(unsigned short port, const std::string& name, std::uint16_t type, std::uint16_t id = 0x1234) {
    const auto x = ask(port, make_query(id, name, type));
    BOOST_REQUIRE_MESSAGE(x.raw, "no reply for " << name);
    const auto r = x.parsed();
    BOOST_REQUIRE_MESSAGE(r, "unparseable reply for " << name);
    BOOST_TEST(r->id == id);
    BOOST_TEST(r->qr);
    return *r;
}

asio::ip::address ip(const char* s) { return asio::ip::make_address(s); }

// The io_context runs on two background threads, as a resolver test's would
// (and to exercise the server's strand); the client blocks on this one.
struct background_io {
    asio::io_context ioc;
    asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(ioc);
    std::thread t1{[this] { ioc.run(); }}, t2{[this] { ioc.run(); }};
    ~background_io() {
        guard.reset();
        ioc.stop();
        t1.join();
        t2.join();
    }
};

// dnsmasq's log, read when a failure is reported (BOOST_TEST_INFO_SCOPE is
// lazy), so the log shows what dnsmasq saw up to the failing check.
struct dnsmasq_log {
    const dnsmasq_server& srv;
    friend std::ostream& operator<<(std::ostream& o, const dnsmasq_log& l) {
        return o << "dnsmasq on " << l.srv.address() << ", log:\n" << l.srv.log();
    }
};

struct dnsmasq_installed {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result r(dnsmasq_server::available());
        r.message() << "/usr/sbin/dnsmasq not installed (apt-get install dnsmasq-base)";
        return r;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(fake, background_io)

BOOST_AUTO_TEST_CASE(a_answer_with_ttl_case_insensitive) {
    fake_dns_server srv(ioc.get_executor());
    BOOST_TEST(srv.address() == "127.0.0.1:" + std::to_string(srv.port()));
    srv.add("host.test.", query_type::a, {.addresses = {ip("127.0.0.2"), ip("127.0.0.3")}, .ttl = 60});
    const auto r = ask_ok(srv.port(), "HoSt.TeSt", A);
    BOOST_TEST(r.rcode == 0);
    BOOST_TEST(r.qname == "HoSt.TeSt");  // echoed as asked
    BOOST_TEST(r.qtype == A);
    BOOST_TEST((r.rd && r.ra && !r.tc));
    BOOST_TEST(r.addrs == (std::vector<std::string>{"127.0.0.2", "127.0.0.3"}), boost::test_tools::per_element());
    BOOST_TEST(r.ttls == (std::vector<std::uint32_t>{60, 60}), boost::test_tools::per_element());
    BOOST_TEST(srv.queries("host.test", query_type::a) == 1u);
    BOOST_TEST(srv.queries("HOST.TEST.", query_type::aaaa) == 0u);
}

BOOST_AUTO_TEST_CASE(edns_query_answered) {
    fake_dns_server srv(ioc.get_executor());
    srv.add("host.test", query_type::aaaa, {.addresses = {ip("::1")}});
    const auto r = parse(*ask(srv.port(), make_query(7, "host.test", AAAA, true)).raw);
    BOOST_REQUIRE(r);
    BOOST_TEST(r->addrs == std::vector<std::string>{"::1"}, boost::test_tools::per_element());
    BOOST_TEST(r->ttls == std::vector<std::uint32_t>{300}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(aaaa_delayed) {
    fake_dns_server srv(ioc.get_executor());
    srv.add("slow.test", query_type::aaaa, {.addresses = {ip("::1")}, .delay = 200ms});
    srv.add("slow.test", query_type::a, {.addresses = {ip("127.0.0.1")}});
    BOOST_TEST(ask(srv.port(), make_query(1, "slow.test", A)).elapsed < 200ms);  // only AAAA is slow
    const auto x = ask(srv.port(), make_query(2, "slow.test", AAAA));
    BOOST_REQUIRE(x.parsed());
    BOOST_TEST(x.parsed()->addrs == std::vector<std::string>{"::1"}, boost::test_tools::per_element());
    BOOST_TEST(x.elapsed >= 200ms);
}

BOOST_AUTO_TEST_CASE(never_answers) {
    fake_dns_server srv(ioc.get_executor());
    srv.add("void.test", query_type::a, {.addresses = {ip("127.0.0.2")}, .never = true});
    BOOST_TEST(!ask(srv.port(), make_query(1, "void.test", A), 300ms).raw);
    BOOST_TEST(srv.queries("void.test", query_type::a) == 1u);
}

BOOST_AUTO_TEST_CASE(nxdomain_servfail_refused) {
    fake_dns_server srv(ioc.get_executor());
    srv.add("gone.test", query_type::a, {.rcode = dns_rcode::nxdomain, .negative_ttl = 5});
    srv.add("broken.test", query_type::a, {.rcode = dns_rcode::servfail});
    srv.add("closed.test", query_type::a, {.rcode = dns_rcode::refused});
    auto r = ask_ok(srv.port(), "unknown.test", A);
    BOOST_TEST(r.rcode == 3);
    BOOST_TEST(r.soa_minimum.value_or(0) == 60u);
    r = ask_ok(srv.port(), "gone.test", A);
    BOOST_TEST(r.rcode == 3);
    BOOST_TEST(r.soa_minimum.value_or(0) == 5u);
    r = ask_ok(srv.port(), "broken.test", A);
    BOOST_TEST(r.rcode == 2);
    BOOST_TEST((r.answer_types.empty() && !r.soa_minimum));
    BOOST_TEST(ask_ok(srv.port(), "closed.test", A).rcode == 5);
}

BOOST_AUTO_TEST_CASE(nodata) {
    fake_dns_server srv(ioc.get_executor());
    srv.add("v4only.test", query_type::a, {.addresses = {ip("127.0.0.2")}});
    srv.add("empty.test", query_type::a, {.negative_ttl = 30});  // explicit NODATA
    auto r = ask_ok(srv.port(), "v4only.test", AAAA);            // the name exists: NODATA, not NXDOMAIN
    BOOST_TEST(r.rcode == 0);
    BOOST_TEST(r.answer_types.empty());
    BOOST_TEST(r.soa_minimum.value_or(0) == 60u);
    r = ask_ok(srv.port(), "empty.test", A);
    BOOST_TEST(r.rcode == 0);
    BOOST_TEST(r.answer_types.empty());
    BOOST_TEST(r.soa_minimum.value_or(0) == 30u);
}

BOOST_AUTO_TEST_CASE(cname_chain) {
    fake_dns_server srv(ioc.get_executor());
    srv.add("www.test", query_type::a, {.ttl = 100, .cname = "Edge.Test."});
    srv.add("edge.test", query_type::a, {.ttl = 50, .cname = "origin.test"});
    srv.add("origin.test", query_type::a, {.addresses = {ip("127.0.0.9")}, .ttl = 30});
    srv.add("dangling.test", query_type::a, {.cname = "nowhere.test"});
    auto r = ask_ok(srv.port(), "www.test", A);
    BOOST_TEST(r.rcode == 0);
    BOOST_TEST(r.answer_types == (std::vector<std::uint16_t>{CNAME, CNAME, A}), boost::test_tools::per_element());
    BOOST_TEST(r.cnames == (std::vector<std::string>{"Edge.Test", "origin.test"}), boost::test_tools::per_element());
    BOOST_TEST(r.addrs == std::vector<std::string>{"127.0.0.9"}, boost::test_tools::per_element());
    BOOST_TEST(r.ttls == std::vector<std::uint32_t>{30}, boost::test_tools::per_element());
    r = ask_ok(srv.port(), "dangling.test", A);  // RFC 6604: the rcode is the target's
    BOOST_TEST(r.rcode == 3);
    BOOST_TEST(r.cnames == std::vector<std::string>{"nowhere.test"}, boost::test_tools::per_element());
    BOOST_TEST(srv.queries("edge.test", query_type::a) == 0u);  // followed, not asked
}

BOOST_AUTO_TEST_CASE(garbage_and_wrong_id) {
    fake_dns_server srv(ioc.get_executor());
    srv.add("junk.test", query_type::a, {.addresses = {ip("127.0.0.2")}, .garbage = true});
    srv.add("spoof.test", query_type::a, {.addresses = {ip("127.0.0.2")}, .wrong_id = true});
    auto x = ask(srv.port(), make_query(0xabcd, "junk.test", A));
    BOOST_REQUIRE(x.raw);
    BOOST_TEST(((*x.raw)[0] == 0xab && (*x.raw)[1] == 0xcd));  // the ID is right...
    BOOST_TEST(!x.parsed());                                   // ...the rest is not
    x = ask(srv.port(), make_query(0xabcd, "spoof.test", A));
    BOOST_REQUIRE(x.parsed());
    BOOST_TEST(x.parsed()->id == 0xabce);
    BOOST_TEST(x.parsed()->addrs == std::vector<std::string>{"127.0.0.2"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(truncated_and_tcp_refused) {
    fake_dns_server srv(ioc.get_executor());
    srv.add("big.test", query_type::a, {.addresses = {ip("127.0.0.2")}, .truncated = true});
    const auto r = ask_ok(srv.port(), "big.test", A);
    BOOST_TEST(r.tc);
    BOOST_TEST(r.answer_types.empty());
    // The retry over TCP meets a closed door at once.
    asio::io_context local;
    asio::ip::tcp::socket s(local);
    boost::system::error_code ec;
    s.connect({asio::ip::address_v4::loopback(), srv.port()}, ec);
    BOOST_TEST(ec == asio::error::connection_refused);
}

BOOST_AUTO_TEST_CASE(counts_and_malformed_ignored) {
    fake_dns_server srv(ioc.get_executor());
    srv.add("x.test", query_type::a, {.addresses = {ip("127.0.0.2")}});
    for (int i = 0; i < 3; ++i) ask_ok(srv.port(), "X.test.", A);
    ask_ok(srv.port(), "x.test", AAAA);
    ask_ok(srv.port(), "y.test", A);
    // A response (QR set) and a runt: no reply, not counted.
    auto bad = make_query(9, "x.test", A);
    bad[2] |= 0x80;
    BOOST_TEST(!ask(srv.port(), bad, 100ms).raw);
    BOOST_TEST(!ask(srv.port(), {1, 2, 3}, 100ms).raw);
    BOOST_TEST(srv.queries("x.test", query_type::a) == 3u);
    BOOST_TEST(srv.queries("x.test", query_type::aaaa) == 1u);
    BOOST_TEST(srv.queries("y.test", query_type::a) == 1u);
    BOOST_TEST(srv.total_queries() == 5u);
    BOOST_CHECK_THROW(srv.add("x.test", query_type::a, {.addresses = {ip("::1")}}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(destroyed_with_reply_pending) {
    // A delayed reply outstanding when the server goes: no crash, no reply.
    std::optional<fake_dns_server> srv(std::in_place, ioc.get_executor());
    srv->add("slow.test", query_type::a, {.delay = 10s});
    const auto port = srv->port();
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const asio::ip::udp::endpoint ep(asio::ip::address_v4::loopback(), port);
    ::connect(fd, ep.data(), socklen_t(ep.size()));
    const auto q = make_query(1, "slow.test", A);
    ::send(fd, q.data(), q.size(), 0);
    while (srv->total_queries() == 0) std::this_thread::sleep_for(1ms);
    srv.reset();
    pollfd pfd{fd, POLLIN, 0};
    BOOST_TEST(::poll(&pfd, 1, 100) == 0);
    ::close(fd);
}

BOOST_AUTO_TEST_SUITE_END()

// Without background threads: the server shares the test's thread, served
// by run_for while the query is in flight.
BOOST_AUTO_TEST_CASE(same_thread_io_context) {
    asio::io_context ioc;
    fake_dns_server srv(ioc.get_executor());
    srv.add("host.test", query_type::a, {.addresses = {ip("127.0.0.7")}, .delay = 50ms});
    asio::ip::udp::socket s(ioc, asio::ip::udp::endpoint(asio::ip::address_v4::loopback(), 0));
    const auto q = make_query(3, "host.test", A);
    s.send_to(asio::buffer(q), {asio::ip::address_v4::loopback(), srv.port()});
    std::vector<std::uint8_t> buf(512);
    std::optional<reply> r;
    s.async_receive(asio::buffer(buf), [&](boost::system::error_code ec, std::size_t n) {
        if (!ec) r = parse(std::span(buf.data(), n));
        ioc.stop();
    });
    ioc.run_for(2s);
    BOOST_REQUIRE(r);
    BOOST_TEST(r->addrs == std::vector<std::string>{"127.0.0.7"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE(dnsmasq, *boost::unit_test::precondition(dnsmasq_installed()))

BOOST_AUTO_TEST_CASE(host_record_a_and_aaaa) {
    dnsmasq_server srv({.host_records = {"host.test,127.0.0.5,::5,60"}, .cnames = {"www.test,host.test"}});
    const dnsmasq_log log{srv};
    BOOST_TEST_INFO_SCOPE(log);
    auto r = ask_ok(srv.port(), "host.test", A);
    BOOST_TEST(r.rcode == 0);
    BOOST_TEST(r.addrs == std::vector<std::string>{"127.0.0.5"}, boost::test_tools::per_element());
    BOOST_TEST(r.ttls == std::vector<std::uint32_t>{60}, boost::test_tools::per_element());
    r = ask_ok(srv.port(), "HOST.test", AAAA);
    BOOST_TEST(r.addrs == std::vector<std::string>{"::5"}, boost::test_tools::per_element());
    r = ask_ok(srv.port(), "www.test", A);
    BOOST_TEST(r.answer_types == (std::vector<std::uint16_t>{CNAME, A}), boost::test_tools::per_element());
    BOOST_TEST(r.addrs == std::vector<std::string>{"127.0.0.5"}, boost::test_tools::per_element());
    // No upstream to forward to: REFUSED, as the header says.
    BOOST_TEST(ask_ok(srv.port(), "other.example", A).rcode == 5);
    r = ask_ok(srv.port(), "www.test", AAAA);
    BOOST_TEST(r.addrs == std::vector<std::string>{"::5"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(address_and_local_domain) {
    dnsmasq_server srv({.host_records = {"v4only.test,127.0.0.8"},
                        .addresses = {"/wild.test/127.0.0.6"},
                        .extra_args = {"--local=/test/", "--local-ttl=30"}});
    const dnsmasq_log log{srv};
    BOOST_TEST_INFO_SCOPE(log);
    auto r = ask_ok(srv.port(), "a.b.wild.test", A);  // --address covers subdomains
    BOOST_TEST(r.addrs == std::vector<std::string>{"127.0.0.6"}, boost::test_tools::per_element());
    BOOST_TEST(r.ttls == std::vector<std::uint32_t>{30}, boost::test_tools::per_element());
    BOOST_TEST(ask_ok(srv.port(), "missing.test", A).rcode == 3);  // --local: NXDOMAIN...
    r = ask_ok(srv.port(), "v4only.test", AAAA);                   // ...and NODATA
    BOOST_TEST(r.rcode == 0);
    BOOST_TEST(r.answer_types.empty());
}

BOOST_AUTO_TEST_CASE(stopped_and_reaped) {
    pid_t pid;
    {
        dnsmasq_server srv({.host_records = {"host.test,127.0.0.5"}});
        pid = srv.pid();
        BOOST_TEST(::kill(pid, 0) == 0);
    }
    BOOST_TEST(::kill(pid, 0) == -1);  // gone and reaped, not a zombie
}

BOOST_AUTO_TEST_SUITE_END()
