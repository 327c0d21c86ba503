// A TLS server on loopback for tests, with a self-signed certificate made at
// run time through OpenSSL's API: no key or certificate file is committed.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace nettrace::testing {

/// A fresh EC P-256 key and a self-signed certificate for it: CN the first
/// name, subjectAltName every name (DNS names, or IP addresses given as
/// "IP:127.0.0.1"), valid from an hour ago for a day.
class test_certificate {
public:
    explicit test_certificate(const std::vector<std::string>& names);
    X509* x509() const noexcept { return cert_.get(); }
    EVP_PKEY* key() const noexcept { return key_.get(); }

    /// Adds the certificate to a client context's trust store.
    void trust_in(boost::asio::ssl::context& client) const;
    /// Makes a server context present this certificate and key.
    void use_in(boost::asio::ssl::context& server) const;

private:
    struct free_key {
        void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
    };
    struct free_cert {
        void operator()(X509* c) const noexcept { X509_free(c); }
    };
    std::unique_ptr<EVP_PKEY, free_key> key_;
    std::unique_ptr<X509, free_cert> cert_;
};

/// Accepts on a loopback address, runs the server side of each handshake,
/// and keeps the connections open.
class tls_server {
public:
    struct options {
        /// ALPN protocols the server selects from the client's offer, in the
        /// server's order of preference; empty selects none.
        std::vector<std::string> alpn;
    };

    tls_server(const boost::asio::any_io_executor& ex, const boost::asio::ip::address& addr,
               const test_certificate& cert, options o);
    tls_server(const boost::asio::any_io_executor& ex, const boost::asio::ip::address& addr,
               const test_certificate& cert)
        : tls_server(ex, addr, cert, options{}) {}
    ~tls_server();
    tls_server(const tls_server&) = delete;
    tls_server& operator=(const tls_server&) = delete;

    unsigned short port() const noexcept { return port_; }
    std::size_t accepted() const noexcept;
    std::size_t handshakes() const noexcept;  ///< completed successfully

private:
    struct state;
    std::shared_ptr<state> state_;
    unsigned short port_ = 0;
};

}  // namespace nettrace::testing
