// Fuzz target: the SOCKS5 handshake machine (src/detail/proxy_handshake.hpp,
// RFC 1928 and RFC 1929) reading a proxy's replies. The input is the byte
// stream the proxy sends (method choice, username/password status, connect
// reply, then tunnel bytes); the target plays the socket: a read_exact
// takes its bytes, and at the end of the input it comes back short.
//
// Input: one byte of flags, then the stream.
//   bit 0:    with credentials (offers username/password too)
//   bits 1-2: the target: 0 an IPv4 address, 1 an IPv6 address, 2 a name,
//             3 a name of 255 bytes (the longest SOCKS5 carries)
//   bit 3:    a short read ends with asio::error::eof (else with no error)
//
// Invariants: only writes and read_exacts, each non-empty, a read of at
// most the longest reply; the machine ends within 8 steps; it writes
// exactly the greeting, the sub-negotiation (only when the proxy chose it)
// and the connect request; and its outcome (error, status, bytes consumed)
// is the one an independent reading of the stream below predicts: after a
// success, what is left is exactly the bytes after the connect reply.
#include "../src/detail/proxy_handshake.hpp"

#include <nettrace/error.hpp>

#include "check.hpp"

#include <boost/asio/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

using boost::system::error_code;
using nettrace::error;
using nettrace::detail::proxy_action;
using bytes = std::vector<std::uint8_t>;

struct expectation {
    error_code ec;
    int status = -1;
    std::size_t consumed = 0;
    std::vector<bytes> writes;
};

expectation predict(std::span<const std::uint8_t> s, bool creds, const bytes& auth, const bytes& connect) {
    expectation x;
    x.writes.push_back(creds ? bytes{5, 2, 0, 2} : bytes{5, 1, 0});
    std::size_t pos = 0;
    const auto closed = [&] {
        x.ec = error::proxy_closed;
        x.consumed = s.size();  // a short read takes what there is
        return x;
    };
    const auto fail = [&](error e) {
        x.ec = e;
        x.consumed = pos;
        return x;
    };
    if (s.size() < 2) return closed();
    pos = 2;
    if (s[0] != 5) return fail(error::proxy_malformed_reply);
    if (s[1] == 0xFF) return fail(error::socks_no_acceptable_method);
    if (s[1] == 2 && creds) {
        x.writes.push_back(auth);
        if (s.size() < 4) return closed();
        pos = 4;
        if (s[2] != 1 && s[2] != 5) return fail(error::proxy_malformed_reply);
        if (s[3] != 0) return fail(error::socks_auth_failed);
    } else if (s[1] != 0) {
        return fail(error::proxy_malformed_reply);
    }
    x.writes.push_back(connect);
    const std::size_t head = pos;
    if (s.size() < head + 5) return closed();
    pos = head + 5;
    if (s[head] != 5) return fail(error::proxy_malformed_reply);
    const int rep = s[head + 1];
    if (rep != 0) {
        x.status = rep;
        static const error codes[] = {error::socks_general_failure,       error::socks_not_allowed,
                                      error::socks_network_unreachable,   error::socks_host_unreachable,
                                      error::socks_connection_refused,    error::socks_ttl_expired,
                                      error::socks_command_not_supported, error::socks_address_type_not_supported};
        return fail(rep <= 8 ? codes[rep - 1] : error::socks_general_failure);
    }
    std::size_t address;  // BND.ADDR's length, its length byte included for a name
    switch (s[head + 3]) {
        case 1:
            address = 4;
            break;
        case 4:
            address = 16;
            break;
        case 3:
            address = 1 + std::size_t(s[head + 4]);
            break;
        default:
            return fail(error::proxy_malformed_reply);
    }
    const std::size_t total = 4 + address + 2;
    if (s.size() < head + total) return closed();
    x.status = 0;
    x.consumed = head + total;
    return x;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t flags = data[0];
    const std::span<const std::uint8_t> stream(data + 1, size - 1);
    const bool creds = flags & 1, eof_error = flags & 8;
    const int kind = (flags >> 1) & 3;

    nettrace::detail::proxy_target target;
    bytes connect{5, 1, 0};
    switch (kind) {
        case 0:
            target = {"192.0.2.9", boost::asio::ip::make_address("192.0.2.9"), 443};
            connect.insert(connect.end(), {1, 192, 0, 2, 9});
            break;
        case 1:
            target = {"2001:db8::9", boost::asio::ip::make_address("2001:db8::9"), 443};
            connect.insert(connect.end(), {4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9});
            break;
        default:
            target = {kind == 2 ? std::string("fuzz.test") : std::string(255, 'n'), std::nullopt, 443};
            connect.push_back(3);
            connect.push_back(std::uint8_t(target.host.size()));
            connect.insert(connect.end(), target.host.begin(), target.host.end());
            break;
    }
    connect.insert(connect.end(), {0x01, 0xbb});
    const bytes auth{1, 4, 'u', 's', 'e', 'r', 6, 's', 'e', 'c', 'r', 'e', 't'};
    std::optional<nettrace::detail::proxy_credentials> c;
    if (creds) c = nettrace::detail::proxy_credentials{"user", "secret"};
    nettrace::detail::proxy_handshake m(nettrace::proxy_scheme::socks5, c, target);

    std::size_t pos = 0;
    std::vector<bytes> writes;
    error_code ec;
    std::size_t n = 0;
    proxy_action a;
    for (int steps = 0;; ++steps) {
        FUZZ_CHECK(steps <= 8);
        a = m.resume(ec, n);
        ec = {};
        n = 0;
        if (a.kind == proxy_action::type::done) break;
        FUZZ_CHECK(a.kind == proxy_action::type::write || a.kind == proxy_action::type::read_exact);
        if (a.kind == proxy_action::type::write) {
            FUZZ_CHECK(!a.out.empty());
            writes.emplace_back(a.out.begin(), a.out.end());
            continue;
        }
        FUZZ_CHECK(!a.in.empty() && a.in.size() <= 4 + 1 + 255 + 2);
        n = std::min(stream.size() - pos, a.in.size());
        std::copy_n(stream.data() + pos, n, a.in.data());
        pos += n;
        if (n < a.in.size() && eof_error) ec = boost::asio::error::eof;
    }
    FUZZ_CHECK(pos <= stream.size());
    const proxy_action again = m.resume({}, 0);
    FUZZ_CHECK(again.kind == proxy_action::type::done && again.error == a.error);
    FUZZ_CHECK(m.reason().empty());
    // Success and the status agree; a reply code's error carries the code.
    if (!a.error)
        FUZZ_CHECK(m.status() == 0);
    else if (a.error.category() == nettrace::category() && a.error.value() >= int(error::socks_general_failure))
        FUZZ_CHECK(m.status() >= 1 && m.status() <= 255);
    else
        FUZZ_CHECK(m.status() == -1);

    // What came back. NETTRACE_FUZZ_VERBOSE=1 prints it (for triage).
    static const bool verbose = std::getenv("NETTRACE_FUZZ_VERBOSE") != nullptr;
    if (verbose)
        std::fprintf(stderr, "stream %zu bytes, consumed %zu, %zu writes: %s, status %d\n", stream.size(), pos,
                     writes.size(), a.error ? a.error.message().c_str() : "tunnel up", m.status());

    const expectation x = predict(stream, creds, auth, connect);
    FUZZ_CHECK(a.error == x.ec);
    FUZZ_CHECK(m.status() == x.status);
    FUZZ_CHECK(pos == x.consumed);
    FUZZ_CHECK(writes == x.writes);
    return 0;
}
