// The c-ares resolver's configuration (src/detail/dns_config.hpp): name
// server strings checked and put in c-ares' form, the hosts file read.
#include "detail/dns_config.hpp"

#include <nettrace/address.hpp>
#include <nettrace/error.hpp>

#include "detail/resolver_support.hpp"

#include <boost/system/system_error.hpp>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>
#include <string_view>

namespace nettrace::detail {

namespace {

namespace asio = boost::asio;
using boost::system::error_code;

hosts_table read_hosts(const std::string& path) {
    hosts_table table;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        line = line.substr(0, line.find('#'));
        std::istringstream words(line);
        std::string addr_text, name;
        if (!(words >> addr_text)) continue;
        error_code ec;
        const auto addr = asio::ip::make_address(addr_text, ec);
        if (ec) continue;
        while (words >> name) {
            auto& addrs = table[canonical_name(name)];
            if (std::find(addrs.begin(), addrs.end(), addr) == addrs.end()) addrs.push_back(addr);
        }
    }
    return table;
}

// The name server as written, safe to put in a message: control bytes
// (a NUL, say) shown as \xNN.
std::string printable(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

[[noreturn]] void bad_server(error e, std::string_view text, std::string_view why) {
    throw boost::system::system_error(make_error_code(e),
                                      "nameserver \"" + printable(text) + "\": " + std::string(why));
}

// "1.2.3.4", "1.2.3.4:53", "::1", "[::1]", "[::1]:53" -> the one form c-ares
// 1.18 takes for every server, "addr:port" or "[v6]:port", through the same
// literal parser as dial(). An IPv6 address without brackets carries no
// port ("::1:53" is an address); the default port is 53.
std::string to_ares_server(const std::string& text) {
    std::string address = text;
    const bool bracketed = !text.empty() && text.front() == '[';
    const auto colons = std::count(text.begin(), text.end(), ':');
    if (bracketed ? text.back() == ']' : colons == 0)
        address += ":53";
    else if (!bracketed && colons > 1)
        address = "[" + text + "]:53";
    error_code ec;
    const auto hp = parse_host_port(address, ec);
    if (!hp) {
        if (ec == error::invalid_port && !text.empty() && text.back() == ':')
            bad_server(error::invalid_port, text, "the port after ':' is empty");
        bad_server(static_cast<error>(ec.value()), text, ec.message());
    }
    if (!hp->ip) bad_server(error::invalid_host, text, "an IP address is required, not a name");
    if (hp->port == 0) bad_server(error::invalid_port, text, "port 0 is no server's port");
    // c-ares 1.18 keeps no scope id for a server: a link-local server would
    // be asked on whichever interface the kernel picks.
    if (!hp->zone.empty())
        bad_server(error::invalid_zone, text, "c-ares cannot use a zone (%" + printable(hp->zone) + ") for a server");
    return join_host_port(hp->ip->to_string(), hp->port);
}

}  // namespace

std::shared_ptr<const dns_config> make_dns_config(dns_resolver_options options) {
    static std::atomic<std::uint64_t> next_id{1};
    auto config = std::make_shared<dns_config>();
    for (const auto& s : options.nameservers)
        config->servers_csv += (config->servers_csv.empty() ? "" : ",") + to_ares_server(s);
    if (options.use_hosts_file) config->hosts = read_hosts(options.hosts_file);
    config->options = std::move(options);
    config->id = next_id++;
    return config;
}

}  // namespace nettrace::detail
