// Fuzz target: DNS answer handling. The c-ares resolver of nettrace
// (src/dns_resolver.cpp, make_dns_resolver) asks a name server on loopback
// that this target owns; the "server" answers the query with the fuzz input.
// So every reply runs the whole answer path a real one would: c-ares reading
// and parsing it, then nettrace turning it into a lookup_result.
//
// Right after the reply the server sends a second one, a valid REFUSED for
// the query: when c-ares ignores the fuzzed reply (wrong ID, wrong question,
// unparseable header) this one ends the lookup at once (dns_refused)
// instead of the 50 ms timeout, and when the fuzzed reply ended it, this one
// is a stale answer that c-ares must drop. It carries no address, so every
// address in the result still comes from the fuzzed reply.
//
// Input: one byte of flags, then the reply.
//   bit 0: ask for AAAA (else A)
//   bit 1: splice: reply = the input's first 12 bytes (the header), then the
//          query's own question, then the rest of the input (the answers);
//          else the input is the whole reply
//   bit 2: keep the input's ID (else the query's ID is patched in)
//   bit 3: keep the input's QDCOUNT when splicing (else 1)
//
// Invariants: the lookup completes exactly once; a result xor an error,
// from the errors the resolver documents; only addresses of the asked
// family, no duplicates; and only addresses the reply really gives for the
// asked name: an A/AAAA record whose owner is the name or a CNAME of it
// (checked with an independent parser below), never from a reply whose ID
// or question does not match the query.
#include <nettrace/dns_resolver.hpp>
#include <nettrace/error.hpp>

#include "check.hpp"
#include "dns_message.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using bytes = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

constexpr const char* qname = "fuzz.test";

struct harness {
    asio::io_context ioc{1};
    udp::socket server{ioc};
    int tcp_blocker = -1;  // the same port on TCP, bound but not listening: a truncated answer's TCP retry is refused
    std::shared_ptr<nettrace::resolver> resolver;

    harness() {
        for (int tries = 0; tries < 100 && tcp_blocker < 0; ++tries) {
            if (server.is_open()) server.close();
            server.open(udp::v4());
            server.bind(udp::endpoint(asio::ip::address_v4::loopback(), 0));
            const auto ep = server.local_endpoint();
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd >= 0 && ::bind(fd, ep.data(), static_cast<socklen_t>(ep.size())) == 0)
                tcp_blocker = fd;
            else if (fd >= 0)
                ::close(fd);
        }
        FUZZ_CHECK(tcp_blocker >= 0);
        nettrace::dns_resolver_options o;
        o.nameservers = {"127.0.0.1:" + std::to_string(server.local_endpoint().port())};
        o.timeout = 50ms;
        o.tries = 1;
        o.use_hosts_file = false;
        o.cache = false;  // every input goes to the "server"
        resolver = nettrace::make_dns_resolver(o);
    }
};

harness& the_harness() {
    static harness* h = new harness;  // for the whole process
    return *h;
}

bytes build_reply(std::uint8_t flags, std::span<const std::uint8_t> in, std::span<const std::uint8_t> query) {
    bytes r;
    if (flags & 2) {
        r.assign(in.begin(), in.begin() + std::min<std::size_t>(in.size(), 12));
        r.resize(12, 0);
        if (!(flags & 8)) {
            r[4] = 0;
            r[5] = 1;
        }
        if (query.size() > 12) r.insert(r.end(), query.begin() + 12, query.end());
        if (in.size() > 12) r.insert(r.end(), in.begin() + 12, in.end());
    } else {
        r.assign(in.begin(), in.end());
    }
    if (!(flags & 4) && r.size() >= 2 && query.size() >= 2) {
        r[0] = query[0];
        r[1] = query[1];
    }
    return r;
}

// ---------------------------------------------------------------------------
// An independent reading of the reply: which addresses it gives for the name.

struct reading {
    bool parsed = false;
    std::uint16_t id = 0;
    bool question_matches = false;      // exactly one question: the name, the type, class IN
    std::set<asio::ip::address> valid;  // A/AAAA records of the name or of its CNAMEs
};

