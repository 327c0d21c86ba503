// nettrace-dial: resolves an address, races its IPs with RFC 8305 Happy
// Eyeballs through nettrace::dial, and shows what happened, either as a
// timeline with a waterfall (like httpstat) or as one JSON object per event,
// and optionally writes the dials to a Chrome trace or an SVG waterfall. The
// recording and the file formats are the library's (recorder.hpp, export.hpp).
//
//   nettrace-dial [options] [NETWORK] ADDRESS
//   nettrace-dial --demo [--json] [--trace-json FILE] [--svg FILE]

#include <nettrace/nettrace.hpp>
#include <nettrace/tls.hpp>

#include "loopback.hpp"
#include "resolve_spec.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using ip_address = asio::ip::address;
using steady = std::chrono::steady_clock;
using nettrace::event_kind;
using namespace std::chrono_literals;

constexpr std::string_view program = "nettrace-dial";

// Past this many concurrent dials --count stops being a measurement and
// starts being a SYN flood aimed at whoever ADDRESS is.
constexpr unsigned max_count = 1000;
constexpr unsigned long long max_ms = 24ULL * 3600 * 1000;

// The demo's black hole never answers: without a bound, a misbehaving race
// would hang for the kernel's SYN retry time (about two minutes).
constexpr auto demo_timeout = 5000ms;

// ---------------------------------------------------------------------------
// Text helpers

double to_ms(steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string fixed(double value, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    return buf;
}

// Loopback connects take tens of microseconds; one decimal would show them
// all as "0.0 ms".
std::string duration_text(steady::duration d) {
    const double ms = to_ms(d);
    return fixed(ms, ms < 1.0 ? 3 : 1) + " ms";
}

std::string pad_right(std::string s, std::size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}

std::string pad_left(std::string s, std::size_t width) {
    if (s.size() < width) s.insert(0, width - s.size(), ' ');
    return s;
}

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// "[::1]" in text, the way the address appears in "[::1]:443".
std::string address_text(const ip_address& a) { return a.is_v6() ? "[" + a.to_string() + "]" : a.to_string(); }

std::string endpoint_text(const tcp::endpoint& ep) { return nettrace::join_host_port(ep); }

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// ---------------------------------------------------------------------------
// Command line

// usage_error, pin and parse_resolve (--resolve): resolve_spec.hpp.
using nettrace::tool::parse_resolve;
using nettrace::tool::pin;
using nettrace::tool::usage_error;

enum class output_format { timeline, json };
enum class resolver_kind { dns, system, static_only };

struct command_line {
    bool help = false;
    bool demo = false;
    output_format format = output_format::timeline;
    std::string network = "tcp";
    std::string address;
    nettrace::host_port target;  // `address` parsed; unset in demo mode
    nettrace::dial_options options;
    std::vector<pin> pins;
    resolver_kind resolver = nettrace::dns_resolver_available() ? resolver_kind::dns : resolver_kind::system;
    bool resolver_given = false;
    nettrace::dns_resolver_options dns;
    unsigned count = 1;
    std::string trace_json_path;  // --trace-json FILE
    std::string svg_path;         // --svg FILE
    bool tls = false;             // --tls: dial_tls
    std::string cafile;           // --cafile FILE; empty: the system's trust store
    nettrace::tls_options tls_options;
    std::optional<std::string> proxy;     // --proxy URL
    std::optional<std::string> no_proxy;  // --noproxy LIST
};

constexpr std::string_view usage_text = R"(usage: nettrace-dial [options] [NETWORK] ADDRESS
       nettrace-dial --demo [options]

Resolves ADDRESS and connects to it, racing its addresses with RFC 8305
Happy Eyeballs, and shows every DNS answer and connect attempt on a timeline.

  NETWORK   tcp (default), tcp4 or tcp6
  ADDRESS   host:port, [ipv6]:port or [ipv6%zone]:port (port: number or service)

Racing:
  --attempt-delay MS       start the next attempt after MS (default 250, min 10)
  --resolution-delay MS    with only the A answer in, wait MS for AAAA (default 50)
  --first-family-count N   preferred-family addresses tried first (default 1)
  --max-attempts N         at most N attempts in flight (default 0: no cap)
  --no-race                one attempt at a time; the next starts on failure
  --timeout MS             give up after MS (default 0: never)
  -4, -6                   IPv4 only, IPv6 only
  --prefer-ipv4            try IPv4 before IPv6

Resolution:
  --resolve HOST:PORT:ADDR[,ADDR...]
                           pin HOST:PORT to these addresses, in this order, as
                           curl does (IPv6 in brackets: [::1]); repeatable
  --resolver dns|system|static
                           dns: pins, then c-ares (default when built with it)
                           system: pins, then getaddrinfo
                           static: pins only, no DNS at all
  --nameserver HOST[:PORT] ask this DNS server (repeatable); implies --resolver
                           dns and ignores /etc/resolv.conf
  --no-hosts               do not answer names from /etc/hosts

TLS (dial_tls: each attempt's handshake is part of the race):
  --tls                    handshake after connecting; the first attempt whose
                           handshake completes wins
  --cafile FILE            trust the certificates in FILE (PEM) instead of the
                           system's store
  --insecure               do not verify the certificate or its name
  --alpn LIST              offer these ALPN protocols, comma-separated (h2,http/1.1)
  --sni NAME               send and verify NAME instead of ADDRESS's host
  --no-tls-race            decide the race at TCP connect and handshake on the
                           winner only (the old behaviour)

Proxies (as curl; the environment's https_proxy, http_proxy, all_proxy and
no_proxy apply unless --proxy or --noproxy say otherwise):
  --proxy URL              dial through this proxy: http://[user:pass@]host:port
                           (HTTP CONNECT), socks5://... (the target resolved
                           here) or socks5h://... (resolved by the proxy);
                           the default port is 1080
  --noproxy LIST           dial these hosts directly (comma-separated names,
                           domains, addresses, CIDR blocks; '*': every host),
                           instead of no_proxy's list

Output and runs:
  --json                   one JSON object per event on stdout
  --trace-json FILE        when the dials are over, write them to FILE in the
                           Chrome trace-event format (open in ui.perfetto.dev
                           or chrome://tracing)
  --svg FILE               when the dials are over, write them to FILE as an
                           SVG waterfall
  --count N                N concurrent dials of ADDRESS in one process
                           (1 to 1000: more would be a SYN flood, not a
                           measurement)
  --demo                   race a black-holed [::1] against a live 127.0.0.1,
                           both on loopback (needs no network)
  -h, --help               show this help

Exit status: 0 when every dial connected, 1 when one failed or FILE could not be
written, 2 for bad usage.
)";

// Whether two spellings name one file: the same inode when both exist
// (hard links, symlinks), else the same path once made absolute and with
// ".", ".." and the symlinks of its existing part resolved ("out", "./out").
bool same_file(const std::string& a, const std::string& b) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::equivalent(a, b, ec) && !ec) return true;
    // Absolute first: of a relative path none of whose parts exists,
    // weakly_canonical keeps it relative ("out" vs "/cwd/out").
    const auto ca = fs::weakly_canonical(fs::absolute(a, ec), ec);
    if (ec) return a == b;
    const auto cb = fs::weakly_canonical(fs::absolute(b, ec), ec);
    if (ec) return a == b;
    return ca == cb;
}

