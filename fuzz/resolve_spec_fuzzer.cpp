// Fuzz target: nettrace-dial's --resolve HOST:PORT:ADDR[,ADDR...] parser
// (tools/resolve_spec.cpp, the very code the tool runs).
//
// Invariants: no crash, no sanitizer report, no exception but usage_error;
// an accepted spec has a valid host, a port from 1 to 65535 and at least one
// address, and its canonical spelling parses to the same pin.
#include "resolve_spec.hpp"

#include <nettrace/address.hpp>

#include "check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    nettrace::tool::pin p;
    try {
        p = nettrace::tool::parse_resolve(in);
    } catch (const nettrace::tool::usage_error& e) {
        FUZZ_CHECK(std::string_view(e.what()).substr(0, 10) == "--resolve ");
        return 0;
    }
    FUZZ_CHECK(p.spec == in);
    FUZZ_CHECK(!p.host.empty());
    FUZZ_CHECK(nettrace::is_valid_host_name(p.host));
    FUZZ_CHECK(p.port >= 1);
    FUZZ_CHECK(!p.addrs.empty());

    std::string again = p.host + ":" + std::to_string(p.port) + ":";
    for (std::size_t i = 0; i < p.addrs.size(); ++i) {
        if (i) again += ",";
        const auto& a = p.addrs[i];
        again += a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
    }
    nettrace::tool::pin q;
    try {
        q = nettrace::tool::parse_resolve(again);
    } catch (const nettrace::tool::usage_error& e) {
        std::fprintf(stderr, "canonical spelling rejected: %s\n", e.what());
        FUZZ_CHECK(false);
    }
    FUZZ_CHECK(q.host == p.host);
    FUZZ_CHECK(q.port == p.port);
    FUZZ_CHECK(q.addrs == p.addrs);
    return 0;
}