reading read_reply(std::span<const std::uint8_t> reply, std::uint16_t qtype) {
    reading out;
    const dns_message msg{reply};
    if (reply.size() < 12) return out;
    out.id = msg.u16(0);
    const std::uint16_t qd = msg.u16(4), an = msg.u16(6);
    const std::vector<std::string> target{"fuzz", "test"};
    std::size_t off = 12;
    for (std::uint16_t i = 0; i < qd; ++i) {
        const auto n = msg.name(off);
        if (!n || off + 4 > reply.size()) return out;
        if (qd == 1 && *n == target && msg.u16(off) == qtype && msg.u16(off + 2) == 1) out.question_matches = true;
        off += 4;
    }
    struct rr {
        std::vector<std::string> owner;
        std::uint16_t type, rclass;
        std::size_t rdata, rdlen;
    };
    std::vector<rr> rrs;
    for (std::uint16_t i = 0; i < an; ++i) {
        auto owner = msg.name(off);
        if (!owner || off + 10 > reply.size()) return out;
        const std::uint16_t type = msg.u16(off), rclass = msg.u16(off + 2), rdlen = msg.u16(off + 8);
        off += 10;
        if (off + rdlen > reply.size()) return out;
        rrs.push_back({std::move(*owner), type, rclass, off, rdlen});
        off += rdlen;
    }
    // The name and every CNAME reachable from it (in any order).
    std::vector<std::vector<std::string>> names{target};
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto& r : rrs) {
            if (r.type != 5 || std::find(names.begin(), names.end(), r.owner) == names.end()) continue;
            std::size_t at = r.rdata;
            const auto cname = msg.name(at);
            if (cname && std::find(names.begin(), names.end(), *cname) == names.end()) {
                names.push_back(*cname);
                grew = true;
            }
        }
    }
    for (const auto& r : rrs) {
        if (std::find(names.begin(), names.end(), r.owner) == names.end()) continue;
        if (r.type == 1 && r.rdlen == 4) {
            asio::ip::address_v4::bytes_type b;
            std::copy_n(&reply[r.rdata], 4, b.begin());
            out.valid.insert(asio::ip::address_v4(b));
        } else if (r.type == 28 && r.rdlen == 16) {
            asio::ip::address_v6::bytes_type b;
            std::copy_n(&reply[r.rdata], 16, b.begin());
            out.valid.insert(asio::ip::address_v6(b));
        }
    }
    out.parsed = true;
    return out;
}

bool documented(const boost::system::error_code& ec) {
    using nettrace::error;
    for (error e : {error::host_not_found, error::no_addresses, error::dns_failure, error::dns_timeout,
                    error::dns_refused, error::dns_malformed, error::invalid_host})
        if (ec == make_error_code(e)) return true;
    return ec == asio::error::no_memory;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t flags = data[0];
    const std::span<const std::uint8_t> in(data + 1, size - 1);
    const auto family = (flags & 1) ? nettrace::address_family::ipv6 : nettrace::address_family::ipv4;
    const std::uint16_t qtype = (flags & 1) ? 28 : 1;

    harness& h = the_harness();
    h.ioc.restart();
    bytes query(1500), reply;
    udp::endpoint from;
    bool answered = false;
    h.server.async_receive_from(asio::buffer(query), from, [&](boost::system::error_code ec, std::size_t n) {
        if (ec) return;
        query.resize(n);
        reply = build_reply(flags, in, query);
        h.server.send_to(asio::buffer(reply), from, 0, ec);
        if (query.size() >= 12) {
            bytes refused = query;
            refused[2] = 0x81;  // QR, RD
            refused[3] = 0x85;  // RA, REFUSED
            h.server.send_to(asio::buffer(refused), from, 0, ec);
        }
        answered = true;
    });

    int calls = 0;
    nettrace::lookup_result got;
    auto pending = h.resolver->lookup(h.ioc.get_executor(), qname, family, [&](nettrace::lookup_result r) {
        ++calls;
        got = std::move(r);
    });
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (calls == 0 && std::chrono::steady_clock::now() < give_up) h.ioc.run_one_for(100ms);
    FUZZ_CHECK(calls == 1);
    boost::system::error_code ignored;
    h.server.cancel(ignored);  // the receive, if no query came
    h.ioc.poll();
    FUZZ_CHECK(calls == 1);

    // What came back. NETTRACE_FUZZ_VERBOSE=1 prints it (for triage).
    static const bool verbose = std::getenv("NETTRACE_FUZZ_VERBOSE") != nullptr;
    if (verbose) {
        std::fprintf(stderr, "reply %zu bytes: %s", reply.size(), got.error ? got.error.message().c_str() : "");
        for (const auto& a : got.addrs) std::fprintf(stderr, " %s", a.to_string().c_str());
        std::fprintf(stderr, "\n");
    }
    FUZZ_CHECK(got.addrs.empty() == static_cast<bool>(got.error));
    if (got.error) FUZZ_CHECK(documented(got.error));
    FUZZ_CHECK(got.source == nettrace::dns_source::dns);
    for (const auto& a : got.addrs) FUZZ_CHECK(a.is_v6() == (family == nettrace::address_family::ipv6));
    for (std::size_t i = 0; i < got.addrs.size(); ++i)
        FUZZ_CHECK(std::find(got.addrs.begin() + std::ptrdiff_t(i) + 1, got.addrs.end(), got.addrs[i]) ==
                   got.addrs.end());
    if (got.addrs.empty()) return 0;

    // Addresses only from a reply that answers this query, for this name.
    FUZZ_CHECK(answered);
    const auto r = read_reply(reply, qtype);
    FUZZ_CHECK(reply.size() >= 12);
    FUZZ_CHECK(r.id == std::uint16_t(query[0] << 8 | query[1]));
    if (r.parsed) {
        FUZZ_CHECK(r.question_matches);
        // c-ares 1.18 alone would follow CNAMEs of other owners ("unchained");
        // the resolver's chain check must stop those addresses.
        for (const auto& a : got.addrs) FUZZ_CHECK(r.valid.count(a) == 1);
    }
    return 0;
}
