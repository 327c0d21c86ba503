// nettrace/tls_options.hpp — what dial_tls hands back and how it
// handshakes: the stream type, the completion signature, tls_options.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/system/error_code.hpp>

#include <string>
#include <vector>

namespace nettrace {

/// A connected TCP socket with a completed TLS client handshake.
using tls_stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

using tls_dial_signature = void(boost::system::error_code, tls_stream);

struct tls_options {
    /// Verify the peer's certificate chain against the ssl::context's trust
    /// store and its name against server_name (boost::asio::ssl::
    /// host_name_verification). False turns both off explicitly, whatever
    /// verify mode the ssl::context has.
    bool verify_peer = true;

    /// The name sent as SNI and verified; empty means the host part of the
    /// address. An IP literal is verified against the certificate's IP
    /// addresses and sent as no SNI (RFC 6066 allows only names).
    std::string server_name{};

    /// ALPN protocols to offer, in preference order ("h2", "http/1.1"); empty
    /// offers none.
    std::vector<std::string> alpn{};

    /// Happy Eyeballs v3: the handshake is part of each attempt, and the
    /// first attempt whose handshake (with verification) completes wins; a
    /// TCP connect restarts the attempt delay, so a stalled handshake costs
    /// at most about one more delay before the next address is tried.
    /// False is the old behaviour: the race is decided at TCP connect and
    /// only its winner handshakes, so a path that connects but stalls the
    /// handshake (a PMTU black hole) holds the dial until its timeout.
    bool race = true;
};

}  // namespace nettrace
