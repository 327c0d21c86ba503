// dial_tls: the dial operation (src/detail/dial_op.hpp) with the TLS
// handshake as its final stage, in the race or after it.
#include <nettrace/address.hpp>
#include <nettrace/error.hpp>
#include <nettrace/tls.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>

#include "detail/dial_op.hpp"
#include "detail/op_allocator.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>

namespace nettrace::detail {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

using clock = std::chrono::steady_clock;

bool is_ip_literal(const std::string& host) {
    error_code ec;
    return parse_ip_literal(host, ec).has_value();
}

// Asio's host name check, which leaves OpenSSL's verify result unset on a
// mismatch: say which mismatch it was, for tls_handshake_done_info.
struct name_verifier {
    ssl::host_name_verification check;
    bool ip;

    bool operator()(bool preverified, ssl::verify_context& vctx) const {
        const bool ok = check(preverified, vctx);
        if (preverified && !ok && X509_STORE_CTX_get_error_depth(vctx.native_handle()) == 0)
            X509_STORE_CTX_set_error(vctx.native_handle(),
                                     ip ? X509_V_ERR_IP_ADDRESS_MISMATCH : X509_V_ERR_HOSTNAME_MISMATCH);
        return ok;
    }
};

// ALPN's wire format: each protocol preceded by its length (1..255).
std::optional<std::string> alpn_wire(const std::vector<std::string>& protocols) {
    std::string wire;
    for (const auto& p : protocols) {
        if (p.empty() || p.size() > 255) return std::nullopt;
        wire += static_cast<char>(p.size());
        wire += p;
    }
    return wire;
}

// dial_tls's final stage: the TLS client handshake on an attempt's socket,
// with SNI, verification and ALPN set up per attempt.
struct tls_final {
    using stream_type = tls_stream;

    ssl::context* ssl_ctx;
    tls_options options;
    std::string server_name;
    std::string alpn;  // wire form

    template <class Arg>
    void emplace(std::optional<stream_type>& slot, Arg&& arg) {
        slot.emplace(std::forward<Arg>(arg), *ssl_ctx);
    }
    template <class Arg>
    stream_type& emplace_back(std::deque<stream_type>& streams, Arg&& arg) {
        return streams.emplace_back(std::forward<Arg>(arg), *ssl_ctx);
    }
    static tcp::socket& lowest(stream_type& s) noexcept { return s.next_layer(); }
    static constexpr bool has_stage = true;
    static constexpr bool tls = true;  // picks dial_options::proxy's https proxy
    bool stage_in_race() const noexcept { return options.race; }
    bool stage_after_race() const noexcept { return !options.race; }
    std::string_view stage_peer_name() const noexcept { return server_name; }
    std::string_view stage_name() const noexcept { return "tls handshake"; }
    // Why verification failed, when it did: OpenSSL's static text.
    std::string_view stage_cause(stream_type& stream) const noexcept {
        const long v = SSL_get_verify_result(stream.native_handle());
        return options.verify_peer && v != X509_V_OK ? X509_verify_cert_error_string(v) : std::string_view();
    }

    std::vector<std::string> client_alpn() const { return options.alpn; }

    // `offer`: the attempt's HTTPS record allows only these of our ALPN
    // protocols (service_resolution made the intersection); null: all.
    template <class Op, class Handler>
    void start_stage(Op&, stream_type& stream, const std::vector<std::string>* offer, Handler&& handler) {
        error_code ec;
        std::string offered;
        if (offer) offered = alpn_wire(*offer).value_or(std::string());
        const std::string& wire = offer ? offered : alpn;
        SSL* ssl = stream.native_handle();
        const bool ip = is_ip_literal(server_name);
        if (!server_name.empty() && !ip && SSL_set_tlsext_host_name(ssl, server_name.c_str()) != 1)
            ec = asio::error::invalid_argument;
        if (!ec && options.verify_peer) {
            stream.set_verify_mode(ssl::verify_peer, ec);
            if (!ec) stream.set_verify_callback(name_verifier{ssl::host_name_verification(server_name), ip}, ec);
        } else if (!ec) {
            stream.set_verify_mode(ssl::verify_none, ec);
        }
        if (!ec && !wire.empty() &&
            SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned>(wire.size())) != 0)
            ec = asio::error::no_memory;
        if (ec) {
            // Never inline: the op is in the middle of reporting the connect.
            auto ex = asio::get_associated_executor(handler);
            return asio::post(ex, [handler = std::forward<Handler>(handler), ec]() mutable { handler(ec); });
        }
        // The handshake's intermediate handlers run on the op's strand too
        // (they take the final handler's executor), so cancelling the socket
        // from the strand never races them.
        stream.async_handshake(ssl::stream_base::client, std::forward<Handler>(handler));
    }

    void report_stage(const stream_type& stream, const error_code& ec, tls_handshake_done_info& info) {
        SSL* ssl = const_cast<stream_type&>(stream).native_handle();
        if (!ec) {
            info.version = SSL_get_version(ssl);
            if (const char* cipher = SSL_get_cipher_name(ssl)) info.cipher = cipher;
            const unsigned char* proto = nullptr;
            unsigned len = 0;
            SSL_get0_alpn_selected(ssl, &proto, &len);
            if (proto) info.alpn = std::string_view(reinterpret_cast<const char*>(proto), len);
            info.resumed = SSL_session_reused(ssl) == 1;
        } else if (const long v = SSL_get_verify_result(ssl); options.verify_peer && v != X509_V_OK) {
            info.verify_error = X509_verify_cert_error_string(v);
        }
    }
};

}  // namespace

void start_dial_tls(std::shared_ptr<const dialer_state> state, context ctx, std::string network, std::string address,
                    ssl::context& ssl_ctx, tls_options options, asio::any_io_executor ex,
                    asio::any_completion_executor handler_ex, tls_dial_handler handler,
                    std::optional<std::vector<tcp::endpoint>> endpoints) {
    if (endpoints) address = describe_endpoints(*endpoints);
    tls_final final{&ssl_ctx, std::move(options), {}, {}};
    final.server_name = final.options.server_name;
    if (final.server_name.empty() && !endpoints) {
        error_code ignored;  // a bad address is the dial's to report
        if (auto hp = parse_host_port(address, ignored)) final.server_name = hp->host;
    }
    auto wire = alpn_wire(final.options.alpn);
    final.alpn = wire ? std::move(*wire) : std::string();
    auto op = std::allocate_shared<dial_op<tls_final>>(
        op_allocator<dial_op<tls_final>>(), std::move(state), std::move(ctx), std::move(network), std::move(address),
        std::move(ex), std::move(handler_ex), std::move(handler), std::move(final));
    if (endpoints) op->set_endpoints(std::move(*endpoints));
    // A bad ALPN list is refused before any DNS or connect, as bad input is.
    if (!wire) op->refuse(asio::error::invalid_argument);
    op->initiate();
}

}  // namespace nettrace::detail
