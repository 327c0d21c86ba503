// What the c-ares resolver's tests share: the options of a resolver that
// asks one of the tests' DNS servers (dns_server.hpp) alone, and the
// precondition of the cases that need dnsmasq.
#pragma once

#include "dns_server.hpp"

#include <nettrace/dns_resolver.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

namespace nettrace::testing {

/// A c-ares resolver's options that ask `address` ("ip:port") alone, once,
/// for at most 500 ms, and read no hosts file.
inline dns_resolver_options one_server(const std::string& address) {
    dns_resolver_options o;
    o.nameservers = {address};
    o.use_hosts_file = false;
    o.timeout = std::chrono::milliseconds(500);
    o.tries = 1;
    return o;
}

/// BOOST_AUTO_TEST_SUITE(name, *boost::unit_test::precondition(dnsmasq_present())).
struct dnsmasq_present {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        return dnsmasq_server::available();
    }
};

}  // namespace nettrace::testing
