// Built by scripts/consumers.sh with the README's one-liner for TLS users,
// `c++ tls_link.cpp $(pkg-config --cflags --libs nettrace openssl)`: proves
// that tls.hpp compiles and links from an install with OpenSSL added. Runs one
// dial_tls with bad input (no port), which fails before any network I/O.
#include <nettrace/tls.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <iostream>

namespace asio = boost::asio;

int main() {
    asio::io_context ioc;
    asio::ssl::context ssl_ctx(asio::ssl::context::tls_client);
    boost::system::error_code result;
    bool done = false;
    nettrace::dial_tls(ioc.get_executor(), nettrace::context{}, "tcp", "127.0.0.1", ssl_ctx,
                       [&](boost::system::error_code ec, nettrace::tls_stream) {
                           result = ec;
                           done = true;
                       });
    ioc.run();
    const bool ok = done && result == nettrace::error::missing_port;
    std::cout << (ok ? "ok:     " : "FAILED: ") << "dial_tls without a port fails with missing_port ("
              << result.message() << ")\n";
    return ok ? 0 : 1;
}
