#include "resolve_spec.hpp"

#include <nettrace/address.hpp>

#include <boost/asio/ip/address_v6.hpp>
#include <boost/system/error_code.hpp>

#include <charconv>

namespace nettrace::tool {

namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using ip_address = asio::ip::address;

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

// curl's syntax, with one liberty: a bare IPv6 address is accepted too, as
// older curls did; the comma keeps it unambiguous.
pin parse_resolve(std::string_view spec) {
    const auto fail = [&](const std::string& why) {
        return usage_error("--resolve " + quoted(spec) + ": " + why + " (expected HOST:PORT:ADDR[,ADDR...])");
    };
    const auto first = spec.find(':');
    if (first == std::string_view::npos) throw fail("no ':' after the host");
    const auto second = spec.find(':', first + 1);
    if (second == std::string_view::npos) throw fail("no ':' between the port and the addresses");

    pin p;
    p.spec = spec;
    p.host = spec.substr(0, first);
    if (p.host.empty()) throw fail("the host is empty");
    if (!nettrace::is_valid_host_name(p.host)) throw fail(quoted(p.host) + " is not a valid host name");

    const auto port = spec.substr(first + 1, second - first - 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535)
        throw fail("port " + quoted(port) + " is not a number from 1 to 65535");
    p.port = static_cast<std::uint16_t>(value);

    auto list = spec.substr(second + 1);
    if (list.empty()) throw fail("no address after the port");
    for (;;) {
        const auto comma = list.find(',');
        const auto item = list.substr(0, comma);
        if (item.empty()) throw fail("empty address in the list");
        error_code bad;
        ip_address a;
        if (item.front() == '[') {
            if (item.size() < 2 || item.back() != ']' || item.find(']') != item.size() - 1)
                throw fail(quoted(item) + " is not a bracketed IPv6 address");
            a = asio::ip::make_address_v6(std::string(item.substr(1, item.size() - 2)), bad);
            if (bad) throw fail(quoted(item) + " is not an IPv6 address");
        } else {
            a = asio::ip::make_address(std::string(item), bad);
            if (bad) throw fail(quoted(item) + " is not an IP address");
        }
        p.addrs.push_back(a);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return p;
}

}  // namespace nettrace::tool
