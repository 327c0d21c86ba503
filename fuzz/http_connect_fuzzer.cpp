// Fuzz target: the HTTP CONNECT handshake machine
// (src/detail/proxy_handshake.hpp) reading a proxy's response. The input is
// the byte stream the proxy sends; the target plays the socket: a peek sees
// what has "arrived" without taking it, a read_exact takes bytes, the end of
// the input is the proxy closing.
//
// Input: one byte of flags, then the stream.
//   bits 0-3: arrival size k (0: everything at once): the stream arrives
//             in k-byte pieces, so a peek sees up to the next k boundary
//   bit 4:    an IPv6 target (else a name)
//   bit 5:    pad: a header line of max_proxy_header - 256 bytes goes in
//             after the input's first LF (at the start if none), so that
//             inputs of libFuzzer's usual sizes reach the header bound
//   bit 6:    with credentials (a Proxy-Authorization line)
//   bit 7:    the close shows as asio::error::eof (else a peek of 0 bytes)
//
// Invariants: the request is exactly the documented one; the machine ends
// within 2 * max_proxy_header + 2 steps; every peek window is non-empty and
// within the bound; every read_exact follows a peek and asks for 1 byte or
// more and no more than that peek saw (so it never waits for, or takes, a
// byte past the header); it never reads more than max_proxy_header bytes;
// and its outcome (error, status, reason, bytes consumed) is the one an
// independent reading of the stream below predicts: in particular, what is
// left after a complete response is exactly the bytes after its header.
#include "../src/detail/proxy_handshake.hpp"

#include <nettrace/error.hpp>

#include "check.hpp"

#include <boost/asio/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace {

using boost::system::error_code;
using nettrace::error;
using nettrace::detail::max_proxy_header;
using nettrace::detail::proxy_action;

struct expectation {
    error_code ec;
    int status = -1;
    std::string reason;
    std::size_t consumed = 0;
};

// RFC 9112's status line, read the plain way: the whole line at once.
int status_code(std::string_view line, std::string& reason) {
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.size() < 12 || std::memcmp(line.data(), "HTTP/1.", 7) != 0) return -1;
    const auto digits = [](std::string_view d) {
        return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (!digits(line.substr(7, 1)) || line[8] != ' ' || !digits(line.substr(9, 3))) return -1;
    if (line.size() > 12 && line[12] != ' ') return -1;
    const int code = std::stoi(std::string(line.substr(9, 3)));
    if (code < 100 || code > 599) return -1;
    reason = line.size() > 13 ? std::string(line.substr(13, 64)) : std::string();
    std::replace_if(
        reason.begin(), reason.end(), [](char c) { return c < 0x20 || c > 0x7e; }, '?');
    reason.erase(reason.find_last_not_of(' ') + 1);
    return code;
}

