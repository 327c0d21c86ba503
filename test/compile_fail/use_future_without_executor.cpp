// Must not compile: use_future's handler has no I/O executor, so without an
// executor argument the dial's sockets would run on the system_context.
// With -DNETTRACE_GIVE_EXECUTOR (the positive twin) it compiles.
#include <nettrace/dial.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

int main() {
    boost::asio::io_context ioc;
#ifdef NETTRACE_GIVE_EXECUTOR
    auto f = nettrace::dial(ioc.get_executor(), {}, "tcp", "127.0.0.1:9", boost::asio::use_future);
#else
    auto f = nettrace::dial({}, "tcp", "127.0.0.1:9", boost::asio::use_future);
#endif
    (void)f;
}