unsigned long long parse_number(std::string_view option, std::string_view text, unsigned long long min,
                                unsigned long long max) {
    unsigned long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size())
        throw usage_error(std::string(option) + ": " + quoted(text) + " is not a whole number");
    if (ec == std::errc::result_out_of_range || value < min || value > max)
        throw usage_error(std::string(option) + ": " + std::string(text) + " is out of range (" +
                          std::to_string(min) + " to " + std::to_string(max) + ")");
    return value;
}

std::chrono::milliseconds parse_ms(std::string_view option, std::string_view text) {
    return std::chrono::milliseconds(parse_number(option, text, 0, max_ms));
}

command_line parse_command_line(int argc, char** argv) {
    command_line cl;
    std::vector<std::string_view> positional;
    bool only_positional = false;
    int families = 0;  // -4, -6 and --prefer-ipv4 each set the preference

    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (only_positional || arg.size() < 2 || arg.front() != '-') {
            positional.push_back(arg);
            continue;
        }
        if (arg == "--") {
            only_positional = true;
            continue;
        }
        std::string_view name = arg;
        std::optional<std::string_view> attached;  // --option=value
        if (arg.starts_with("--"))
            if (const auto eq = arg.find('='); eq != std::string_view::npos) {
                name = arg.substr(0, eq);
                attached = arg.substr(eq + 1);
            }
        const std::string option(name);
        const auto value = [&]() -> std::string_view {
            if (attached) return *attached;
            if (i + 1 >= argc) throw usage_error(option + " needs a value");
            return argv[++i];
        };
        const auto flag = [&] {
            if (attached) throw usage_error(option + " takes no value");
        };
        auto& o = cl.options;

        if (name == "-h" || name == "--help") {
            cl.help = true;
            return cl;
        } else if (name == "--json") {
            flag();
            cl.format = output_format::json;
        } else if (name == "--trace-json") {
            cl.trace_json_path = value();
            if (cl.trace_json_path.empty()) throw usage_error("--trace-json needs a file name");
        } else if (name == "--svg") {
            cl.svg_path = value();
            if (cl.svg_path.empty()) throw usage_error("--svg needs a file name");
        } else if (name == "--demo") {
            flag();
            cl.demo = true;
        } else if (name == "--timeout") {
            o.timeout = parse_ms(name, value());
        } else if (name == "--attempt-delay") {
            o.attempt_delay = parse_ms(name, value());
        } else if (name == "--resolution-delay") {
            o.resolution_delay = parse_ms(name, value());
        } else if (name == "--no-race") {
            flag();
            o.race = false;
        } else if (name == "--first-family-count") {
            o.first_family_count = static_cast<unsigned>(parse_number(name, value(), 1, 1000));
        } else if (name == "--max-attempts") {
            o.max_concurrent_attempts = static_cast<unsigned>(parse_number(name, value(), 0, 1000));
        } else if (name == "--resolve") {
            cl.pins.push_back(parse_resolve(value()));
        } else if (name == "--resolver") {
            const auto kind = value();
            if (kind == "dns")
                cl.resolver = resolver_kind::dns;
            else if (kind == "system")
                cl.resolver = resolver_kind::system;
            else if (kind == "static")
                cl.resolver = resolver_kind::static_only;
            else
                throw usage_error("--resolver: " + quoted(kind) + " is not 'dns', 'system' or 'static'");
            if (cl.resolver == resolver_kind::dns && !nettrace::dns_resolver_available())
                throw usage_error("--resolver dns: this build has no c-ares (meson option cares)");
            cl.resolver_given = true;
        } else if (name == "--nameserver") {
            cl.dns.nameservers.emplace_back(value());
            if (!nettrace::dns_resolver_available())
                throw usage_error("--nameserver: this build has no c-ares (meson option cares)");
            cl.resolver = resolver_kind::dns;
            cl.resolver_given = true;
        } else if (name == "--no-hosts") {
            flag();
            cl.dns.use_hosts_file = false;
        } else if (name == "--tls") {
            flag();
            cl.tls = true;
        } else if (name == "--cafile") {
            cl.cafile = value();
            if (cl.cafile.empty()) throw usage_error("--cafile needs a file name");
            cl.tls = true;
        } else if (name == "--insecure") {
            flag();
            cl.tls_options.verify_peer = false;
            cl.tls = true;
        } else if (name == "--alpn") {
            const std::string list(value());
            cl.tls_options.alpn.clear();
            for (std::size_t start = 0;;) {
                const auto comma = list.find(',', start);
                const auto id = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
                if (id.empty() || id.size() > 255)
                    throw usage_error("--alpn: " + quoted(std::string_view(list)) + " has an empty or over-long protocol");
                cl.tls_options.alpn.push_back(id);
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
            cl.tls = true;
        } else if (name == "--sni") {
            cl.tls_options.server_name = value();
            if (cl.tls_options.server_name.empty()) throw usage_error("--sni needs a name");
            cl.tls = true;
        } else if (name == "--no-tls-race") {
            flag();
            cl.tls_options.race = false;
            cl.tls = true;
        } else if (name == "--proxy") {
            cl.proxy = std::string(value());
        } else if (name == "--noproxy") {
            cl.no_proxy = std::string(value());
        } else if (name == "--count") {
            cl.count = static_cast<unsigned>(parse_number(name, value(), 1, max_count));
        } else if (name == "-4") {
            ++families;
            o.preference = nettrace::family_preference::ipv4_only;
        } else if (name == "-6") {
            ++families;
            o.preference = nettrace::family_preference::ipv6_only;
        } else if (name == "--prefer-ipv4") {
            flag();
            ++families;
            o.preference = nettrace::family_preference::prefer_ipv4;
        } else {
            throw usage_error("unknown option " + quoted(arg));
        }
    }

    if (families > 1) throw usage_error("-4, -6 and --prefer-ipv4 exclude one another");
    if (!cl.svg_path.empty() && !cl.trace_json_path.empty() && same_file(cl.svg_path, cl.trace_json_path))
        throw usage_error("--trace-json and --svg name the same file: " + quoted(std::string_view(cl.trace_json_path)) +
                          " and " + quoted(std::string_view(cl.svg_path)));

    if (cl.demo) {
        if (!positional.empty()) throw usage_error("--demo dials its own address; drop " + quoted(positional[0]));
        if (cl.tls) throw usage_error("--demo races plain TCP peers; the TLS options do not apply");
        if (!cl.pins.empty() || cl.resolver_given)
            throw usage_error("--demo pins dual.test itself; --resolve and --resolver do not apply");
        if (cl.proxy) throw usage_error("--demo races its own loopback peers; --proxy does not apply");
        return cl;
    }

    error_code ec;
    if (positional.empty()) throw usage_error("missing ADDRESS (host:port)");
    if (positional.size() > 2) throw usage_error("too many arguments from " + quoted(positional[2]));
    if (positional.size() == 1 && nettrace::parse_network(positional[0], ec))
        throw usage_error("missing ADDRESS after network " + quoted(positional[0]));
    if (positional.size() == 2) cl.network = positional[0];
    cl.address = positional.back();

    // Bad input would fail the dial before any packet anyway; catching it
    // here makes it a usage error (exit 2) rather than a failed dial.
    const auto net = nettrace::parse_network(cl.network, ec);
    if (!net) throw usage_error("dial " + cl.network + " " + cl.address + ": " + ec.message());
    auto target = nettrace::parse_host_port(cl.address, ec);
    if (!target) throw usage_error("dial " + cl.network + " " + cl.address + ": " + ec.message());
    cl.target = std::move(*target);

    // curl's order: --proxy, else the environment; --noproxy, else no_proxy.
    auto& proxies = cl.options.proxy;
    if (cl.proxy) {
        try {
            proxies = nettrace::proxy_settings(nettrace::proxy(*cl.proxy));
        } catch (const boost::system::system_error& e) {
            throw usage_error(std::string("--proxy: ") + e.what());
        }
        try {
            proxies.no_proxy = nettrace::proxy_settings::from_environment().no_proxy;
        } catch (const boost::system::system_error& e) {
            // --proxy replaces the environment's proxies: a bad one there
            // does not matter, but no_proxy cannot be read past it.
            std::cerr << program << ": warning: no_proxy not read: " << e.what() << "\n";
        }
    } else {
        try {
            proxies = nettrace::proxy_settings::from_environment();
        } catch (const boost::system::system_error& e) {
            throw usage_error(e.what());
        }
    }
    if (cl.no_proxy) proxies.no_proxy = *cl.no_proxy;

    const auto pref = cl.options.preference;
    if ((*net == nettrace::network::tcp6 && pref == nettrace::family_preference::ipv4_only) ||
        (*net == nettrace::network::tcp4 && pref == nettrace::family_preference::ipv6_only))
        throw usage_error(std::string(pref == nettrace::family_preference::ipv4_only ? "-4" : "-6") +
                          " and network " + cl.network + " exclude one another");
    return cl;
}

