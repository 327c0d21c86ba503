#include "workers.hpp"

#include "support.hpp"

#include <boost/asio/deferred.hpp>
#include <boost/asio/this_coro.hpp>

namespace nettrace::bench {

boost::asio::awaitable<void> raw_worker(boost::asio::ip::tcp::endpoint ep, std::atomic<long>& budget) {
    auto ex = co_await boost::asio::this_coro::executor;
    while (budget.fetch_sub(1, std::memory_order_relaxed) > 0) {
        boost::asio::ip::tcp::socket s(ex);
        co_await s.async_connect(ep, boost::asio::deferred);
        close_now(s);
    }
}

boost::asio::awaitable<void> dial_worker(const nettrace::dialer& d, const std::string& address,
                                         std::atomic<long>& budget) {
    const nettrace::context none;
    while (budget.fetch_sub(1, std::memory_order_relaxed) > 0) {
        boost::asio::ip::tcp::socket s = co_await d.dial(none, "tcp", address);
        close_now(s);
    }
}

}  // namespace nettrace::bench
