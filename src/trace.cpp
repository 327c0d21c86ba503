#include <nettrace/address.hpp>
#include <nettrace/trace.hpp>

#include <sstream>

namespace nettrace {

std::string_view to_string(address_family f) noexcept { return f == address_family::ipv6 ? "ipv6" : "ipv4"; }

std::string_view to_string(dns_source s) noexcept {
    switch (s) {
    case dns_source::none: return "none";
    case dns_source::hosts: return "hosts";
    case dns_source::cache: return "cache";
    case dns_source::dns: return "dns";
    case dns_source::static_table: return "static";
    case dns_source::system: return "system";
    }
    return "unknown";
}

std::string_view to_string(connect_outcome o) noexcept {
    switch (o) {
    case connect_outcome::won: return "won";
    case connect_outcome::lost: return "lost";
    case connect_outcome::failed: return "failed";
    case connect_outcome::superseded: return "superseded";
    case connect_outcome::cancelled: return "cancelled";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, address_family f) { return os << to_string(f); }
std::ostream& operator<<(std::ostream& os, dns_source s) { return os << to_string(s); }
std::ostream& operator<<(std::ostream& os, connect_outcome o) { return os << to_string(o); }

namespace {

void write_endpoint(std::ostream& os, const boost::asio::ip::tcp::endpoint& ep) {
    if (ep.address().is_v6())
        os << '[' << ep.address().to_string() << "]:" << ep.port();
    else
        os << ep.address().to_string() << ':' << ep.port();
}

}  // namespace

// Go's wording: "dial tcp 127.0.0.1:1: connect: connection refused". With
// several attempts every one is named, since the first error alone can hide
// the real cause.
std::string dial_done_info::describe() const {
    std::ostringstream os;
    os << "dial " << network << ' ' << address << ": ";
    if (!error) {
        os << "connected to ";
        write_endpoint(os, remote);
        return os.str();
    }
    std::size_t failed = 0;
    for (const auto& a : attempts) failed += a.error ? 1 : 0;
    if (attempts.size() == 1 || failed <= 1) {
        for (const auto& a : attempts)
            if (a.error == error) {
                os << "connect ";
                write_endpoint(os, a.endpoint);
                os << ": ";
                break;
            }
        os << error.message();
        return os.str();
    }
    os << error.message() << " (" << attempts.size() << " attempts: ";
    for (std::size_t i = 0; i < attempts.size(); ++i) {
        if (i) os << "; ";
        write_endpoint(os, attempts[i].endpoint);
        os << ' ' << (attempts[i].error ? attempts[i].error.message() : std::string(to_string(attempts[i].outcome)));
    }
    os << ')';
    return os.str();
}

}  // namespace nettrace