// The library's static table knows hosts, not ports; curl's pins are per
// HOST:PORT. As one run dials one HOST:PORT, applying only the pins for that
// port gives curl's behaviour.
bool pin_applies(const pin& p, const nettrace::host_port& target) {
    const auto bare = [](std::string_view h) {
        if (!h.empty() && h.back() == '.') h.remove_suffix(1);
        return lowercase(h);
    };
    return !target.ip && p.port == target.port && bare(p.host) == bare(target.host);
}

std::shared_ptr<nettrace::resolver> make_resolver(const command_line& cl) {
    std::vector<std::pair<std::string, std::vector<ip_address>>> table;
    for (const auto& p : cl.pins) {
        if (pin_applies(p, cl.target))
            table.emplace_back(p.host, p.addrs);
        else
            std::cerr << program << ": warning: --resolve " << p.spec << " does not match " << cl.address
                      << "; ignored\n";
    }
    std::shared_ptr<nettrace::resolver> names;  // for hosts without a pin
    if (cl.resolver == resolver_kind::dns) {
        try {
            names = nettrace::make_dns_resolver(cl.dns);
        } catch (const boost::system::system_error& e) {
            throw usage_error(e.what());  // a --nameserver that is not an IP address
        }
    } else if (cl.resolver == resolver_kind::system) {
        names = nettrace::make_system_resolver();
    }
    if (table.empty() && names) return names;
    return nettrace::make_static_resolver(std::move(table), names);
}

