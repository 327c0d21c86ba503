// The socket an operation hands back when it cannot make one on its own
// executor: the first I/O object of a fresh io_context creates the
// io_context's reactor (epoll, eventfd, timerfd), and at the descriptor limit
// that constructor throws. An operation must still complete, and its
// completion carries a socket, so it gets an unopened one that belongs to a
// private io_context whose reactor was made earlier, when descriptors were
// free (prepare_spare_context, called whenever a dialer is made).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace nettrace::detail {

/// Makes the private io_context and its reactor if they do not exist yet;
/// a failure (at the descriptor limit) is left for a later call to retry.
void prepare_spare_context() noexcept;

/// An unopened socket on the private io_context, for an operation whose own
/// executor could not make one. Throws (boost::system::system_error,
/// no_descriptors) when the private io_context could not be made either.
boost::asio::ip::tcp::socket spare_socket();

}  // namespace nettrace::detail
