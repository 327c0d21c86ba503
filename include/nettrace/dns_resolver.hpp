// nettrace/dns_resolver.hpp — an asynchronous DNS resolver on c-ares, driven
// by the dial's own io_context: no threads, each family's answer delivered
// the moment it arrives, concurrent lookups of a name coalesced into one
// query, answers cached for their TTL.
#pragma once

#include <nettrace/resolver.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace nettrace {

struct dns_resolver_options {
    /// Name servers as "addr", "addr:port", "v6addr", "[v6addr]" or
    /// "[v6addr]:port": IP addresses only, parsed like dial()'s literals;
    /// the port defaults to 53, and an IPv6 address carries one only in
    /// brackets ("::1:53" is the address ::1:53). Zones are refused (c-ares
    /// 1.18 keeps no scope for a server). Empty: the servers, search domains
    /// and ndots of /etc/resolv.conf. When set, /etc/resolv.conf is not read
    /// at all.
    std::vector<std::string> nameservers;

    /// The first try's timeout, per server, and how many rounds over the
    /// servers. c-ares 1.18 doubles the timeout each round: round r (from 0)
    /// waits timeout * 2^r per server, so with one server a lookup gives up
    /// with dns_timeout after timeout * (2^tries - 1): 400 ms and 2 tries
    /// take 1,200 ms; the defaults, 6 s.
    std::chrono::milliseconds timeout{2000};
    int tries = 2;

    /// Answer names listed in the hosts file from it, without DNS (a name
    /// found there is answered from there only, as Go does).
    bool use_hosts_file = true;
    std::string hosts_file = "/etc/hosts";

    /// Cache answers for their TTL, at most max_ttl; NXDOMAIN and NODATA for
    /// negative_ttl. A cache hit reports dns_source::cache.
    bool cache = true;
    std::chrono::seconds max_ttl{300};
    std::chrono::seconds negative_ttl{5};
};

/// Whether this build of nettrace has the c-ares resolver (meson option
/// `cares`); without it make_dns_resolver throws. Thread safe.
bool dns_resolver_available() noexcept;

/// A resolver on c-ares. Each io_context that uses it gets its own c-ares
/// channel, cache and in-flight table, run on a strand of that io_context;
/// c-ares sockets are watched by Asio and released (never closed) by it.
///
/// Coalescing: a lookup of a (name, family) that is already in flight on the
/// same io_context joins that query instead of sending another; it reports
/// `coalesced = true`. The caller that started the query reports false. A
/// cancelled caller gets operation_aborted at once and leaves the query
/// running for the others.
///
/// Completion and executor: each lookup's answer is posted to the executor
/// given to lookup() (the dial's strand); c-ares runs on the channel's own
/// strand of the io_context, not on the caller's. A name the hosts file lists is answered from it at once
/// (dns_source::hosts), a cached answer from the cache (dns_source::cache).
///
/// Cancellation: pending_lookup::cancel() (any thread) completes that caller
/// with operation_aborted; the query goes on for the other callers and the
/// cache. When no caller waits for any query of the channel any more, its
/// queries are cancelled (ares_cancel), so io_context::run() does not wait
/// out retries nobody needs. Shutting down the io_context destroys its channel and abandons its
/// queries.
///
/// Thread safety: the resolver may be shared by any number of dials,
/// io_contexts and threads.
///
/// Errors: error::host_not_found (NXDOMAIN), no_addresses (NODATA, or a
/// hosts-file name without an address of the family), dns_failure
/// (SERVFAIL, unreachable server), dns_timeout (no answer after `tries`
/// rounds of `timeout`), dns_refused, dns_malformed (an answer that cannot
/// be parsed), invalid_host (a name c-ares rejects),
/// boost::asio::error::no_descriptors when a socket cannot be opened at the
/// descriptor limit, no_memory. With several name servers, a SERVFAIL or
/// REFUSED answer makes c-ares try the next server, and only the overall
/// failure (dns_failure) is reported. With `cache` on, answers, NXDOMAIN
/// and NODATA are cached; other failures are not.
///
/// HTTPS records (lookup_service): one raw query of type 65 (HTTPS, RFC
/// 9460) for the name as given, on the same channel and strand as the
/// address lookups, without search domains; c-ares 1.18 has no HTTPS
/// parser, so nettrace parses the answer itself. CNAMEs in the answer are
/// followed from the name (at most 16); a ServiceMode record whose
/// TargetName is "." behind a CNAME gets the CNAME's target as its
/// TargetName. Records that break RFC 9460 are left out whole and counted
/// in `rejected`, and so are records whose `mandatory` lists a key nettrace
/// does not interpret (RFC 9460 section 8); `cause` names the first one's
/// fault ("HTTPS record 2 of svc.test: ipv4hint length 5 is not a multiple
/// of 4"). AliasMode records are returned, not followed. Cached for the
/// records' smallest TTL (at most max_ttl, reported in `ttl`), and
/// coalesced, like the address lookups, but never with them: the HTTPS
/// answer and the A and AAAA answers of a name are separate queries and
/// separate cache entries. A name the hosts file lists answers
/// no_service_record at once (dns_source::hosts; the hosts file has no
/// HTTPS records), as does a `_PORT._https.` name under it. Cancellation,
/// completion and executor: as for lookup().
///
/// lookup_service's errors: error::no_service_record (NODATA, or only
/// records ignored for an unsupported mandatory key), host_not_found
/// (NXDOMAIN), malformed_service_record (every record ignored, one at least
/// malformed), and the errors of lookup() above but no_addresses;
/// dns_malformed also for an answer whose CNAMEs loop, fork or chain too
/// deep, whose compression pointers do not point backwards, or which is cut
/// short. NODATA, NXDOMAIN and malformed_service_record are cached for
/// negative_ttl.
///
/// Throws boost::system::system_error, whose what() quotes the name server:
/// error::invalid_host, unclosed_bracket, junk_after_bracket, invalid_zone
/// or invalid_port (empty, 0, not a number) when a name server is not an
/// IP address with an optional port; error::dns_failure when
/// c-ares cannot be initialised (the per-io_context channel is made at its
/// first lookup: a dial reports that failure as dns_failure);
/// error::no_dns_resolver in a build without c-ares.
std::shared_ptr<resolver> make_dns_resolver(dns_resolver_options options = {});

}  // namespace nettrace