// ---------------------------------------------------------------------------
// One dial: a nettrace::dial_record filled by the library's recorder, each
// event handed to the reporter as it happens.

class dial_session;

class reporter {
public:
    virtual ~reporter() = default;
    virtual void started(const dial_session&) {}
    virtual void event(const dial_session&, const nettrace::recorded_event&) = 0;
    virtual void finished(const dial_session&) = 0;
    virtual void all_finished(std::span<const std::unique_ptr<dial_session>>) {}
};

class dial_session {
public:
    dial_session(std::size_t index, std::size_t count, std::string network, std::string address, reporter& out)
        : index_(index), count_(count), network_(std::move(network)), address_(std::move(address)), out_(out) {
        ctx_ = nettrace::with_recording({}, record_, [this](const nettrace::dial_record&,
                                                            const nettrace::recorded_event& e) {
            if (e.kind == nettrace::event_kind::dial_done && e.hook_exception)
                report_hook_exception(e.hook_exception);
            out_.event(*this, e);
        });
    }

    std::size_t index() const noexcept { return index_; }
    std::size_t count() const noexcept { return count_; }
    const std::string& network() const noexcept { return network_; }
    const std::string& address() const noexcept { return address_; }
    const nettrace::context& context() const noexcept { return ctx_; }
    const nettrace::dial_record& record() const noexcept { return record_; }
    /// The dial_done event; valid once completed() ran.
    const nettrace::recorded_event& result() const noexcept { return *record_.done(); }
    bool ok() const noexcept { return !result().error; }
    bool finished() const noexcept { return record_.done() != nullptr; }

    void completed(const error_code& ec) {
        if (!record_.done()) {
            // A dial that could not start (dial_once) fired no hook; the
            // output still gets its result line.
            nettrace::recorded_event e;
            e.kind = nettrace::event_kind::dial_done;
            e.network = network_;
            e.address = address_;
            e.error = ec;
            e.at = record_.events.empty() ? steady::duration{} : steady::now() - record_.started;
            e.elapsed = e.at;
            e.description = "dial " + network_ + " " + address_ + ": " + ec.message();
            record_.events.push_back(std::move(e));
            out_.event(*this, record_.events.back());
        }
        out_.finished(*this);
    }

private:
    // The dialer swallows what a hook throws; a bug in this tool's hooks
    // should still be seen.
    static void report_hook_exception(const std::exception_ptr& e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            std::cerr << program << ": internal error in a trace hook: " << x.what() << '\n';
        } catch (...) {
            std::cerr << program << ": internal error in a trace hook\n";
        }
    }

    std::size_t index_, count_;
    std::string network_, address_;
    reporter& out_;
    nettrace::dial_record record_;
    nettrace::context ctx_;
};

// ---------------------------------------------------------------------------
// JSON lines: the library's writer, one line per event as it happens.

