// dial_tls: a traced dial, then a traced TLS client handshake on the winner.
// Everything of one operation runs on its own strand, which is what
// serialises the hooks (the dial's hooks run on the dial's strand, all before
// its completion reaches ours).
#include <nettrace/address.hpp>
#include <nettrace/error.hpp>
#include <nettrace/tls.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "detail/saturate.hpp"
#include "detail/spare_socket.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <chrono>
#include <memory>
#include <optional>

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

class tls_op : public std::enable_shared_from_this<tls_op> {
public:
    tls_op(dialer d, context ctx, std::string network, std::string address, ssl::context& ssl_ctx,
           tls_options options, asio::any_io_executor ex, tls_dial_handler handler)
        : dialer_(std::move(d)),
          ctx_(std::move(ctx)),
          trace_(context_client_trace(ctx_)),
          network_(std::move(network)),
          address_(std::move(address)),
          ssl_ctx_(ssl_ctx),
          options_(std::move(options)),
          ex_(std::move(ex)),
          strand_(asio::make_strand(ex_)),
          work_(asio::prefer(ex_, asio::execution::outstanding_work.tracked)),
          handler_(std::move(handler)) {}

    // Called on the initiating thread, so a cancellation emitted right after
    // initiation is not lost; everything else is posted, so the handler never
    // runs before dial_tls() returns. Cancellation is always posted too: from
    // inside a hook it must not re-enter the operation half-way through a step.
    void initiate() {
        handler_work_ = asio::prefer(asio::get_associated_executor(handler_, ex_),
                                     asio::execution::outstanding_work.tracked);
        slot_ = asio::get_associated_cancellation_slot(handler_);
        if (slot_.is_connected()) {
            slot_.assign([weak = weak_from_this()](asio::cancellation_type type) {
                if ((type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                             asio::cancellation_type::total)) == asio::cancellation_type::none)
                    return;
                if (auto self = weak.lock()) asio::post(self->strand_, [self] { self->on_cancel(); });
            });
        }
        asio::post(strand_, [self = shared_from_this()] { self->run(); });
    }

