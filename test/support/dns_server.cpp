#include "dns_server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace nettrace::testing {

namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {

constexpr std::uint16_t type_cname = 5, type_soa = 6, class_in = 1;

// Lower case (ASCII only, as DNS compares), one trailing dot dropped.
std::string normalise(std::string_view name) {
    if (name.ends_with('.')) name.remove_suffix(1);
    std::string s(name);
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

void check_name(const std::string& name) {
    std::size_t start = 0;
    while (start < name.size()) {
        const auto dot = std::min(name.find('.', start), name.size());
        if (dot == start || dot - start > 63) throw std::invalid_argument("bad DNS name: " + name);
        start = dot + 1;
    }
    if (name.size() > 253) throw std::invalid_argument("DNS name too long: " + name);
}

struct writer {
    std::vector<std::uint8_t> out;
    void u8(unsigned v) { out.push_back(static_cast<std::uint8_t>(v)); }
    void u16(unsigned v) { u8(v >> 8), u8(v); }
    void u32(std::uint32_t v) { u16(v >> 16), u16(v & 0xffff); }
    void bytes(std::span<const std::uint8_t> b) { out.insert(out.end(), b.begin(), b.end()); }
    // Uncompressed: every name written in full, "" being the root.
    void name(std::string_view dotted) {
        while (!dotted.empty()) {
            const auto dot = std::min(dotted.find('.'), dotted.size());
            u8(static_cast<unsigned>(dot));
            out.insert(out.end(), dotted.begin(), dotted.begin() + static_cast<std::ptrdiff_t>(dot));
            dotted.remove_prefix(std::min(dot + 1, dotted.size()));
        }
        u8(0);
    }
};

struct query {
    std::uint16_t id = 0, flags = 0, type = 0;
    std::string name;                        // normalised
    std::span<const std::uint8_t> question;  // as sent: name, type, class
};

// A query: QR clear, opcode QUERY, exactly one question with an
// uncompressed name. Whatever follows the question (EDNS0 OPT) is ignored.
std::optional<query> parse_query(std::span<const std::uint8_t> p) {
    if (p.size() < 12) return std::nullopt;
    query q;
    q.id = static_cast<std::uint16_t>(p[0] << 8 | p[1]);
    q.flags = static_cast<std::uint16_t>(p[2] << 8 | p[3]);
    const unsigned qdcount = p[4] << 8 | p[5];
    if ((q.flags & 0x8000) || (q.flags & 0x7800) || qdcount != 1) return std::nullopt;
    std::size_t i = 12;
    std::string dotted;
    for (;;) {
        if (i >= p.size()) return std::nullopt;
        const unsigned len = p[i++];
        if (len == 0) break;
        if (len > 63 || i + len > p.size() || dotted.size() + len > 253) return std::nullopt;
        if (!dotted.empty()) dotted += '.';
        dotted.append(reinterpret_cast<const char*>(&p[i]), len);
        i += len;
    }
    if (i + 4 > p.size()) return std::nullopt;
    q.type = static_cast<std::uint16_t>(p[i] << 8 | p[i + 1]);
    q.name = normalise(dotted);
    q.question = p.subspan(12, i + 4 - 12);
    return q;
}

struct record {
    std::string owner;
    std::uint16_t type;
    std::uint32_t ttl;
    std::vector<std::uint8_t> rdata;
};

struct answer {
    dns_rcode rcode = dns_rcode::noerror;
    std::vector<record> records;
    std::optional<std::uint32_t> soa_ttl;  // an SOA in authority, for negative answers
};

std::vector<std::uint8_t> build_reply(const query& q, std::uint16_t id, const answer& a, bool truncated) {
    writer w;
    w.u16(id);
    // QR, AA, RA; RD copied from the query; TC on demand.
    w.u16(0x8400u | 0x0080u | (q.flags & 0x0100u) | (truncated ? 0x0200u : 0u) | static_cast<unsigned>(a.rcode));
    const bool tc = truncated;  // then the question alone, as a server out of room sends
    w.u16(1);
    w.u16(tc ? 0 : static_cast<unsigned>(a.records.size()));
    w.u16(!tc && a.soa_ttl ? 1 : 0);
    w.u16(0);
    w.bytes(q.question);
    if (tc) return w.out;
    for (const auto& r : a.records) {
        w.name(r.owner);
        w.u16(r.type), w.u16(class_in), w.u32(r.ttl);
        w.u16(static_cast<unsigned>(r.rdata.size()));
        w.bytes(r.rdata);
    }
    if (a.soa_ttl) {
        writer rd;
        rd.name("ns.fake.invalid"), rd.name("hostmaster.fake.invalid");
        rd.u32(1), rd.u32(3600), rd.u32(600), rd.u32(86400), rd.u32(*a.soa_ttl);  // serial..minimum
        w.name("");  // the root zone: any apex does for a negative-caching TTL
        w.u16(type_soa), w.u16(class_in), w.u32(*a.soa_ttl);
        w.u16(static_cast<unsigned>(rd.out.size()));
        w.bytes(rd.out);
    }
    return w.out;
}

// The right ID, a header promising an answer, then a label that claims 63
// bytes where 12 pseudo-random ones follow: no parser can accept it.
std::vector<std::uint8_t> garbage_reply(std::uint16_t id) {
    writer w;
    w.u16(id), w.u16(0x8180), w.u16(1), w.u16(1), w.u16(0), w.u16(0);
    w.u8(63);
    std::mt19937 rng(id);
    for (int i = 0; i < 12; ++i) w.u8(rng() & 0xff);
    return w.out;
}

// A POSIX TCP socket bound (not listening) to addr:port, or -1.
int reserve_tcp(const asio::ip::address& addr, unsigned short port) {
    asio::ip::tcp::endpoint ep(addr, port);
    const int fd = ::socket(addr.is_v6() ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (::bind(fd, ep.data(), static_cast<socklen_t>(ep.size())) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

std::string host_port(const asio::ip::address& a, unsigned short port) {
    return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(port);
}

}  // namespace

// ---------------------------------------------------------------- fake_dns_server

struct fake_dns_server::state : std::enable_shared_from_this<state> {
    using key = std::pair<std::string, std::uint16_t>;

    // A strand: replies from timers and from the receive handler never
    // touch the socket at once, however many threads run the io_context.
    explicit state(const asio::any_io_executor& ex, const asio::ip::address& a)
        : address(a), socket(asio::make_strand(ex)) {}

    const asio::ip::address address;

    // Strand only.
    udp::socket socket;
    std::array<std::uint8_t, 4096> buf{};
    udp::endpoint peer;
    std::list<asio::steady_timer> timers;  // delayed replies
    int tcp_fd = -1;                       // owner's thread only

    // Any thread.
    mutable std::mutex mutex;
    std::map<key, behaviour> script;
    std::map<key, std::size_t> counts;
    std::size_t total = 0;

    void receive() {
        socket.async_receive_from(asio::buffer(buf), peer,
                                  [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                                      if (ec == asio::error::operation_aborted || !self->socket.is_open()) return;
                                      if (!ec) self->handle(n);
                                      self->receive();
                                  });
    }

    // Follows CNAMEs through the script; mutex held.
    answer resolve(std::string name, std::uint16_t type) const {
        answer a;
        for (int hops = 0; hops < 8; ++hops) {
            const auto it = script.find({name, type});
            if (it == script.end()) {
                const bool exists = script.contains({name, std::uint16_t(query_type::a)}) ||
                                    script.contains({name, std::uint16_t(query_type::aaaa)}) ||
                                    script.contains({name, std::uint16_t(query_type::https)});
                a.rcode = exists ? dns_rcode::noerror : dns_rcode::nxdomain;
                a.soa_ttl = behaviour{}.negative_ttl;
                return a;
            }
            const behaviour& b = it->second;
            if (!b.cname.empty()) {
                writer target;
                target.name(b.cname);
                a.records.push_back({b.cname_owner.empty() ? name : normalise(b.cname_owner), type_cname, b.ttl,
                                     std::move(target.out)});
                name = normalise(b.cname);
                continue;
            }
            a.rcode = b.rcode;
            if (b.rcode == dns_rcode::nxdomain ||
                (b.rcode == dns_rcode::noerror && b.addresses.empty() && b.rdata.empty()))
                a.soa_ttl = b.negative_ttl;
            if (b.rcode == dns_rcode::noerror)
                for (const auto& addr : b.addresses) {
                    record r{name, type, b.ttl, {}};
                    if (addr.is_v4()) {
                        const auto bytes = addr.to_v4().to_bytes();
                        r.rdata.assign(bytes.begin(), bytes.end());
                    } else {
                        const auto bytes = addr.to_v6().to_bytes();
                        r.rdata.assign(bytes.begin(), bytes.end());
                    }
                    a.records.push_back(std::move(r));
                }
            if (b.rcode == dns_rcode::noerror)
                for (const auto& rdata : b.rdata) a.records.push_back({name, type, b.ttl, rdata});
            return a;
        }
        a.records.clear();
        a.rcode = dns_rcode::servfail;  // a CNAME loop
        return a;
    }

    void handle(std::size_t n) {
        const auto q = parse_query(std::span(buf.data(), n));
        if (!q) return;
        behaviour b;  // modifiers of the name asked for, not of CNAME targets
        answer a;
        {
            std::lock_guard lock(mutex);
            ++counts[{q->name, q->type}];
            ++total;
            if (const auto it = script.find({q->name, q->type}); it != script.end()) b = it->second;
            a = resolve(q->name, q->type);
        }
        if (b.never) return;
        auto reply = b.garbage ? garbage_reply(q->id)
                               : build_reply(*q, b.wrong_id ? std::uint16_t(q->id + 1) : q->id, a, b.truncated);
        if (b.delay <= std::chrono::milliseconds::zero()) return send(reply, peer);
        const auto t = timers.emplace(timers.end(), socket.get_executor(), b.delay);
        t->async_wait(
            [self = shared_from_this(), t, reply = std::move(reply), to = peer](boost::system::error_code ec) {
                self->timers.erase(t);
                if (!ec && self->socket.is_open()) self->send(reply, to);
            });
    }

    void send(const std::vector<std::uint8_t>& reply, const udp::endpoint& to) {
        boost::system::error_code ignored;  // a client gone away is not our concern
        socket.send_to(asio::buffer(reply), to, 0, ignored);
    }

    void close() {
        boost::system::error_code ignored;
        socket.close(ignored);
        for (auto& t : timers) t.cancel();
    }
};

fake_dns_server::fake_dns_server(const asio::any_io_executor& ex, const asio::ip::address& addr, unsigned short port)
    : state_(std::make_shared<state>(ex, addr)) {
    if (!addr.is_loopback()) throw std::invalid_argument("loopback only: " + addr.to_string());
    // A free UDP port whose TCP twin is free too: it is held, not listened
    // on, so a TCP retry after truncation is refused rather than reaching
    // some other program.
    for (int tries = 0; state_->tcp_fd < 0; ++tries) {
        if (tries == 50) throw std::runtime_error("no port free on both UDP and TCP");
        boost::system::error_code ignored;
        state_->socket.close(ignored);
        if (port != 0 && tries > 0) throw std::runtime_error("port " + std::to_string(port) + " is not free for TCP");
        const udp::endpoint ep(addr, port);
        state_->socket.open(ep.protocol());
        if (addr.is_v6()) state_->socket.set_option(asio::ip::v6_only(true));
        state_->socket.bind(ep);
        port_ = state_->socket.local_endpoint().port();
        state_->tcp_fd = reserve_tcp(addr, port_);
    }
    state_->receive();
}

fake_dns_server::~fake_dns_server() {
    ::close(state_->tcp_fd);
    asio::dispatch(state_->socket.get_executor(), [s = state_] { s->close(); });
}

std::string fake_dns_server::address() const { return host_port(state_->address, port_); }

void fake_dns_server::add(const std::string& name, query_type type, behaviour b) {
    const auto n = normalise(name);
    check_name(n);
    if (!b.cname.empty()) check_name(normalise(b.cname));
    if (!b.cname_owner.empty()) check_name(normalise(b.cname_owner));
    for (const auto& a : b.addresses)
        if (a.is_v4() != (type == query_type::a))
            throw std::invalid_argument(a.to_string() + " is the wrong family for " + name);
    std::lock_guard lock(state_->mutex);
    state_->script[{n, std::uint16_t(type)}] = std::move(b);
}

std::size_t fake_dns_server::queries(const std::string& name, query_type type) const {
    std::lock_guard lock(state_->mutex);
    const auto it = state_->counts.find({normalise(name), std::uint16_t(type)});
    return it == state_->counts.end() ? 0 : it->second;
}

std::size_t fake_dns_server::total_queries() const {
    std::lock_guard lock(state_->mutex);
    return state_->total;
}

// ---------------------------------------------------------------- dnsmasq_server

namespace {

constexpr const char* dnsmasq_path = "/usr/sbin/dnsmasq";

// A port free on 127.0.0.1 for both UDP and TCP (dnsmasq binds both) at the
// time of the call; dnsmasq_server retries if it is taken meanwhile.
unsigned short free_udp_tcp_port() {
    const auto lo = asio::ip::address_v4::loopback();
    for (int tries = 0; tries < 50; ++tries) {
        const int u = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        udp::endpoint ep(lo, 0);
        if (u < 0 || ::bind(u, ep.data(), static_cast<socklen_t>(ep.size())) != 0)
            throw std::runtime_error(std::string("udp bind: ") + std::strerror(errno));
        sockaddr_in sa{};
        socklen_t len = sizeof sa;
        ::getsockname(u, reinterpret_cast<sockaddr*>(&sa), &len);
        const unsigned short port = ntohs(sa.sin_port);
        const int t = reserve_tcp(lo, port);
        ::close(u);
        if (t >= 0) {
            ::close(t);
            return port;
        }
    }
    throw std::runtime_error("no port free on both UDP and TCP");
}

// The readiness probe: one A query over UDP, true on any reply with its ID
// (dnsmasq REFUSEs names it has no records for, which is still an answer).
bool dns_answers(unsigned short port, std::chrono::milliseconds timeout) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const udp::endpoint ep(asio::ip::address_v4::loopback(), port);
    timeval tv{0, static_cast<suseconds_t>(timeout.count() * 1000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    writer w;
    const std::uint16_t id = 0x5eed;
    w.u16(id), w.u16(0x0100), w.u16(1), w.u16(0), w.u16(0), w.u16(0);
    w.name("readiness-probe.invalid");
    w.u16(std::uint16_t(query_type::a)), w.u16(class_in);
    bool ok = false;
    // connect(): a closed port shows up as ECONNREFUSED rather than a timeout.
    if (::connect(fd, ep.data(), static_cast<socklen_t>(ep.size())) == 0 &&
        ::send(fd, w.out.data(), w.out.size(), 0) == static_cast<ssize_t>(w.out.size())) {
        std::array<std::uint8_t, 512> in{};
        const auto n = ::recv(fd, in.data(), in.size(), 0);
        ok = n >= 12 && (in[0] << 8 | in[1]) == id && (in[2] & 0x80);
    }
    ::close(fd);
    return ok;
}

}  // namespace

bool dnsmasq_server::available() { return ::access(dnsmasq_path, X_OK) == 0; }

dnsmasq_server::dnsmasq_server(const dnsmasq_records& records) {
    if (!available()) throw std::runtime_error(std::string(dnsmasq_path) + " is not installed");
    char path[] = "/tmp/nettrace-dnsmasq-XXXXXX";
    const int fd = ::mkstemp(path);
    if (fd < 0) throw std::runtime_error(std::string("mkstemp: ") + std::strerror(errno));
    ::close(fd);
    log_path_ = path;
    try {
        for (int attempt = 0; attempt < 5; ++attempt)
            if (start(records)) return;
        throw std::runtime_error("dnsmasq: no free port after 5 attempts:\n" + log());
    } catch (...) {
        ::unlink(log_path_.c_str());
        throw;
    }
}

bool dnsmasq_server::start(const dnsmasq_records& records) {
    port_ = free_udp_tcp_port();
    std::vector<std::string> args = {
        dnsmasq_path,
        "--keep-in-foreground",  // not --no-daemon: that is debug mode (syslog too, SIGUSR1 dumps)
        "--log-facility=-",      // log to stderr, i.e. our log file
        "--log-queries",
        "--conf-file=/dev/null",  // not /etc/dnsmasq.conf
        "--no-resolv",            // no upstream servers from /etc/resolv.conf: never forward
        "--no-hosts",             // not /etc/hosts
        "--no-poll",
        "--pid-file",   // without a value: no pid file
        "--user=root",  // as root it would switch to user dnsmasq, which may not exist; ignored otherwise
        "--listen-address=127.0.0.1",
        "--bind-interfaces",  // bind 127.0.0.1:port only, not the wildcard address
        "--port=" + std::to_string(port_),
    };
    for (const auto& r : records.host_records) args.push_back("--host-record=" + r);
    for (const auto& a : records.addresses) args.push_back("--address=" + a);
    for (const auto& c : records.cnames) args.push_back("--cname=" + c);
    args.insert(args.end(), records.extra_args.begin(), records.extra_args.end());

    child_ = child_process(args, log_path_);
    // Ready when it answers: probe until then, for at most 10 s.
    switch (child_.wait_until_ready([this] { return dns_answers(port_, std::chrono::milliseconds(100)); })) {
        case child_process::readiness::ready:
            return true;
        case child_process::readiness::exited: {
            const auto text = log();
            if (text.find("Address already in use") != std::string::npos) return false;
            throw std::runtime_error("dnsmasq exited (status " + std::to_string(child_.exit_status()) + "):\n" + text);
        }
        case child_process::readiness::timed_out:
            break;
    }
    child_.stop();
    throw std::runtime_error("dnsmasq did not answer within 10 s:\n" + log());
}

dnsmasq_server::~dnsmasq_server() {
    child_.stop();
    ::unlink(log_path_.c_str());
}

std::string dnsmasq_server::address() const { return "127.0.0.1:" + std::to_string(port_); }

std::string dnsmasq_server::log() const {
    std::ifstream in(log_path_);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace nettrace::testing