class json_writer final : public reporter {
public:
    explicit json_writer(std::ostream& out) : out_(out) {}

    // Flushed per line so that `| jq` sees a slow dial as it happens.
    void event(const dial_session& s, const nettrace::recorded_event& e) override {
        out_ << nettrace::to_json_line(e, s.count() > 1 ? std::optional(s.index()) : std::nullopt) << '\n'
             << std::flush;
    }

    void finished(const dial_session&) override {}

private:
    std::ostream& out_;
};

// ---------------------------------------------------------------------------
// Timeline and waterfall

class timeline_writer final : public reporter {
public:
    // A single dial is printed as it happens, so a hanging attempt is
    // visible while it hangs; concurrent dials are buffered and printed
    // whole, since interleaved rows would be unreadable.
    timeline_writer(std::ostream& out, std::size_t dials, bool unicode)
        : out_(out), live_(dials == 1), unicode_(unicode), views_(dials) {}

    void started(const dial_session& s) override {
        std::string header = "dial " + s.network() + " " + s.address();
        if (s.count() > 1) header += "  [dial " + std::to_string(s.index()) + "]";
        write(s, header + "\n");
    }

    void event(const dial_session& s, const nettrace::recorded_event& e) override {
        auto& v = views_[s.index()];
        if (e.kind == event_kind::dns_done) v.dns_done = e.at;
        if (e.kind == event_kind::tls_handshake_done) v.tls.push_back({e.attempt, e.at - e.elapsed, e.at});
        if (e.kind == event_kind::proxy_connect_done) v.proxy.push_back({e.attempt, e.at - e.elapsed, e.at});
        write(s, row(e));
    }

    void finished(const dial_session& s) override {
        const auto& r = s.result();
        std::string text = waterfall(views_[s.index()], r);
        if (!r.error) {
            text += "connected to " + endpoint_text(r.endpoint) + " from " + endpoint_text(r.local) + " in " +
                    duration_text(r.at) + " (" + plural(r.attempts.size(), "attempt", "attempts");
            if (!r.tls_version.empty()) text += "; " + r.tls_version + (r.alpn.empty() ? "" : ", " + r.alpn);
            text += ")\n";
        } else {
            text += "failed: " + r.description + "\n";
            std::size_t width = 0;
            for (std::size_t i = 0; i < r.attempts.size(); ++i)
                width = std::max(width, attempt_label(i, r.attempts[i]).size());
            for (std::size_t i = 0; i < r.attempts.size(); ++i) {
                const auto& a = r.attempts[i];
                text += "  " + pad_right(attempt_label(i, a), width) + "  " +
                        std::string(nettrace::to_string(a.outcome)) + " after " + duration_text(a.elapsed);
                if (a.error && a.outcome == nettrace::connect_outcome::failed) text += ": " + a.error.message();
                text += "\n";
            }
        }
        write(s, text);
        if (!live_) {
            out_ << views_[s.index()].pending << (s.index() + 1 < views_.size() ? "\n" : "") << std::flush;
            views_[s.index()].pending.clear();
        }
    }

    void all_finished(std::span<const std::unique_ptr<dial_session>> sessions) override {
        if (sessions.size() < 2) return;
        std::size_t ok = 0;
        std::vector<steady::duration> times;
        for (const auto& s : sessions)
            if (s->ok()) {
                ++ok;
                times.push_back(s->result().at);
            }
        out_ << "\n"
             << plural(sessions.size(), "dial", "dials") << ": " << ok << " connected, " << sessions.size() - ok
             << " failed";
        if (!times.empty()) {
            std::sort(times.begin(), times.end());
            out_ << "; time to connect min " << duration_text(times.front()) << ", median "
                 << duration_text(times[times.size() / 2]) << ", max " << duration_text(times.back());
        }
        out_ << "\n" << std::flush;
    }

private:
    static constexpr std::size_t terminal_width = 80;
    static constexpr std::size_t outcome_width = 16;  // "proxy superseded"

    struct tls_span {
        std::size_t attempt;
        steady::duration from, to;
    };
    struct view {
        std::string pending;
        std::optional<steady::duration> dns_done;
        std::vector<tls_span> tls;    // each attempt's handshake, drawn on its bar
        std::vector<tls_span> proxy;  // each attempt's tunnel, drawn between its connect and TLS
    };

    static std::string attempt_label(std::size_t i, const nettrace::attempt_record& a) {
        return "#" + std::to_string(i) + " " + endpoint_text(a.endpoint);
    }

    void write(const dial_session& s, const std::string& text) {
        if (live_)
            out_ << text << std::flush;
        else
            views_[s.index()].pending += text;
    }

