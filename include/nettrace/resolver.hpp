// nettrace/resolver.hpp — the per-family lookup interface the dialer uses,
// and the resolvers nettrace ships.
//
// Happy Eyeballs needs each family's answer as soon as it arrives, so a
// resolver looks up one family per call; the dialer issues AAAA and A
// together and feeds each answer to the racer on arrival.
#pragma once

#include <nettrace/service.hpp>
#include <nettrace/trace.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nettrace {

/// One family's answer.
struct lookup_result {
    std::vector<boost::asio::ip::address> addrs;  ///< in the resolver's order
    boost::system::error_code error;              ///< set when addrs is empty
    dns_source source = dns_source::none;
    bool coalesced = false;  ///< shared another caller's query
    /// On a failure, for people: the servers asked ("127.0.0.1:53") and what
    /// happened beyond the error's own message ("nothing listens there:
    /// connection refused"); either may be empty.
    std::string servers;
    std::string cause;
    /// How long the answer may be kept (the smallest TTL of its records);
    /// zero when unknown (getaddrinfo, a static table).
    std::chrono::seconds ttl{0};
};

/// The HTTPS records (RFC 9460) of one name, as resolver::lookup_service
/// answers them.
struct service_result {
    /// Every well-formed record of the name, AliasMode and ServiceMode, in
    /// the server's order. Malformed records are not here (see `rejected`).
    std::vector<service_record> records;
    /// Set exactly when records is empty: error::no_service_record (NODATA),
    /// host_not_found, the DNS errors of lookup_result, malformed_service_
    /// record (every record was malformed), service_lookup_unsupported.
    boost::system::error_code error;
    std::size_t rejected = 0;  ///< malformed records dropped
    dns_source source = dns_source::none;
    bool coalesced = false;
    std::string servers;  ///< as in lookup_result
    std::string cause;    ///< as in lookup_result; names the first malformed record's fault
    std::chrono::seconds ttl{0};
};

/// A lookup in flight. cancel() makes it complete promptly with
/// operation_aborted unless it has completed already; a lookup that cannot
/// be interrupted (getaddrinfo) is abandoned and its late result dropped.
/// nettrace calls cancel() on the executor it gave lookup(); nettrace's own
/// resolvers accept it from any thread, and more than once.
class pending_lookup {
public:
    virtual ~pending_lookup() = default;
    virtual void cancel() noexcept = 0;
};

class resolver {
public:
    using callback = std::function<void(lookup_result)>;

    virtual ~resolver() = default;

    /// Starts looking up the addresses of `family` for `host` (a name, never
    /// an IP literal). A resolver is the dialer's extension point: nettrace
    /// calls this, an implementation must keep the contract below.
    ///
    /// Completion signature: done(lookup_result), called exactly once, as if
    /// posted to `ex`, never from inside lookup() (when `ex`'s execution
    /// context is shut down first, nettrace's resolvers drop it uncalled).
    ///
    /// Lifetime: `done` owns the dial, and the dial owns the returned
    /// pending_lookup. A resolver must destroy `done` once it has called it,
    /// once cancel() was called, and when `ex`'s execution context shuts down
    /// (an execution_context::service of the resolver's does it, as
    /// nettrace's resolvers do). A resolver that keeps `done` in its
    /// pending_lookup past that shutdown makes a reference cycle: the whole
    /// dial leaks.
    ///
    /// Executor: `done` runs on `ex` (the dial's strand); the work itself
    /// may run anywhere (a thread pool, another strand).
    ///
    /// Cancellation: through the returned pending_lookup (null: the lookup
    /// cannot be cancelled; nettrace's resolvers never return null).
    ///
    /// Thread safety: lookup() may be called from several threads at once.
    ///
    /// Errors: in lookup_result::error, set exactly when addrs is empty;
    /// nettrace::error's DNS codes (host_not_found for a name that does not
    /// exist, no_addresses for one without addresses of `family`, ...),
    /// operation_aborted when cancelled. An exception thrown by lookup()
    /// fails the family as error::dns_failure.
    virtual std::shared_ptr<pending_lookup> lookup(const boost::asio::any_io_executor& ex, std::string_view host,
                                                   address_family family, callback done) = 0;

    using service_callback = std::function<void(service_result)>;

    /// Starts looking up the HTTPS records of `name` (already the query
    /// name: https_query_name(host, port)). One query, no AliasMode
    /// following: the dialer follows aliases itself.
    ///
    /// Completion signature, executor, lifetime, cancellation and thread
    /// safety: as lookup(). The default answers service_lookup_unsupported
    /// (posted to `ex`), so a resolver that predates HTTPS records keeps
    /// working: its dials go on with A and AAAA only.
    virtual std::shared_ptr<pending_lookup> lookup_service(const boost::asio::any_io_executor& ex,
                                                           std::string_view name, service_callback done);
};

/// getaddrinfo, one call per family, on a small pool of detached threads so
/// the two families (and concurrent dials) resolve in parallel — unlike
/// Asio's resolver, whose one thread per io_context serialises lookups.
/// Cancelled lookups are abandoned, never waited for: their threads finish
/// in the background and the results are dropped.
///
/// Cancellation: completes at once with operation_aborted; a lookup
/// cancelled while still queued never calls getaddrinfo.
///
/// Thread safety: the resolver may be shared by any number of dials,
/// io_contexts and threads.
///
/// Errors (getaddrinfo's, mapped): EAI_NONAME -> error::host_not_found;
/// EAI_NODATA, EAI_ADDRFAMILY or an empty list -> no_addresses; EAI_AGAIN,
/// EAI_FAIL and others -> dns_failure; EAI_MEMORY -> boost::asio::error::
/// no_memory; EAI_SYSTEM -> the errno as a system error; at the descriptor
/// limit (EMFILE, ENFILE) -> boost::asio::error::no_descriptors. lookup()
/// throws std::system_error when no worker thread exists and none can be
/// started. Answers report dns_source::system.
std::shared_ptr<resolver> make_system_resolver();

/// A fixed table host -> addresses, like curl's --resolve. Names compare
/// case-insensitively; a host not in the table is looked up through
/// `fallback`, or fails with error::no_resolver when there is none. A host in
/// the table without addresses of the asked family reports no_addresses.
/// Answers report dns_source::static_table and are posted at once, so
/// cancel() has nothing to stop: the answer is delivered anyway.
/// Thread safety: the table is immutable; share it freely.
std::shared_ptr<resolver> make_static_resolver(
    std::vector<std::pair<std::string, std::vector<boost::asio::ip::address>>> table,
    std::shared_ptr<resolver> fallback = nullptr);

}  // namespace nettrace