private:
    enum class phase { idle, dialing, handshaking, done };

    void run() {
        started_ = clock::now();
        server_name_ = options_.server_name;
        if (server_name_.empty()) {
            error_code ignored;  // a bad address is the dial's to report
            if (auto hp = parse_host_port(address_, ignored)) server_name_ = hp->host;
        }
        auto wire = alpn_wire(options_.alpn);
        if (!wire) {
            // No dial ran, so no socket exists yet to hand back.
            error_code limit;
            socket_.emplace(make_socket(ex_, limit));
            return complete(limit ? limit : error_code(asio::error::invalid_argument));
        }
        alpn_ = std::move(*wire);

        phase_ = phase::dialing;
        dialer_.dial(ex_, ctx_, network_, address_,
                     asio::bind_cancellation_slot(
                         dial_signal_.slot(),
                         asio::bind_executor(strand_, [self = shared_from_this()](error_code ec, tcp::socket s) {
                             self->on_dialed(ec, std::move(s));
                         })));
    }

    void on_dialed(error_code ec, tcp::socket socket) {
        // Kept until the stream owns it: every failure before that hands it
        // back, closed, as the result (see complete).
        socket_.emplace(std::move(socket));
        if (ec) return complete(ec);
        error_code ignored;
        remote_ = socket_->remote_endpoint(ignored);
        // The dial succeeded, so from here every way out is the handshake's
        // and reports tls_handshake_start/done: a trace must never see a
        // connected dial_done and then nothing to explain a failed operation.
        handshake_started_ = clock::now();
        if (trace_) fire(trace_->tls_handshake_start, tls_handshake_start_info{server_name_, remote_});
        const auto fail = [&](const error_code& why) {
            if (trace_) report_handshake(why);
            complete(why);
        };
        if (cancelled_) return fail(asio::error::operation_aborted);  // raced the dial's completion
        try {
            stream_.emplace(std::move(*socket_), ssl_ctx_);
            socket_.reset();
        } catch (const boost::system::system_error& e) {
            return fail(e.code());
        }
        SSL* ssl = stream_->native_handle();
        const bool ip = is_ip_literal(server_name_);
        if (!server_name_.empty() && !ip) SSL_set_tlsext_host_name(ssl, server_name_.c_str());
        if (options_.verify_peer) {
            stream_->set_verify_mode(ssl::verify_peer, ignored);
            stream_->set_verify_callback(name_verifier{ssl::host_name_verification(server_name_), ip}, ignored);
        } else {
            stream_->set_verify_mode(ssl::verify_none, ignored);
        }
        if (!alpn_.empty() &&
            SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(alpn_.data()),
                                static_cast<unsigned>(alpn_.size())) != 0)
            return fail(asio::error::no_memory);
        phase_ = phase::handshaking;

        // What is left of the dialer's timeout bounds the handshake.
        const auto deadline = saturating_add(started_, saturating_duration<clock>(dialer_.options().timeout));
        if (dialer_.options().timeout.count() > 0 && deadline != clock::time_point::max()) {
            timer_.emplace(strand_, deadline);  // the dial made this io_context's reactor
            timer_->async_wait([self = shared_from_this()](const error_code& ec) {
                if (ec == asio::error::operation_aborted || self->phase_ != phase::handshaking) return;
                self->timed_out_ = true;
                error_code ignored;
                self->stream_->lowest_layer().cancel(ignored);
            });
        }
        // The handshake's intermediate handlers run on the strand too (they
        // take the final handler's executor), so cancelling the socket from
        // the strand never races them.
        stream_->async_handshake(ssl::stream_base::client,
                                 asio::bind_executor(strand_, [self = shared_from_this()](const error_code& ec) {
                                     self->on_handshake(ec);
                                 }));
    }

    void on_handshake(error_code ec) {
        if (timer_) timer_->cancel();
        // A cancellation or timeout that raced the handshake's end wins: the
        // caller has been told nothing yet, and asked for it to stop.
        if (timed_out_) ec = make_error_code(error::timeout);
        else if (cancelled_) ec = asio::error::operation_aborted;
        if (trace_) report_handshake(ec);
        complete(ec);
    }

    void report_handshake(const error_code& ec) {
        SSL* ssl = stream_ ? stream_->native_handle() : nullptr;
        tls_handshake_done_info info;
        info.server_name = server_name_;
        info.remote = remote_;
        info.error = ec;
        info.elapsed = clock::now() - handshake_started_;
        info.hook_exception = hook_exception_;
        if (!ssl) {
            // failed before the handshake could begin
        } else if (!ec) {
            info.version = SSL_get_version(ssl);
            if (const char* cipher = SSL_get_cipher_name(ssl)) info.cipher = cipher;
            const unsigned char* proto = nullptr;
            unsigned len = 0;
            SSL_get0_alpn_selected(ssl, &proto, &len);
            if (proto) info.alpn = std::string_view(reinterpret_cast<const char*>(proto), len);
            info.resumed = SSL_session_reused(ssl) == 1;
        } else if (const long v = SSL_get_verify_result(ssl); options_.verify_peer && v != X509_V_OK) {
            info.verify_error = X509_verify_cert_error_string(v);
        }
        fire(trace_->tls_handshake_done, info);
    }

    void on_cancel() {
        if (!handler_ || cancelled_) return;
        cancelled_ = true;
        if (phase_ == phase::dialing) {
            dial_signal_.emit(asio::cancellation_type::terminal);
        } else if (phase_ == phase::handshaking) {
            error_code ignored;
            stream_->lowest_layer().cancel(ignored);
        }
    }

    template <class Hook, class Info>
    void fire(const Hook& hook, const Info& info) noexcept {
        if (!hook) return;
        try {
            hook(info);
        } catch (...) {
            if (!hook_exception_) hook_exception_ = std::current_exception();
        }
    }

    // Invokes the handler through its own executor; the slot is cleared
    // there, since the caller emits on that executor, not on our strand.
    void complete(const error_code& ec) {
        phase_ = phase::done;
        if (timer_) timer_->cancel();
        std::optional<tls_stream> result;
        if (stream_) {
            if (ec) {
                error_code ignored;
                stream_->lowest_layer().close(ignored);
            }
            result.emplace(std::move(*stream_));
            stream_.reset();
        } else {
            error_code ignored;
            socket_->close(ignored);
            result.emplace(std::move(*socket_), ssl_ctx_);
        }
        auto handler = std::move(handler_);
        auto handler_ex = asio::get_associated_executor(handler, ex_);
        asio::dispatch(handler_ex, [handler = std::move(handler), slot = slot_, work = std::move(handler_work_), ec,
                                    result = std::move(*result)]() mutable {
            if (slot.is_connected()) slot.clear();
            std::move(handler)(ec, std::move(result));
        });
        work_ = {};
    }

    dialer dialer_;
    context ctx_;
    const client_trace* trace_;
    std::string network_;
    std::string address_;
    ssl::context& ssl_ctx_;
    tls_options options_;
    asio::any_io_executor ex_;
    asio::strand<asio::any_io_executor> strand_;
    asio::any_io_executor work_;                  // keeps the I/O executor busy
    asio::any_completion_executor handler_work_;  // and the handler's, until it has run
    std::optional<asio::steady_timer> timer_;  // made when a timeout applies
    tls_dial_handler handler_;
    asio::cancellation_slot slot_;
    asio::cancellation_signal dial_signal_;  // cancels the dial phase
    std::optional<tls_stream> stream_;
    std::optional<tcp::socket> socket_;  // what a failure before the handshake hands back
    std::string server_name_;
    std::string alpn_;
    tcp::endpoint remote_;
    phase phase_ = phase::idle;
    bool cancelled_ = false;
    bool timed_out_ = false;
    std::exception_ptr hook_exception_;
    clock::time_point started_{};
    clock::time_point handshake_started_{};
};

}  // namespace

void start_dial_tls(dialer d, context ctx, std::string network, std::string address, ssl::context& ssl_ctx,
                    tls_options options, asio::any_io_executor ex, tls_dial_handler handler) {
    std::make_shared<tls_op>(std::move(d), std::move(ctx), std::move(network), std::move(address), ssl_ctx,
                             std::move(options), std::move(ex), std::move(handler))
        ->initiate();
}

}  // namespace nettrace::detail