    // One line per DNS and connect event; the header and the summary stand
    // for dial_start and dial_done.
    static std::string row(const nettrace::recorded_event& e) {
        std::string who = "dns", what, detail;
        switch (e.kind) {
        case event_kind::dial_start:
        case event_kind::dial_done:
            return {};
        case event_kind::tls_handshake_start:
            who = "#" + std::to_string(e.attempt);
            what = "tls start";
            detail = e.server_name.empty() ? endpoint_text(e.endpoint) : e.server_name;
            break;
        case event_kind::tls_handshake_done:
            who = "#" + std::to_string(e.attempt);
            what = "tls " + std::string(nettrace::to_string(e.outcome));
            detail = e.error ? e.error.message() : e.tls_version + (e.alpn.empty() ? "" : " " + e.alpn);
            if (!e.verify_error.empty()) detail += " (" + e.verify_error + ")";
            detail += "  (" + duration_text(e.elapsed) + ")";
            break;
        case event_kind::proxy_connect_start:
            who = "#" + std::to_string(e.attempt);
            what = "proxy start";
            detail = std::string(nettrace::to_string(e.scheme)) + " " + endpoint_text(e.endpoint) + " to " + e.target;
            break;
        case event_kind::proxy_connect_done:
            who = "#" + std::to_string(e.attempt);
            what = "proxy " + std::string(nettrace::to_string(e.outcome));
            if (e.status >= 0) detail = (e.scheme == nettrace::proxy_scheme::http ? "" : "reply ") +
                                        std::to_string(e.status) + (e.reason.empty() ? "" : " " + e.reason);
            if (e.error) detail += (detail.empty() ? "" : ": ") + e.error.message();
            detail += "  (" + duration_text(e.elapsed) + ")";
            break;
        case event_kind::dns_start:
            what = "start";
            detail = e.host;
            break;
        case event_kind::dns_answer:
            what = nettrace::to_string(*e.family);
            if (e.error == asio::error::operation_aborted) {
                detail = "abandoned (the dial no longer needed it)";
                break;
            }
            if (e.error) {
                detail = e.error.message();
            } else {
                for (std::size_t i = 0; i < e.addrs.size(); ++i) detail += (i ? ", " : "") + address_text(e.addrs[i]);
            }
            detail += std::string(" (") + std::string(nettrace::to_string(e.source)) +
                      (e.coalesced ? ", coalesced)" : ")");
            break;
        case event_kind::dns_done:
            what = "done";
            detail = e.error ? e.error.message() : plural(e.addrs.size(), "address", "addresses");
            break;
        case event_kind::connect_start:
        case event_kind::connect_done:
            who = "#" + std::to_string(e.attempt);
            what = e.kind == event_kind::connect_start ? "start" : std::string(nettrace::to_string(e.outcome));
            detail = endpoint_text(e.endpoint);
            if (e.kind == event_kind::connect_done) {
                detail += "  (" + duration_text(e.elapsed) + ")";
                if (e.outcome == nettrace::connect_outcome::failed) detail += "  " + e.error.message();
            }
            break;
        }
        return "  " + pad_left(fixed(to_ms(e.at), 3), 9) + " ms  " + pad_right(who, 4) + " " +
               pad_right(what, outcome_width) + "  " + detail + "\n";
    }

    std::string waterfall(const view& v, const nettrace::recorded_event& r) const {
        struct bar {
            std::string label;
            steady::duration from, to;
            std::string_view note;
            std::optional<std::pair<steady::duration, steady::duration>> tls;    // drawn lighter
            std::optional<std::pair<steady::duration, steady::duration>> proxy;  // between the two
        };
        std::vector<bar> bars;
        if (v.dns_done) bars.push_back({"dns", {}, *v.dns_done, {}, {}, {}});
        for (std::size_t i = 0; i < r.attempts.size(); ++i) {
            const auto& a = r.attempts[i];
            bar b{attempt_label(i, a), a.started, a.started + a.elapsed, nettrace::to_string(a.outcome), {}, {}};
            for (const auto& t : v.tls)
                if (t.attempt == i) b.tls = std::pair{t.from, t.to};
            for (const auto& t : v.proxy)
                if (t.attempt == i) b.proxy = std::pair{t.from, t.to};
            bars.push_back(std::move(b));
        }
        if (bars.empty()) return {};

        steady::duration total = r.at;
        std::size_t label_width = 0;
        for (const auto& b : bars) {
            total = std::max(total, b.to);
            label_width = std::max(label_width, b.label.size());
        }
        // "  label |bars| outcome" fills the terminal; a long IPv6 label
        // squeezes the bars, but never below a readable minimum.
        const std::size_t fixed_part = 2 + label_width + 2 + 2 + outcome_width;
        const std::size_t width = fixed_part + 20 < terminal_width ? terminal_width - fixed_part : 20;
        const auto cell = [&](steady::duration d, bool round_up) {
            if (total <= steady::duration::zero()) return std::size_t{0};
            const double x = static_cast<double>(d.count()) / static_cast<double>(total.count()) * double(width);
            const auto c = static_cast<std::size_t>(round_up ? std::ceil(x) : std::floor(x));
            return std::min(c, width);
        };
        const std::string_view full = unicode_ ? "\u2588" : "#";
        const std::string_view light = unicode_ ? "\u2592" : "=";  // the TLS handshake
        const std::string_view dark = unicode_ ? "\u2593" : "+";   // the proxy tunnel

        std::string text = "\n";
        for (const auto& b : bars) {
            std::size_t from = cell(b.from, false), to = cell(b.to, true);
            // Every span gets at least one cell, however short it was.
            if (to <= from) {
                from = std::min(from, width - 1);
                to = from + 1;
            }
            std::string line = "  " + pad_right(b.label, label_width) + " |" + std::string(from, ' ');
            const std::size_t tls_from = b.tls ? std::max(from, std::min(cell(b.tls->first, false), to - 1)) : to;
            const std::size_t proxy_from =
                b.proxy ? std::max(from, std::min(cell(b.proxy->first, false), to - 1)) : tls_from;
            for (std::size_t i = from; i < to; ++i) line += i >= tls_from ? light : i >= proxy_from ? dark : full;
            line += std::string(width - to, ' ') + "|";
            if (!b.note.empty()) line += " " + std::string(b.note);
            text += line + "\n";
        }
        text += std::string(2 + label_width + 2, ' ') + "0" + pad_left(duration_text(total), width - 1) + "\n\n";
        return text;
    }

