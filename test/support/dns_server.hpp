// DNS servers on loopback for resolver tests: a scripted fake that can
// misbehave on demand, and a real dnsmasq. Both bind only 127.0.0.1 (or ::1)
// and answer only from their own records; nothing is ever forwarded.
#pragma once

#include "child_process.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nettrace::testing {

enum class query_type : std::uint16_t { a = 1, aaaa = 28, https = 65 };

enum class dns_rcode : std::uint8_t { noerror = 0, servfail = 2, nxdomain = 3, refused = 5 };

/// What fake_dns_server does with a query for one (name, type). Meant for
/// designated initializers: `{.addresses = {a}, .ttl = 60, .delay = 200ms}`
/// (members have `{}` initializers so -Wextra accepts omitting them).
/// The default, `{}`, is NODATA: NOERROR, no answer, an SOA in authority.
struct behaviour {
    // --- the answer ---
    /// A or AAAA records (family must match the type), rcode NOERROR.
    std::vector<boost::asio::ip::address> addresses{};
    /// Records of the scripted type given as raw RDATA, written as they are
    /// after `addresses`, rcode NOERROR: for query_type::https, each an HTTPS
    /// record (svcb_rdata() in svcb_rdata.hpp makes them), well formed or not.
    std::vector<std::vector<std::uint8_t>> rdata{};
    std::uint32_t ttl = 300;  ///< TTL of the address and rdata records, or of the CNAME
    /// NXDOMAIN, SERVFAIL or REFUSED: no answer records. NXDOMAIN carries an SOA.
    dns_rcode rcode = dns_rcode::noerror;
    /// Non-empty: the answer is `name CNAME cname`, followed by whatever the
    /// script says for (cname, type) — its addresses, its own CNAME, or its
    /// rcode (NXDOMAIN if unknown). `addresses` and `rcode` are then unused.
    std::string cname{};
    /// With `cname`: write the CNAME record under this owner instead of the
    /// name asked for — an "unchained" CNAME that answers some other name,
    /// which a resolver must not follow.
    std::string cname_owner{};
    /// TTL and MINIMUM of the SOA sent with NODATA and NXDOMAIN: caching
    /// resolvers (c-ares >= 1.23's query cache) cache negative answers only
    /// with an SOA.
    std::uint32_t negative_ttl = 60;

    // --- modifiers ---
    std::chrono::milliseconds delay{0};  ///< reply this much later (an Asio timer)
    bool never = false;                  ///< count the query, never reply
    bool truncated = false;              ///< TC bit, question only (see fake_dns_server)
    bool garbage = false;                ///< the right ID followed by bytes no parser accepts
    bool wrong_id = false;               ///< the correct reply with ID+1: a spoof to be ignored
};

/// A scripted UDP DNS responder, bound at construction to a free port on a
/// loopback address and served on `ex` (which may be run on any one thread,
/// or several). All members are thread safe.
///
/// - Names compare case-insensitively, a trailing dot ignored; the reply
///   echoes the question exactly as asked (so DNS 0x20 clients are happy).
/// - A name scripted for some other type gets NODATA; an unscripted name
///   gets NXDOMAIN (with SOA). Queries of any type are counted. A script
///   with neither addresses nor rdata (and NOERROR) answers NODATA.
/// - Malformed queries (and responses, and opcodes other than QUERY) are
///   ignored and not counted. EDNS0 OPT records in a query are skipped; the
///   reply carries none, which EDNS clients accept.
/// - Replies: QR, AA and RA set, RD copied; names are written uncompressed.
/// - TCP: the same port is reserved on TCP but never listened on, so a
///   client retrying a truncated answer over TCP is refused (RST) at once.
///   c-ares 1.18 then fails the lookup with ARES_ECONNREFUSED within a
///   millisecond, after one UDP query (it sends no second UDP try).
/// - The pending receive keeps `ex`'s io_context busy: run it with
///   run_for/run_one or stop() it, as with live_listener.
class fake_dns_server {
public:
    /// Listens on `addr` (loopback only) at `port`, or at a free port when 0.
    /// Throws boost::system::system_error when `port` is taken.
    explicit fake_dns_server(const boost::asio::any_io_executor& ex,
                             const boost::asio::ip::address& addr = boost::asio::ip::address_v4::loopback(),
                             unsigned short port = 0);
    /// Closes the socket on `ex` (dispatch): at once when called from a
    /// thread running it, otherwise when it next runs or is destroyed.
    ~fake_dns_server();
    fake_dns_server(const fake_dns_server&) = delete;
    fake_dns_server& operator=(const fake_dns_server&) = delete;

    unsigned short port() const noexcept { return port_; }
    /// "127.0.0.1:PORT" or "[::1]:PORT", as c-ares' server CSV wants it.
    std::string address() const;

    /// Scripts (name, type), replacing any earlier script for it. Throws
    /// std::invalid_argument for an address of the wrong family.
    void add(const std::string& name, query_type type, behaviour b);

    /// Well-formed queries received for (name, type), and in all.
    std::size_t queries(const std::string& name, query_type type) const;
    std::size_t total_queries() const;

private:
    struct state;
    std::shared_ptr<state> state_;
    unsigned short port_ = 0;
};

/// Records for a dnsmasq_server, each one dnsmasq option's value.
struct dnsmasq_records {
    std::vector<std::string> host_records{};  ///< --host-record=name,addr[,addr...][,ttl]
    std::vector<std::string> addresses{};     ///< --address=/name/addr (name and its subdomains)
    std::vector<std::string> cnames{};        ///< --cname=alias,target[,ttl]
    std::vector<std::string> extra_args{};    ///< verbatim, e.g. "--local-ttl=30", "--local=/test/"
};

/// Debian's dnsmasq (/usr/sbin/dnsmasq) in the foreground on a free
/// 127.0.0.1 port, answering only from its records: no upstream servers, no
/// /etc/hosts, no config file. A query it holds no records for — an unknown
/// name, or a type the name lacks — is answered REFUSED (nowhere to forward
/// it) unless extra_args makes the domain local (`--local=/test/`): then
/// NXDOMAIN, or NODATA (without SOA). Records carry TTL 0 unless given one
/// (host-record's ttl, or --local-ttl).
///
/// The constructor returns once dnsmasq answers a query; the destructor
/// stops it (SIGTERM, then SIGKILL) and reaps it. dnsmasq also gets
/// SIGTERM if the thread that started it dies (PR_SET_PDEATHSIG).
class dnsmasq_server {
public:
    static bool available();

    explicit dnsmasq_server(const dnsmasq_records& records);
    ~dnsmasq_server();
    dnsmasq_server(const dnsmasq_server&) = delete;
    dnsmasq_server& operator=(const dnsmasq_server&) = delete;

    unsigned short port() const noexcept { return port_; }
    std::string address() const;  ///< "127.0.0.1:PORT"
    pid_t pid() const noexcept { return child_.pid(); }
    /// dnsmasq's log (its stderr, queries included) so far: print it when a
    /// test fails. dnsmasq writes it from its event loop, so the line for
    /// the query just answered may not be there yet.
    std::string log() const;

private:
    bool start(const dnsmasq_records& records);  // false: the port was taken

    child_process child_;
    unsigned short port_ = 0;
    std::string log_path_;
};

}  // namespace nettrace::testing
