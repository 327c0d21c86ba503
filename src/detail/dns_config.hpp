// The c-ares resolver's configuration, read once when make_dns_resolver is
// called: the options, the name servers in the one form c-ares 1.18 takes,
// and the hosts file. Shared, immutable, by every io_context's channel.
#pragma once

#include <nettrace/dns_resolver.hpp>

#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace nettrace::detail {

/// Name -> addresses from a hosts file (canonical names: lower case, no
/// trailing dot).
using hosts_table = std::unordered_map<std::string, std::vector<boost::asio::ip::address>>;

struct dns_config {
    dns_resolver_options options;
    hosts_table hosts;        ///< empty unless options.use_hosts_file
    std::string servers_csv;  ///< options.nameservers for ares_set_servers_ports_csv; empty: resolv.conf's
    std::uint64_t id;         ///< tells the resolvers apart in an io_context's dns service
};

/// Checks and converts the options' name servers, reads the hosts file and
/// numbers the configuration. Throws boost::system::system_error quoting a
/// name server that is not an IP address with an optional port (see
/// make_dns_resolver).
std::shared_ptr<const dns_config> make_dns_config(dns_resolver_options options);

}  // namespace nettrace::detail
