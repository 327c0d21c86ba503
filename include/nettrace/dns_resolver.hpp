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
/// `cares`); without it make_dns_resolver throws.
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
/// Errors: error::host_not_found (NXDOMAIN), no_addresses (NODATA),
/// dns_failure (SERVFAIL, unreachable server), dns_timeout, dns_refused,
/// dns_malformed (an answer that cannot be parsed). With several name
/// servers, a SERVFAIL or REFUSED answer makes c-ares try the next server,
/// and only the overall failure (dns_failure) is reported.
///
/// Throws boost::system::system_error when a name server is not an IP
/// address with an optional port, or c-ares cannot be initialised.
std::shared_ptr<resolver> make_dns_resolver(dns_resolver_options options = {});

}  // namespace nettrace
