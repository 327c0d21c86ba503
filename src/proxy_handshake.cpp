// proxy_handshake.cpp — the HTTP CONNECT and SOCKS5 handshakes as sans-I/O
// state machines (detail/proxy_handshake.hpp says what each step does and
// which errors it reports).
//
// Both distrust the proxy: every length it sends is checked against what was
// asked, nothing is read past its reply (the tunnel's first bytes belong to
// the caller: a TLS ServerHello may follow the "200" in the same segment),
// and memory is bounded by the peek window, never by the proxy.

#include "detail/proxy_handshake.hpp"

#include <nettrace/error.hpp>

#include <boost/asio/error.hpp>

#include <algorithm>

namespace nettrace::detail {
namespace {

using boost::system::error_code;
using type = proxy_action::type;

// A CONNECT response is a few hundred bytes: one peek sees it all, and a
// huge header is read in rounds of this size instead of one 16 KB buffer.
constexpr std::size_t peek_window = 4096;
constexpr std::size_t max_reason = 64;
// Kept of a status line: "HTTP/1.1 200 " (13 bytes) and the reason's first
// 64; the rest of a longer line cannot change the outcome.
constexpr std::size_t max_status_line = 13 + max_reason + 1;
// SOCKS5's longest reply: VER REP RSV ATYP, a 255-byte name with its length
// byte, the port.
constexpr std::size_t max_socks_reply = 4 + 1 + 255 + 2;

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::string base64(std::string_view in) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < in.size(); i += 3) {
        const std::size_t n = std::min<std::size_t>(3, in.size() - i);
        std::uint32_t v = std::uint32_t(std::uint8_t(in[i])) << 16;
        if (n > 1) v |= std::uint32_t(std::uint8_t(in[i + 1])) << 8;
        if (n > 2) v |= std::uint8_t(in[i + 2]);
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += n > 1 ? alphabet[v >> 6 & 63] : '=';
        out += n > 2 ? alphabet[v & 63] : '=';
    }
    return out;
}

// The end of the header is its first empty line. `state` is what the bytes
// before `b` left: 0, 1 after an LF, 2 after LF CR. Accepting "\n\n" and
// "\n\r\n" besides "\r\n\r\n" costs nothing and helps sloppy proxies; a
// stray CR elsewhere ("\n\r\r\n") does not end it.
bool ends_header(std::uint8_t& state, std::uint8_t b) noexcept {
    if (b == '\n') {
        if (state != 0) return true;
        state = 1;
    } else {
        state = (b == '\r' && state == 1) ? 2 : 0;
    }
    return false;
}

// "HTTP/1.<digit> <3 digits>" then the end of the line or " reason". Returns
// the code (100..599) or -1. `line` is without its LF; `cut`: it was longer.
int parse_status_line(std::string_view line, bool cut, std::string& reason) {
    if (!cut && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || !is_digit(line[7]) || line[8] != ' ' ||
        !is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]))
        return -1;
    if (line.size() > 12 && line[12] != ' ') return -1;  // "HTTP/1.1 2000", "HTTP/1.1 200\rX"
    const int code = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (code < 100 || code > 599) return -1;
    reason.clear();
    for (char c : line.substr(std::min<std::size_t>(13, line.size()), max_reason))
        reason += (c >= 0x20 && c < 0x7f) ? c : '?';  // the trace and error texts stay one clean line
    while (!reason.empty() && reason.back() == ' ') reason.pop_back();
    return code;
}

// The result of a read or peek that failed: the proxy hung up, or a real
// I/O error the caller should see as it is.
error_code closed_or(error_code ec) {
    if (!ec || ec == boost::asio::error::eof) return error::proxy_closed;
    return ec;
}

