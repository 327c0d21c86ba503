// The four Go hooks around one dial, printed as Go's httptrace example does.
// Dials a listener this program starts on 127.0.0.1, through a pinned name,
// so it needs no network; pass ADDRESS to dial something else.
#include <nettrace/nettrace.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <iostream>
#include <string>

namespace asio = boost::asio;

asio::awaitable<void> run(std::string address, nettrace::dialer dialer) {
    nettrace::client_trace trace;
    trace.dns_start = [](const nettrace::dns_start_info& i) { std::cout << "DNS start: " << i.host << '\n'; };
    trace.dns_done = [](const nettrace::dns_done_info& i) {
        std::cout << "DNS done:";
        for (const auto& a : i.addrs) std::cout << ' ' << a;
        std::cout << (i.error ? " error: " + i.error.message() : "") << '\n';
    };
    trace.connect_start = [](const nettrace::connect_start_info& i) {
        std::cout << "Connect start: " << i.network << ' ' << i.endpoint << '\n';
    };
    trace.connect_done = [](const nettrace::connect_done_info& i) {
        std::cout << "Connect done: " << i.network << ' ' << i.endpoint << ' ' << i.outcome
                  << (i.error ? " (" + i.error.message() + ")" : "") << '\n';
    };
    auto ctx = nettrace::with_client_trace({}, trace);
    auto socket = co_await dialer.dial(ctx, "tcp", address);
    std::cout << "Connected to " << socket.remote_endpoint() << '\n';
}

int main(int argc, char** argv) {
    asio::io_context ioc;
    asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    nettrace::dial_options options;
    options.resolver = nettrace::make_static_resolver({{"example.test", {asio::ip::make_address("127.0.0.1")}}},
                                                      nettrace::make_system_resolver());
    const std::string address = argc > 1 ? argv[1] : "example.test:" + std::to_string(acceptor.local_endpoint().port());
    int status = 1;
    asio::co_spawn(ioc, run(address, nettrace::dialer(options)), [&](std::exception_ptr e) {
        status = 0;
        if (e) try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                std::cerr << "dial failed: " << ex.what() << '\n';
                status = 1;
            }
        ioc.stop();
    });
    ioc.run();
    return status;
}
