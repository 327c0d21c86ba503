// Fuzz target: the address parsers dial() runs on user input —
// parse_network, parse_host_port ("host:port", "[v6%zone]:port", service
// names) and is_valid_host_name.
//
// Invariants: no crash, no sanitizer report; a result xor an error from the
// nettrace category; what parses is well formed, and parsing its canonical
// spelling gives the same result.
#include <nettrace/address.hpp>

#include "check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

bool allowed_in_name(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
}

// is_valid_host_name's contract, restated independently.
bool expected_valid_name(std::string_view h) {
    if (!h.empty() && h.back() == '.') h.remove_suffix(1);
    if (h.empty() || h.size() > 253) return false;
    std::size_t start = 0;
    for (;;) {
        const auto dot = h.find('.', start);
        const auto label = h.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
        for (char c : label)
            if (!allowed_in_name(c) || c == '.') return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

void check_host_port(std::string_view in) {
    boost::system::error_code ec;
    const auto hp = nettrace::parse_host_port(in, ec);
    FUZZ_CHECK(hp.has_value() != static_cast<bool>(ec));
    if (!hp) {
        FUZZ_CHECK(ec.category() == nettrace::category());
        return;
    }
    const bool bracketed = !in.empty() && in.front() == '[';
    FUZZ_CHECK(!hp->host.empty());
    FUZZ_CHECK(hp->host.find('\0') == std::string::npos);
    if (bracketed) {
        FUZZ_CHECK(hp->ip && hp->ip->is_v6());
    } else {
        FUZZ_CHECK(hp->zone.empty());
        if (hp->ip)
            FUZZ_CHECK(hp->ip->is_v4());
        else
            FUZZ_CHECK(nettrace::is_valid_host_name(hp->host));
    }
    if (!hp->zone.empty()) FUZZ_CHECK(hp->ip && hp->ip->is_v6());

    // The canonical spelling (numeric port) parses to the same thing.
    std::string again = bracketed ? "[" + hp->host + (hp->zone.empty() ? "" : "%" + hp->zone) + "]" : hp->host;
    again += ":" + std::to_string(hp->port);
    boost::system::error_code ec2;
    const auto hp2 = nettrace::parse_host_port(again, ec2);
    FUZZ_CHECK(hp2.has_value());
    FUZZ_CHECK(hp2->host == hp->host);
    FUZZ_CHECK(hp2->port == hp->port);
    FUZZ_CHECK(hp2->ip == hp->ip);
    FUZZ_CHECK(hp2->zone == hp->zone);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    boost::system::error_code ec;
    const auto net = nettrace::parse_network(in, ec);
    FUZZ_CHECK(net.has_value() == (in == "tcp" || in == "tcp4" || in == "tcp6"));
    FUZZ_CHECK(net.has_value() != static_cast<bool>(ec));
    if (net) FUZZ_CHECK(nettrace::to_string(*net) == in);

    FUZZ_CHECK(nettrace::is_valid_host_name(in) == expected_valid_name(in));

    check_host_port(in);
    return 0;
}
