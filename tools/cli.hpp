// nettrace-dial's command line: what it accepts (usage_text), what a run of
// it asks for (command_line) and the resolver that follows from it. Parsing
// needs no process or socket (only the proxy environment variables and
// stderr for warnings), so test/cli_test.cpp runs it in process.
#pragma once

#include "resolve_spec.hpp"

#include <nettrace/address.hpp>
#include <nettrace/dns_resolver.hpp>
#include <nettrace/options.hpp>
#include <nettrace/resolver.hpp>
#include <nettrace/tls_options.hpp>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nettrace::tool {

enum class output_format { timeline, json };
enum class resolver_kind { dns, system, static_only };

struct command_line {
    bool help = false;
    bool version = false;  // --version
    bool demo = false;
    output_format format = output_format::timeline;
    std::string network = "tcp";
    std::string address;         // host:port, or for network unix a path or @name
    nettrace::host_port target;  // `address` parsed; unset in demo mode and for unix
    nettrace::dial_options options;
    std::vector<pin> pins;
    resolver_kind resolver = nettrace::dns_resolver_available() ? resolver_kind::dns : resolver_kind::system;
    bool resolver_given = false;
    nettrace::dns_resolver_options dns;
    unsigned count = 1;           // --count: concurrent dials
    unsigned repeat = 1;          // --repeat: dials one after another
    std::string trace_json_path;  // --trace-json FILE
    std::string svg_path;         // --svg FILE
    bool tls = false;             // --tls: dial_tls
    std::string cafile;           // --cafile FILE; empty: the system's trust store
    nettrace::tls_options tls_options;
    std::optional<std::string> proxy;     // --proxy URL
    std::optional<std::string> no_proxy;  // --noproxy LIST
    bool history = true;                  // --no-history turns it off
};

// Past this many concurrent dials --count stops being a measurement and
// starts being a SYN flood aimed at whoever ADDRESS is; --repeat has the
// same bound.
inline constexpr unsigned max_count = 1000;

/// --help's text.
extern const std::string_view usage_text;

/// Parses the arguments that follow the program's name. Throws usage_error
/// naming the mistake. What would only fail the dial (an unknown network, a
/// malformed address or proxy URL) is a usage error too, so that it exits 2
/// before any packet. Outside demo mode it reads the proxy environment
/// variables, which --proxy and --noproxy override as in curl.
command_line parse_command_line(std::span<const std::string_view> args);

/// The resolver `cl` asks for: the --resolve pins that match its target in
/// front of DNS, getaddrinfo or nothing. A pin for another HOST:PORT is
/// warned about on stderr and ignored.
std::shared_ptr<nettrace::resolver> make_resolver(const command_line& cl);

}  // namespace nettrace::tool
