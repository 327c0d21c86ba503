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
    /// Name servers as "host", "host:port" or "[v6]:port" (IP addresses
    /// only). Empty: the servers, search domains and ndots of
    /// /etc/resolv.conf. When set, /etc/resolv.conf is not read at all.
    std::vector<std::string> nameservers;

    /// Per try, per server; and how many rounds over the servers.
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
/// cache. Shutting down the io_context destroys its channel and abandons its
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
/// Throws boost::system::system_error: error::invalid_host,
/// unclosed_bracket, junk_after_bracket or invalid_port when a name server
/// is not an IP address with an optional port; error::dns_failure when
/// c-ares cannot be initialised (the per-io_context channel is made at its
/// first lookup: a dial reports that failure as dns_failure);
/// error::no_resolver in a build without c-ares.
std::shared_ptr<resolver> make_dns_resolver(dns_resolver_options options = {});

}  // namespace nettrace
