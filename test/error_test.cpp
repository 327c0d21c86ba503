// nettrace's error category: every code has a message and a name from the
// one table (src/detail/error_table.hpp), and the portable conditions hold.
#define BOOST_TEST_MODULE error
#include <boost/test/unit_test.hpp>

#include <nettrace/error.hpp>

#include "detail/error_table.hpp"

#include <set>
#include <string>

using nettrace::error;

namespace {
// The last enumerator: update when appending one (the test below then
// checks the new row exists).
constexpr int last = static_cast<int>(error::no_nat64_prefix);
}  // namespace

BOOST_AUTO_TEST_CASE(every_code_has_a_row_with_a_unique_name_and_a_message) {
    std::set<std::string> names;
    for (int v = 1; v <= last; ++v) {
        const auto* e = nettrace::detail::find_error(v);
        BOOST_REQUIRE_MESSAGE(e, "no table row for error " << v);
        BOOST_TEST(static_cast<int>(e->code) == v);
        BOOST_TEST(!e->message.empty());
        BOOST_TEST(names.insert(std::string(e->name)).second, "name " << e->name << " twice");
        BOOST_TEST(nettrace::make_error_code(e->code).message() == std::string(e->message));
    }
    BOOST_TEST(!nettrace::detail::find_error(0));
    BOOST_TEST(!nettrace::detail::find_error(last + 1));
    BOOST_TEST(nettrace::make_error_code(static_cast<error>(last + 1)).message().find("unknown") == 0u);
}

BOOST_AUTO_TEST_CASE(portable_conditions_compare_equal) {
    namespace errc = boost::system::errc;
    BOOST_TEST((nettrace::make_error_code(error::timeout) == errc::timed_out));
    BOOST_TEST((nettrace::make_error_code(error::proxy_timeout) == errc::timed_out));
    BOOST_TEST((nettrace::make_error_code(error::socks_connection_refused) == errc::connection_refused));
    BOOST_TEST((nettrace::make_error_code(error::socks_host_unreachable) == errc::host_unreachable));
    BOOST_TEST((nettrace::make_error_code(error::invalid_proxy_url) == errc::invalid_argument));
    BOOST_TEST((nettrace::make_error_code(error::unix_path_too_long) == errc::invalid_argument));
    BOOST_TEST((nettrace::make_error_code(error::not_a_socket) == errc::not_a_socket));
    BOOST_TEST((nettrace::make_error_code(error::proxy_rejected) != errc::connection_refused));
}