bool printable_host(std::string_view h) {
    return std::all_of(h.begin(), h.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

proxy_handshake::proxy_handshake(proxy_scheme scheme, std::optional<proxy_credentials> credentials, proxy_target target)
    : scheme_(scheme), target_(std::move(target)), credentials_(std::move(credentials)) {}

proxy_action proxy_handshake::resume(error_code ec, std::size_t bytes) {
    // Writes: only the error matters (the driver writes all or fails).
    // SOCKS5 reads: exactly want_ bytes, or the proxy hung up mid-reply.
    const bool full = !ec && bytes >= want_;
    switch (step_) {
        case step::start:
            return start();
        case step::http_request:
            return ec ? end(closed_or(ec)) : http_peek();
        case step::http_peek:
            return http_peeked(ec, bytes);
        case step::http_read:
            return http_read(ec, bytes);
        case step::socks_greeting:
            return ec ? end(closed_or(ec)) : read(0, 2, step::socks_method);
        case step::socks_method:
            return full ? socks_method_reply() : end(closed_or(ec));
        case step::socks_auth:
            return ec ? end(closed_or(ec)) : read(0, 2, step::socks_auth_reply);
        case step::socks_auth_reply:
            return full ? socks_auth_result() : end(closed_or(ec));
        case step::socks_connect:
            return ec ? end(closed_or(ec)) : read(0, 5, step::socks_reply_head);
        case step::socks_reply_head:
            return full ? socks_reply_head() : end(closed_or(ec));
        case step::socks_reply_rest:
            if (!full) return end(closed_or(ec));
            status_ = 0;     // only now: a reply cut short has no status
            return end({});  // the tunnel is up
        case step::done:
            break;
    }
    return finish();
}

proxy_action proxy_handshake::start() {
    // Everything that can be wrong with our side fails before a byte is
    // written: the proxy should not see half a request.
    std::string host = target_.host;
    if (host.empty() && target_.address) host = target_.address->to_string();
    if (host.empty()) return end(error::missing_host);

    if (scheme_ == proxy_scheme::http) {
        if (!printable_host(host)) return end(error::invalid_host);  // no CR LF into the request
        // Built with append: GCC 12 at -O3 warns (-Wrestrict, a false
        // positive) on "literal" + std::string temporaries here.
        std::string authority;
        if (host.find(':') != std::string::npos) {  // IPv6: RFC 9110 authority-form, RFC 6874 zone
            const auto pct = host.find('%');
            authority.append("[").append(host, 0, pct);
            if (pct != std::string::npos) authority.append("%25").append(host, pct + 1);
            authority.append("]");
        } else {
            authority = host;
        }
        authority.append(":").append(std::to_string(target_.port));
        std::string req;
        req.append("CONNECT ").append(authority).append(" HTTP/1.1\r\nHost: ").append(authority).append("\r\n");
        if (credentials_)
            req +=
                "Proxy-Authorization: Basic " + base64(credentials_->username + ":" + credentials_->password) + "\r\n";
        req += "\r\n";
        out_.assign(req.begin(), req.end());
        return write(step::http_request);
    }

    if (!target_.address && target_.host.size() > 255) return end(error::host_too_long);
    if (credentials_ && (credentials_->username.size() > 255 || credentials_->password.size() > 255))
        return end(error::invalid_proxy_url);  // proxy's parser already refuses these
    out_ = credentials_ ? std::vector<std::uint8_t>{5, 2, 0, 2} : std::vector<std::uint8_t>{5, 1, 0};
    return write(step::socks_greeting);
}

// --- HTTP CONNECT ----------------------------------------------------------

proxy_action proxy_handshake::http_peek() {
    // consumed_ < max_proxy_header here, so the window is never empty.
    const std::size_t n = std::min(peek_window, max_proxy_header - consumed_);
    scratch_.resize(std::max(scratch_.size(), n));
    step_ = step::http_peek;
    return {type::peek, {}, std::span(scratch_.data(), n), {}};
}

proxy_action proxy_handshake::http_peeked(error_code ec, std::size_t bytes) {
    if (ec || bytes == 0) return end(closed_or(ec));
    const std::size_t seen = std::min({bytes, peek_window, max_proxy_header - consumed_});
    // Read what belongs to the header: up to its end if the peek shows it,
    // else everything seen (at least one byte: progress every round).
    std::uint8_t state = blank_;
    std::size_t take = seen;
    for (std::size_t i = 0; i < seen; ++i)
        if (ends_header(state, scratch_[i])) {
            take = i + 1;
            break;
        }
    want_ = take;
    step_ = step::http_read;
    return {type::read_exact, {}, std::span(scratch_.data(), take), {}};
}

proxy_action proxy_handshake::http_read(error_code ec, std::size_t bytes) {
    if (ec || bytes < want_) return end(closed_or(ec));
    // The bytes read, not the bytes peeked, are the header: scan them again.
    for (std::size_t i = 0; i < want_; ++i) {
        const std::uint8_t b = scratch_[i];
        if (!line_done_) {
            if (b == '\n')
                line_done_ = true;
            else if (line_.size() < max_status_line)
                line_ += char(b);
            else
                line_cut_ = true;
        }
        if (ends_header(blank_, b)) {
            // A TCP stream reads what it peeked; anything else is a broken
            // driver, and the bytes after the end are gone: fail loudly.
            if (i + 1 != want_) return end(error::proxy_malformed_reply);
            consumed_ += want_;
            return http_header_done();
        }
    }
    consumed_ += want_;
    if (consumed_ >= max_proxy_header) return end(error::proxy_reply_too_large);
    return http_peek();
}

proxy_action proxy_handshake::http_header_done() {
    std::string reason;
    const int code = parse_status_line(line_, line_cut_, reason);
    if (code < 0) return end(error::proxy_malformed_reply);
    if (code / 100 == 1 && code != 101) {
        // An interim response (100 Continue, 103 Early Hints): RFC 9110
        // section 15.2 has a client skip it; the final one follows, and the
        // bound counts them all, so a stream of them ends too.
        line_.clear();
        line_done_ = line_cut_ = false;
        blank_ = 0;
        if (consumed_ >= max_proxy_header) return end(error::proxy_reply_too_large);
        return http_peek();
    }
    status_ = code;
    reason_ = std::move(reason);
    if (code / 100 == 2) return end({});  // the tunnel is up
    // 407 is the standard answer; tinyproxy (1.11) answers wrong
    // credentials with 401, which from a proxy means the same.
    return end(code == 407 || code == 401 ? error::proxy_auth_required : error::proxy_rejected);
}

// --- SOCKS5 ----------------------------------------------------------------

proxy_action proxy_handshake::socks_method_reply() {
    const std::uint8_t ver = scratch_[0], method = scratch_[1];
    if (ver != 5) return end(error::proxy_malformed_reply);
    if (method == 0xFF) return end(error::socks_no_acceptable_method);
    if (method == 0) return socks_connect_request();
    if (method != 2 || !credentials_) return end(error::proxy_malformed_reply);  // not offered
    // RFC 1929: VER=1 ULEN UNAME PLEN PASSWD.
    const auto& c = *credentials_;
    out_.clear();
    out_.push_back(1);
    out_.push_back(std::uint8_t(c.username.size()));
    out_.insert(out_.end(), c.username.begin(), c.username.end());
    out_.push_back(std::uint8_t(c.password.size()));
    out_.insert(out_.end(), c.password.begin(), c.password.end());
    return write(step::socks_auth);
}

proxy_action proxy_handshake::socks_auth_result() {
    // RFC 1929 says VER is 1; some servers echo the SOCKS version, 5.
    if (scratch_[0] != 1 && scratch_[0] != 5) return end(error::proxy_malformed_reply);
    if (scratch_[1] != 0) return end(error::socks_auth_failed);
    return socks_connect_request();
}

proxy_action proxy_handshake::socks_connect_request() {
    out_ = {5, 1, 0};  // VER, CMD=CONNECT, RSV
    if (target_.address && target_.address->is_v4()) {
        const auto b = target_.address->to_v4().to_bytes();
        out_.push_back(1);
        out_.insert(out_.end(), b.begin(), b.end());
    } else if (target_.address) {
        const auto b = target_.address->to_v6().to_bytes();
        out_.push_back(4);
        out_.insert(out_.end(), b.begin(), b.end());
    } else {
        out_.push_back(3);
        out_.push_back(std::uint8_t(target_.host.size()));  // <= 255: checked in start()
        out_.insert(out_.end(), target_.host.begin(), target_.host.end());
    }
    out_.push_back(std::uint8_t(target_.port >> 8));
    out_.push_back(std::uint8_t(target_.port & 0xFF));
    return write(step::socks_connect);
}

proxy_action proxy_handshake::socks_reply_head() {
    // VER REP RSV ATYP and the address's first byte (a name's length): the
    // rest's size is known from these five, never a guess.
    const std::uint8_t ver = scratch_[0], rep = scratch_[1], atyp = scratch_[3];
    if (ver != 5) return end(error::proxy_malformed_reply);
    if (rep != 0) {
        status_ = rep;  // a refusal ends the reply for us: its address is not read
        static constexpr error by_code[] = {
            error::socks_general_failure,       error::socks_not_allowed,
            error::socks_network_unreachable,   error::socks_host_unreachable,
            error::socks_connection_refused,    error::socks_ttl_expired,
            error::socks_command_not_supported, error::socks_address_type_not_supported,
        };
        return end(rep <= 8 ? by_code[rep - 1] : error::socks_general_failure);
    }
    // RSV (scratch_[2]) is not checked: it carries nothing, and servers
    // that set it still open the tunnel.
    std::size_t rest = 0;
    switch (atyp) {
        case 1:
            rest = 4 - 1 + 2;
            break;
        case 4:
            rest = 16 - 1 + 2;
            break;
        case 3:
            rest = std::size_t(scratch_[4]) + 2;
            break;
        default:
            return end(error::proxy_malformed_reply);
    }
    return read(5, rest, step::socks_reply_rest);
}

// --- Actions ---------------------------------------------------------------

proxy_action proxy_handshake::write(step next) {
    step_ = next;
    return {type::write, std::span<const std::uint8_t>(out_), {}, {}};
}

proxy_action proxy_handshake::read(std::size_t offset, std::size_t n, step next) {
    scratch_.resize(max_socks_reply);
    want_ = n;
    step_ = next;
    return {type::read_exact, {}, std::span(scratch_.data() + offset, n), {}};
}

proxy_action proxy_handshake::end(error_code ec) {
    final_ = ec;
    step_ = step::done;
    // The buffers are of no more use; a done machine holds no memory.
    std::vector<std::uint8_t>().swap(out_);
    std::vector<std::uint8_t>().swap(scratch_);
    std::string().swap(line_);
    return finish();
}

proxy_action proxy_handshake::finish() { return {type::done, {}, {}, final_}; }

}  // namespace nettrace::detail
