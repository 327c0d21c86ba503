// nettrace/resolver.hpp — the per-family lookup interface the dialer uses,
// and the resolvers nettrace ships.
//
// Happy Eyeballs needs each family's answer as soon as it arrives, so a
// resolver looks up one family per call; the dialer issues AAAA and A
// together and feeds each answer to the racer on arrival.
#pragma once

#include <nettrace/trace.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

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
};

/// A lookup in flight. cancel() makes it complete promptly with
/// operation_aborted unless it has completed already; a lookup that cannot
/// be interrupted (getaddrinfo) is abandoned and its late result dropped.
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
    /// an IP literal). `done` is called exactly once, through `ex`, and never
    /// from inside lookup(). Thread safe.
    virtual std::shared_ptr<pending_lookup> lookup(const boost::asio::any_io_executor& ex,
                                                   std::string_view host, address_family family,
                                                   callback done) = 0;
};

/// getaddrinfo, one call per family, on a small pool of detached threads so
/// the two families (and concurrent dials) resolve in parallel — unlike
/// Asio's resolver, whose one thread per io_context serialises lookups.
/// Cancelled lookups are abandoned, never waited for: their threads finish
/// in the background and the results are dropped.
std::shared_ptr<resolver> make_system_resolver();

/// A fixed table host -> addresses, like curl's --resolve. Names compare
/// case-insensitively; a host not in the table is looked up through
/// `fallback`, or fails with error::no_resolver when there is none. A host in
/// the table without addresses of the asked family reports no_addresses.
std::shared_ptr<resolver> make_static_resolver(
    std::vector<std::pair<std::string, std::vector<boost::asio::ip::address>>> table,
    std::shared_ptr<resolver> fallback = nullptr);

}  // namespace nettrace
