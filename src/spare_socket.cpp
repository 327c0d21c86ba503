#include "detail/spare_socket.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/system/system_error.hpp>

#include <memory>
#include <mutex>

namespace nettrace::detail {
namespace {

// Never run and never destroyed (a socket handed out may outlive any
// static's destructor); its sockets are never opened.
struct spare_context {
    boost::asio::io_context io{1};
    boost::asio::ip::tcp::socket warm{io};  // creates the reactor now
};

std::mutex spare_mutex;
spare_context* spare = nullptr;

spare_context* get_spare() {
    std::lock_guard lock(spare_mutex);
    if (!spare) spare = new spare_context;  // throws at the descriptor limit
    return spare;
}

}  // namespace

void prepare_spare_context() noexcept {
    try {
        get_spare();
    } catch (...) {}
}

boost::asio::ip::tcp::socket spare_socket() { return boost::asio::ip::tcp::socket(get_spare()->io); }

}  // namespace nettrace::detail