    std::ostream& out_;
    bool live_;
    bool unicode_;
    std::vector<view> views_;
};

// The waterfall's block characters only when the locale says the terminal
// takes UTF-8; POSIX order: LC_ALL, then LC_CTYPE, then LANG.
bool utf8_locale() {
    for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
        const char* value = std::getenv(name);
        if (value && *value) {
            const auto v = lowercase(value);
            return v.find("utf-8") != std::string::npos || v.find("utf8") != std::string::npos;
        }
    }
    return false;
}

std::unique_ptr<reporter> make_reporter(output_format format, std::size_t dials) {
    if (format == output_format::json) return std::make_unique<json_writer>(std::cout);
    return std::make_unique<timeline_writer>(std::cout, dials, utf8_locale());
}

// ---------------------------------------------------------------------------
// Dialing

// What a dial is: TCP, or TLS (--tls) through this dialer.
struct dial_kind {
    std::optional<nettrace::tls_dialer> tls;
};

asio::awaitable<void> dial_once(nettrace::dialer dialer, const dial_kind& kind, dial_session& session) {
    error_code ec;
    try {
        if (kind.tls) {
            auto [dial_ec, stream] = co_await kind.tls->dial(session.context(), session.network(), session.address(),
                                                             asio::as_tuple(asio::use_awaitable));
            ec = dial_ec;
        } else {
            auto [dial_ec, socket] = co_await dialer.dial(session.context(), session.network(), session.address(),
                                                          asio::as_tuple(asio::use_awaitable));
            ec = dial_ec;
        }
    } catch (const boost::system::system_error& e) {
        // The dial could not start: the first socket of this io_context
        // met the descriptor limit (no_descriptors). No hook has fired.
        ec = e.code();
    }
    session.completed(ec);
}

/// Runs `count` concurrent dials on `io` and returns them, finished.
std::vector<std::unique_ptr<dial_session>> run_dials(asio::io_context& io, const nettrace::dialer& dialer,
                                                     const dial_kind& kind, const std::string& network,
                                                     const std::string& address, unsigned count, reporter& out) {
    std::vector<std::unique_ptr<dial_session>> sessions;
    for (unsigned i = 0; i < count; ++i)
        sessions.push_back(std::make_unique<dial_session>(i, count, network, address, out));
    std::size_t remaining = count;
    for (auto& s : sessions) {
        out.started(*s);
        asio::co_spawn(io, dial_once(dialer, kind, *s), [&](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
            // The demo's listener would keep run() busy forever.
            if (--remaining == 0) io.stop();
        });
    }
    try {
        io.run();
    } catch (const boost::system::system_error& e) {
        // A process that hit its descriptor limit before it could make even
        // one reactor cannot complete a dial: the library throws from the
        // initiation, which Asio's coroutines let out of run().
        for (auto& s : sessions)
            if (!s->finished()) s->completed(e.code());
    }
    out.all_finished(sessions);
    return sessions;
}

// ---------------------------------------------------------------------------
// Demo

struct demo_peers {
    ip_address decoy;  // black-holed
    ip_address live = asio::ip::address_v4::loopback();
    unsigned short port = 0;
    bool ipv6 = true;
    std::unique_ptr<nettrace::testing::black_hole> hole;
    std::unique_ptr<nettrace::testing::live_listener> listener;
};

demo_peers start_demo_peers(const asio::any_io_executor& ex) {
    demo_peers d;
    d.ipv6 = nettrace::testing::ipv6_loopback_available();
    d.decoy = d.ipv6 ? ip_address(asio::ip::address_v6::loopback()) : asio::ip::make_address("127.0.0.2");
    std::string last_error;
    // The port is free when probed but another process may take it before
    // we bind; a fresh port on the next try fixes that.
    for (int attempt = 0; attempt < 5; ++attempt) {
        try {
            const unsigned short probe = d.ipv6 ? nettrace::testing::free_dual_stack_port() : 0;
            d.hole = std::make_unique<nettrace::testing::black_hole>(d.decoy, probe);
            d.port = d.hole->port();
            d.listener = std::make_unique<nettrace::testing::live_listener>(ex, d.live, d.port);
            return d;
        } catch (const std::exception& e) {
            last_error = e.what();
            d.hole.reset();
        }
    }
    throw std::runtime_error("demo: cannot set up the loopback peers: " + last_error);
}

