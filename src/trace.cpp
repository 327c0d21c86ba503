#include <nettrace/address.hpp>
#include <nettrace/error.hpp>
#include <nettrace/trace.hpp>

#include <sstream>

namespace nettrace {

// Go's wording: "dial tcp 127.0.0.1:1: connect: connection refused". With
// several attempts every one is named, since the first error alone can hide
// the real cause.
std::string dial_done_info::describe() const {
    std::ostringstream os;
    os << "dial " << network << ' ' << address << ": ";
    if (!error) {
        os << "connected to " << (network == "unix" ? std::string(address) : join_host_port(remote));
        if (!proxy.empty()) os << " (proxy " << proxy << ')';
        return os.str();
    }
    // Go's "proxyconnect": a failure is the proxy's, or on the way to it.
    if (!proxy.empty() && step.empty()) os << "proxy " << proxy << ": ";
    if (!step.empty()) {
        os << step << ": " << error.message();
        if (!cause.empty()) os << " (" << cause << ')';
        return os.str();
    }
    // Which bound expired: the dialer's timeout or the context's deadline.
    const auto with_cause = [&]() -> std::string {
        if (error == nettrace::error::timeout && !cause.empty()) os << " (" << cause << ')';
        return os.str();
    };
    std::size_t failed = 0;
    for (const auto& a : attempts) failed += a.error ? 1 : 0;
    if (attempts.size() == 1 || failed <= 1) {
        for (const auto& a : attempts)
            if (a.error == error) {
                // A unix dial's one attempt has a path, which is its address.
                os << "connect " << (network == "unix" ? std::string(address) : join_host_port(a.endpoint)) << ": ";
                break;
            }
        os << error.message();
        return with_cause();
    }
    os << error.message() << " (" << attempts.size() << " attempts: ";
    for (std::size_t i = 0; i < attempts.size(); ++i) {
        if (i) os << "; ";
        os << join_host_port(attempts[i].endpoint);
        os << ' ' << (attempts[i].error ? attempts[i].error.message() : std::string(to_string(attempts[i].outcome)));
    }
    os << ')';
    return with_cause();
}

}  // namespace nettrace
