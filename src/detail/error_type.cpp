// error_type (error_type.hpp): the names of error.type.
#include "error_type.hpp"

#include <nettrace/error.hpp>

#include "error_table.hpp"

#include <cerrno>

namespace nettrace::detail {

std::string error_type(const boost::system::error_code& ec) {
    if (ec.category() == category()) {
        if (const auto* e = find_error(ec.value())) return std::string(e->name);
    }
    if (ec.category() == boost::system::system_category() || ec.category() == boost::system::generic_category()) {
        switch (ec.value()) {
            case ECONNREFUSED:
                return "connection_refused";
            case ECONNRESET:
                return "connection_reset";
            case ECONNABORTED:
                return "connection_aborted";
            case ETIMEDOUT:
                return "timed_out";
            case ECANCELED:
                return "operation_aborted";
            case ENETUNREACH:
                return "network_unreachable";
            case EHOSTUNREACH:
                return "host_unreachable";
            case ENETDOWN:
                return "network_down";
            case EADDRNOTAVAIL:
                return "address_not_available";
            case EADDRINUSE:
                return "address_in_use";
            case EACCES:
                return "access_denied";
            case EPERM:
                return "operation_not_permitted";
            case EMFILE:
                return "too_many_open_files";
            case ENFILE:
                return "too_many_open_files_in_system";
            case ENOBUFS:
                return "no_buffer_space";
            default:
                break;
        }
    }
    return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
}

}  // namespace nettrace::detail
