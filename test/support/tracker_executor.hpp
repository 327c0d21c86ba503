// An executor that says who ran a function: a wrapper around any I/O
// executor (an io_context's, a strand, a second io_context's) with an id of
// its own. Every function it executes runs with that id pushed on a
// per-thread stack, so code can ask "which executor is running me now?" --
// a completion handler bound to it (asio::bind_executor), a hook, anything
// the operation under test runs. The idea is Boost.MySQL's test executor
// (test/common/include/test_common/tracker_executor.hpp there).
//
// Nested executors nest on the stack: a strand over a tracked io_context
// executor that dispatches to a second tracker inline shows both, the
// innermost last.
#pragma once

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/require.hpp>

#include <algorithm>
#include <atomic>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace nettrace::testing {

namespace tracker_detail {

// The ids of the trackers whose functions this thread is running,
// outermost first.
inline thread_local std::vector<int> running;
inline std::atomic<int> next_id{1};

// Pushes an id for the lifetime of one executed function.
class running_guard {
public:
    explicit running_guard(int id) { running.push_back(id); }
    ~running_guard() { running.pop_back(); }
    running_guard(const running_guard&) = delete;
    running_guard& operator=(const running_guard&) = delete;
};

// A function as the tracker hands it to the executor it wraps.
template <class Function>
struct tracked_function {
    int id;
    Function f;
    void operator()() {
        running_guard g(id);
        f();
    }
};

}  // namespace tracker_detail

/// Executes through `inner`, marking each function it runs with its id.
/// Queries, requirements and preferences go to `inner`; a requirement or a
/// preference (outstanding work, blocking, relationship) keeps the id, so
/// the copies Asio makes of it are the same tracker.
class tracker_executor {
public:
    /// A tracker over `inner` (an io_context's executor, a strand...), with
    /// an id no other tracker has. Not from a tracker: that is a copy, with
    /// the same id. (Unconstrained, the copy's overload set would ask
    /// whether a tracker converts to any_io_executor, which asks whether it
    /// is an executor, which asks whether it copies: a cycle.)
    template <class Executor>
    requires(!std::is_same_v<std::decay_t<Executor>, tracker_executor>) explicit tracker_executor(const Executor& inner)
        : tracker_executor(tracker_detail::next_id++, boost::asio::any_io_executor(inner)) {}

    int id() const noexcept { return id_; }
    const boost::asio::any_io_executor& inner() const noexcept { return inner_; }

    template <class Function>
    void execute(Function&& f) const {
        inner_.execute(tracker_detail::tracked_function<std::decay_t<Function>>{id_, std::forward<Function>(f)});
    }

    template <class Property>
    requires boost::asio::can_query<const boost::asio::any_io_executor&, Property>::value decltype(auto) query(
        const Property& p) const {
        return boost::asio::query(inner_, p);
    }

    template <class Property>
    requires boost::asio::can_require<const boost::asio::any_io_executor&, Property>::value tracker_executor
    require(const Property& p)
    const { return tracker_executor(id_, boost::asio::require(inner_, p)); }

    template <class Property>
    requires boost::asio::can_prefer<const boost::asio::any_io_executor&, Property>::value tracker_executor
    prefer(const Property& p)
    const { return tracker_executor(id_, boost::asio::prefer(inner_, p)); }

    friend bool operator==(const tracker_executor& a, const tracker_executor& b) noexcept {
        return a.id_ == b.id_ && a.inner_ == b.inner_;
    }

private:
    tracker_executor(int id, boost::asio::any_io_executor inner) : id_(id), inner_(std::move(inner)) {}

    int id_;
    boost::asio::any_io_executor inner_;
};

static_assert(boost::asio::execution::executor<tracker_executor>);

/// The ids of the trackers running this thread's current function,
/// outermost first (empty: no tracker is).
inline std::span<const int> running_trackers() noexcept { return tracker_detail::running; }

/// Whether the tracker `id` is running this thread's current function, at
/// any depth.
inline bool running_in(int id) noexcept {
    return std::find(tracker_detail::running.begin(), tracker_detail::running.end(), id) !=
           tracker_detail::running.end();
}

/// The tracker that ran this thread's current function: the innermost, or
/// -1 when no tracker is running it.
inline int innermost_tracker() noexcept {
    return tracker_detail::running.empty() ? -1 : tracker_detail::running.back();
}

/// The id of the tracker an executor holds, or -1 when it holds none.
inline int tracker_id(const boost::asio::any_io_executor& ex) noexcept {
    const auto* t = ex.target<tracker_executor>();
    return t ? t->id() : -1;
}
inline int tracker_id(const boost::asio::any_completion_executor& ex) noexcept {
    const auto* t = ex.target<tracker_executor>();
    return t ? t->id() : -1;
}

}  // namespace nettrace::testing