expectation predict(std::string_view s) {
    expectation x;
    for (std::size_t start = 0;;) {
        // The first empty line of this response: "\n\n" or "\n\r\n".
        const std::string_view rest = s.substr(start);
        std::size_t end = std::string_view::npos;
        if (const auto p = rest.find("\n\n"); p != std::string_view::npos) end = p + 2;
        if (const auto p = rest.find("\n\r\n"); p != std::string_view::npos) end = std::min(end, p + 3);
        if (end == std::string_view::npos || start + end > max_proxy_header) {
            if (s.size() >= max_proxy_header) {
                x.ec = error::proxy_reply_too_large;
                x.consumed = max_proxy_header;
            } else {
                x.ec = error::proxy_closed;
                x.consumed = s.size();
            }
            return x;
        }
        const std::string_view header = rest.substr(0, end);
        std::string reason;
        const int code = status_code(header.substr(0, header.find('\n')), reason);
        if (code < 0) {
            x.ec = error::proxy_malformed_reply;
            x.consumed = start + end;
            return x;
        }
        if (code / 100 == 1 && code != 101) {  // interim: the final response follows
            start += end;
            continue;
        }
        x.status = code;
        x.reason = reason;
        x.consumed = start + end;
        if (code / 100 != 2) x.ec = code == 407 || code == 401 ? error::proxy_auth_required : error::proxy_rejected;
        return x;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t flags = data[0];
    std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::size_t arrival = flags & 15;
    const bool v6 = flags & 16, pad = flags & 32, creds = flags & 64, eof_error = flags & 128;
    if (pad) {
        const std::size_t lf = input.find('\n');
        const std::size_t fill = max_proxy_header - 256;
        input.insert(lf == std::string::npos ? 0 : lf + 1, "X-Pad: " + std::string(fill - 9, 'p') + "\r\n");
    }
    const std::string_view stream(input);

    nettrace::detail::proxy_target target;
    if (v6)
        target = {"2001:db8::1", boost::asio::ip::make_address("2001:db8::1"), 443};
    else
        target = {"fuzz.test", std::nullopt, 8080};
    std::optional<nettrace::detail::proxy_credentials> c;
    if (creds) c = nettrace::detail::proxy_credentials{"user", "pa:ss"};
    nettrace::detail::proxy_handshake m(nettrace::proxy_scheme::http, c, target);

    const std::string authority = v6 ? "[2001:db8::1]:443" : "fuzz.test:8080";
    const std::string request = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n" +
                                (creds ? "Proxy-Authorization: Basic dXNlcjpwYTpzcw==\r\n" : "") + "\r\n";

    std::size_t pos = 0;     // bytes consumed
    std::size_t peeked = 0;  // what the last peek saw
    bool after_peek = false;
    int writes = 0;
    error_code ec;
    std::size_t n = 0;
    proxy_action a;
    for (std::size_t steps = 0;; ++steps) {
        FUZZ_CHECK(steps <= 2 * max_proxy_header + 2);
        a = m.resume(ec, n);
        ec = {};
        n = 0;
        if (a.kind == proxy_action::type::done) break;
        switch (a.kind) {
            case proxy_action::type::write:
                FUZZ_CHECK(++writes == 1 && steps == 0);
                FUZZ_CHECK(std::string_view(reinterpret_cast<const char*>(a.out.data()), a.out.size()) == request);
                break;
            case proxy_action::type::peek: {
                FUZZ_CHECK(writes == 1);
                FUZZ_CHECK(!a.in.empty() && a.in.size() <= max_proxy_header - pos);
                std::size_t arrived = stream.size();
                if (arrival) arrived = std::min(arrived, (pos / arrival + 1) * arrival);
                n = std::min(arrived - pos, a.in.size());
                std::copy_n(stream.data() + pos, n, a.in.data());
                if (n == 0 && eof_error) ec = boost::asio::error::eof;
                peeked = n;
                after_peek = true;
                break;
            }
            case proxy_action::type::read_exact:
                FUZZ_CHECK(after_peek && !a.in.empty() && a.in.size() <= peeked);
                after_peek = false;
                n = std::min(stream.size() - pos, a.in.size());
                FUZZ_CHECK(n == a.in.size());  // follows from the peek: never short
                std::copy_n(stream.data() + pos, n, a.in.data());
                pos += n;
                FUZZ_CHECK(pos <= max_proxy_header);
                break;
            case proxy_action::type::done:
                break;
        }
    }
    FUZZ_CHECK(pos <= stream.size());
    const proxy_action again = m.resume({}, 0);
    FUZZ_CHECK(again.kind == proxy_action::type::done && again.error == a.error);

    // The reason is one clean line whatever the proxy sent.
    const std::string& reason = m.reason();
    FUZZ_CHECK(reason.size() <= 64);
    FUZZ_CHECK(std::all_of(reason.begin(), reason.end(), [](char ch) { return ch >= 0x20 && ch < 0x7f; }));
    // Success and the status agree; a named error otherwise.
    const int st = m.status();
    if (!a.error)
        FUZZ_CHECK(st >= 200 && st <= 299);
    else if (a.error == error::proxy_auth_required)
        FUZZ_CHECK(st == 407 || st == 401);  // a proxy asking with 401 means the same (proxy_handshake.cpp)
    else if (a.error == error::proxy_rejected)
        FUZZ_CHECK(st >= 101 && st <= 599 && st / 100 != 2 && st != 407 && st != 401);
    else
        FUZZ_CHECK((a.error == error::proxy_malformed_reply || a.error == error::proxy_reply_too_large ||
                    a.error == error::proxy_closed) &&
                   st == -1 && reason.empty());

    // What came back. NETTRACE_FUZZ_VERBOSE=1 prints it (for triage).
    static const bool verbose = std::getenv("NETTRACE_FUZZ_VERBOSE") != nullptr;
    if (verbose)
        std::fprintf(stderr, "stream %zu bytes, consumed %zu: %s, status %d \"%s\"\n", stream.size(), pos,
                     a.error ? a.error.message().c_str() : "tunnel up", st, reason.c_str());

    const expectation x = predict(stream);
    FUZZ_CHECK(a.error == x.ec);
    FUZZ_CHECK(st == x.status);
    FUZZ_CHECK(reason == x.reason);
    FUZZ_CHECK(pos == x.consumed);  // on a response: exactly its header, the rest left for the tunnel
    return 0;
}