void print_demo_intro(std::ostream& out, const demo_peers& d, const nettrace::dial_options& o) {
    const std::string port = std::to_string(d.port);
    const std::string decoy = endpoint_text({d.decoy, d.port}), live = endpoint_text({d.live, d.port});
    if (!d.ipv6) out << "demo: no IPv6 loopback here, so 127.0.0.2 stands in for [::1].\n";
    out << "demo: dual.test:" << port << " is pinned to " << address_text(d.decoy) << " and "
        << address_text(d.live) << ", all on loopback.\n"
        << "      " << decoy << " is a black hole (drops SYNs); " << live << " accepts.\n"
        << "      " << address_text(d.decoy) << " is tried first; ";
    if (o.race)
        out << address_text(d.live) << " joins after the " << o.attempt_delay.count() << " ms attempt delay";
    else
        out << "with --no-race, " << address_text(d.live) << " waits for it to fail (timeout " << o.timeout.count()
            << " ms)";
    out << ".\n\n" << std::flush;
}

// ---------------------------------------------------------------------------
// Trace files (--trace-json, --svg)

class output_file {
public:
    // Opened before dialing: a mistyped path should fail at once, not after
    // a dial that may take the whole --timeout.
    output_file(std::string option, std::string path) : option_(std::move(option)), path_(std::move(path)) {
        stream_.open(path_, std::ios::out | std::ios::trunc | std::ios::binary);
        if (!stream_) throw std::runtime_error(what("cannot open for writing", errno));
    }

    /// Writes with `write`, then reports whether it all reached the file.
    template <class Write>
    bool save(Write&& write) {
        errno = 0;
        write(stream_);
        stream_.close();
        if (stream_.fail()) {
            std::cerr << program << ": " << what("cannot write", errno) << '\n';
            return false;
        }
        return true;
    }

private:
    std::string what(std::string_view doing, int err) const {
        std::string text = option_ + " " + path_ + ": " + std::string(doing);
        if (err) text += ": " + std::string(std::strerror(err));
        return text;
    }

    std::string option_, path_;
    std::ofstream stream_;
};

// ---------------------------------------------------------------------------

int run(const command_line& cl) {
    std::optional<output_file> trace_json, svg;
    if (!cl.trace_json_path.empty()) trace_json.emplace("--trace-json", cl.trace_json_path);
    if (!cl.svg_path.empty()) svg.emplace("--svg", cl.svg_path);

    asio::io_context io(1);
    std::optional<demo_peers> demo;  // after `io`, so destroyed before it
    std::string address = cl.address;
    nettrace::dial_options options = cl.options;
    options.single_threaded = true;  // `io` runs on this thread alone

    if (cl.demo) {
        demo = start_demo_peers(io.get_executor());
        address = "dual.test:" + std::to_string(demo->port);
        options.resolver = nettrace::make_static_resolver({{"dual.test", {demo->decoy, demo->live}}});
        if (options.timeout == options.timeout.zero()) options.timeout = demo_timeout;
    } else {
        options.resolver = make_resolver(cl);
    }
    const nettrace::dialer dialer(std::move(options));

    if (demo)  // stdout carries only JSON lines under --json
        print_demo_intro(cl.format == output_format::json ? std::cerr : std::cout, *demo, dialer.options());

    dial_kind kind;
    std::optional<asio::ssl::context> tls;
    if (cl.tls) {
        tls.emplace(asio::ssl::context::tls_client);
        error_code ec;
        if (!cl.cafile.empty())
            tls->load_verify_file(cl.cafile, ec);
        else
            tls->set_default_verify_paths(ec);
        if (ec) throw usage_error("--cafile " + quoted(std::string_view(cl.cafile)) + ": " + ec.message());
        kind.tls.emplace(*tls, cl.tls_options, dialer);
    }
    const auto out = make_reporter(cl.format, cl.count);
    const auto sessions = run_dials(io, dialer, kind, cl.network, address, cl.count, *out);

    bool ok = std::all_of(sessions.begin(), sessions.end(), [](const auto& s) { return s->ok(); });
    if (demo) {
        const tcp::endpoint expected(demo->live, demo->port);
        for (const auto& s : sessions)
            if (s->ok() && s->result().endpoint != expected) {
                std::cerr << program << ": demo: connected to " << endpoint_text(s->result().endpoint)
                          << ", expected the live listener at " << endpoint_text(expected) << '\n';
                ok = false;
            }
    }

    if (trace_json || svg) {
        std::vector<nettrace::dial_record> records;
        for (const auto& s : sessions) records.push_back(s->record());
        if (trace_json && !trace_json->save([&](std::ostream& f) { nettrace::write_chrome_trace(f, records); }))
            ok = false;
        if (svg && !svg->save([&](std::ostream& f) { nettrace::write_svg_waterfall(f, records); })) ok = false;
    }
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const command_line cl = parse_command_line(argc, argv);
        if (cl.help) {
            std::cout << usage_text;
            return 0;
        }
        return run(cl);
    } catch (const usage_error& e) {
        std::cerr << program << ": " << e.what() << "\nTry '" << program << " --help' for more information.\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << program << ": " << e.what() << '\n';
        return 1;
    }
}
