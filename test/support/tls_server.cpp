#include "tls_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <openssl/ec.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <list>
#include <stdexcept>

namespace nettrace::testing {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("test certificate: ") + what);
}

}  // namespace

test_certificate::test_certificate(const std::vector<std::string>& names) {
    check(!names.empty(), "no names");
    key_.reset(EVP_EC_gen("P-256"));
    check(key_ != nullptr, "EVP_EC_gen");
    cert_.reset(X509_new());
    X509* x = cert_.get();
    check(x != nullptr, "X509_new");
    static std::atomic<long> serial{1};
    check(X509_set_version(x, 2) == 1, "X509_set_version");
    check(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) == 1, "serial");
    check(X509_gmtime_adj(X509_getm_notBefore(x), -3600) != nullptr, "notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(x), 86400) != nullptr, "notAfter");
    check(X509_set_pubkey(x, key_.get()) == 1, "X509_set_pubkey");

    std::string cn = names.front(), san;
    if (cn.rfind("IP:", 0) == 0) cn = cn.substr(3);
    X509_NAME* subject = X509_get_subject_name(x);
    check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()),
                                     -1, -1, 0) == 1,
          "CN");
    check(X509_set_issuer_name(x, subject) == 1, "issuer");

    for (const auto& n : names) san += (san.empty() ? "" : ",") + (n.rfind("IP:", 0) == 0 ? n : "DNS:" + n);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, san.c_str());
    check(ext != nullptr, "subjectAltName");
    const int added = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    check(added == 1, "X509_add_ext");
    check(X509_sign(x, key_.get(), EVP_sha256()) > 0, "X509_sign");
}

void test_certificate::trust_in(ssl::context& client) const {
    check(X509_STORE_add_cert(SSL_CTX_get_cert_store(client.native_handle()), cert_.get()) == 1, "X509_STORE_add_cert");
}

void test_certificate::use_in(ssl::context& server) const {
    check(SSL_CTX_use_certificate(server.native_handle(), cert_.get()) == 1, "SSL_CTX_use_certificate");
    check(SSL_CTX_use_PrivateKey(server.native_handle(), key_.get()) == 1, "SSL_CTX_use_PrivateKey");
}

struct tls_server::state : std::enable_shared_from_this<state> {
    state(const asio::any_io_executor& ex, options o) : ssl_ctx(ssl::context::tls_server), acceptor(ex) {
        for (const auto& p : o.alpn) {
            alpn += static_cast<char>(p.size());
            alpn += p;
        }
    }
    ssl::context ssl_ctx;
    tcp::acceptor acceptor;
    std::string alpn;  // wire format
    std::list<ssl::stream<tcp::socket>> connections;
    std::atomic<std::size_t> accepted{0}, handshakes{0};

    static int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                           unsigned inlen, void* arg) {
        auto* self = static_cast<state*>(arg);
        if (self->alpn.empty()) return SSL_TLSEXT_ERR_NOACK;
        unsigned char* selected = nullptr;
        if (SSL_select_next_proto(&selected, outlen, reinterpret_cast<const unsigned char*>(self->alpn.data()),
                                  static_cast<unsigned>(self->alpn.size()), in, inlen) != OPENSSL_NPN_NEGOTIATED)
            return SSL_TLSEXT_ERR_NOACK;
        *out = selected;
        return SSL_TLSEXT_ERR_OK;
    }

    void accept() {
        acceptor.async_accept([self = shared_from_this()](boost::system::error_code ec, tcp::socket s) {
            if (ec) return;  // closed
            ++self->accepted;
            auto& stream = self->connections.emplace_back(std::move(s), self->ssl_ctx);
            stream.async_handshake(ssl::stream_base::server, [self](boost::system::error_code ec) {
                if (!ec) ++self->handshakes;
            });
            self->accept();
        });
    }
};

tls_server::tls_server(const asio::any_io_executor& ex, const asio::ip::address& addr, const test_certificate& cert,
                       options o)
    : state_(std::make_shared<state>(ex, std::move(o))) {
    if (!addr.is_loopback()) throw std::invalid_argument("loopback only: " + addr.to_string());
    cert.use_in(state_->ssl_ctx);
    SSL_CTX_set_alpn_select_cb(state_->ssl_ctx.native_handle(), &state::select_alpn, state_.get());
    tcp::endpoint ep(addr, 0);
    state_->acceptor.open(ep.protocol());
    state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    state_->acceptor.bind(ep);
    state_->acceptor.listen();
    port_ = state_->acceptor.local_endpoint().port();
    state_->accept();
}

tls_server::~tls_server() {
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    for (auto& c : state_->connections) c.lowest_layer().close(ignored);
}

std::size_t tls_server::accepted() const noexcept { return state_->accepted; }
std::size_t tls_server::handshakes() const noexcept { return state_->handshakes; }

}  // namespace nettrace::testing
