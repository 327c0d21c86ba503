// Built when nettrace is configured without c-ares (-Dcares=disabled).
#include <nettrace/dns_resolver.hpp>
#include <nettrace/error.hpp>

#include <boost/system/system_error.hpp>

namespace nettrace {

bool dns_resolver_available() noexcept { return false; }

std::shared_ptr<resolver> make_dns_resolver(dns_resolver_options) {
    throw boost::system::system_error(make_error_code(error::no_dns_resolver), "make_dns_resolver");
}

}  // namespace nettrace
