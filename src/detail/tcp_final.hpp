// dial's final stage: none. The attempt ends when TCP connects, and the
// result is the TCP socket (dial_op.hpp; dial_tls's is tls_final, in
// src/tls.cpp).
#pragma once

#include <nettrace/options.hpp>
#include <nettrace/trace.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <utility>

namespace nettrace::detail {

/// Plain dial: the attempt ends when TCP connects.
struct tcp_final {
    using stream_type = boost::asio::ip::tcp::socket;
    // Streams are made in place (from an executor, or the spare socket):
    // a socket moved once more costs a service call per dial.
    template <class Arg>
    void emplace(std::optional<stream_type>& slot, Arg&& arg) {
        slot.emplace(std::forward<Arg>(arg));
    }
    template <class Arg>
    stream_type& emplace_back(std::deque<stream_type>& streams, Arg&& arg) {
        return streams.emplace_back(std::forward<Arg>(arg));
    }
    static boost::asio::ip::tcp::socket& lowest(stream_type& s) noexcept { return s; }
    // No stage: dial_op compiles none of its stage code for a plain dial,
    // which keeps the hottest path's instructions few and close together.
    static constexpr bool has_stage = false;
    static constexpr bool tls = false;  // picks dial_options::proxy's http (not https) proxy
    bool stage_in_race() const noexcept { return false; }
    bool stage_after_race() const noexcept { return false; }
    std::vector<std::string> client_alpn() const { return {}; }
    // Never called: no stage.
    template <class Op, class Handler>
    void start_stage(Op&, stream_type&, const std::vector<std::string>*, Handler&&) {}
    void report_stage(const stream_type&, const boost::system::error_code&, tls_handshake_done_info&) {}
    std::string_view stage_cause(stream_type&) const noexcept { return {}; }
    std::string_view stage_name() const noexcept { return {}; }
    std::string_view stage_peer_name() const noexcept { return {}; }
};

boost::system::error_code apply_socket_options(boost::asio::ip::tcp::socket& socket, const dial_options& o);

}  // namespace nettrace::detail
