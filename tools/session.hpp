// One dial of nettrace-dial and the run of all of them: each dial fills a
// nettrace::dial_record through the library's recorder and hands every event
// to the reporter as it happens; run_dials races --count of them on one
// io_context, or runs --repeat of them one after another.
#pragma once

#include "report.hpp"

#include <nettrace/context.hpp>
#include <nettrace/dial.hpp>
#include <nettrace/recorder.hpp>
#include <nettrace/tls.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nettrace::tool {

class dial_session {
public:
    dial_session(std::size_t index, std::size_t count, std::string network, std::string address, reporter& out);
    // The recording context points back at this session.
    dial_session(const dial_session&) = delete;
    dial_session& operator=(const dial_session&) = delete;

    std::size_t index() const noexcept { return index_; }
    std::size_t count() const noexcept { return count_; }
    const std::string& network() const noexcept { return network_; }
    const std::string& address() const noexcept { return address_; }
    const nettrace::context& context() const noexcept { return ctx_; }
    const nettrace::dial_record& record() const noexcept { return record_; }
    /// The dial_done event; valid once completed() ran.
    const nettrace::recorded_event& result() const noexcept { return *record_.done(); }
    bool ok() const noexcept { return !result().error; }
    bool finished() const noexcept { return record_.done() != nullptr; }

    void completed(const boost::system::error_code& ec);

private:
    static void report_hook_exception(const std::exception_ptr& e);

    std::size_t index_, count_;
    std::string network_, address_;
    reporter& out_;
    nettrace::dial_record record_;
    nettrace::context ctx_;
};

/// What a dial is: TCP, TLS (--tls) through this dialer, or a unix-domain
/// socket (network unix: dial_unix).
struct dial_kind {
    std::optional<nettrace::tls_dialer> tls;
    bool unix_socket = false;
};

/// Runs `count` dials on `io`, all at once or, when `sequential`, each
/// after the previous one completed, and returns them, finished.
std::vector<std::unique_ptr<dial_session>> run_dials(boost::asio::io_context& io, const nettrace::dialer& dialer,
                                                     const dial_kind& kind, const std::string& network,
                                                     const std::string& address, unsigned count, bool sequential,
                                                     reporter& out);

}  // namespace nettrace::tool
