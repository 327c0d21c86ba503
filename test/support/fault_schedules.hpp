// What the randomized fault-schedule tests share: racer_invariants_test
// (the racer on the virtual clock), dial_outcomes_test (the dialer on
// loopback) and concurrent_dials_test (many dials on several threads).
//
// A failing run prints its seed. To replay one:
//   NETTRACE_FAULT_SEED=<seed> <test executable> -t <test case>
// NETTRACE_FAULT_RUNS=<n> changes how many schedules a test runs.
#pragma once

#include <nettrace/error.hpp>

#include <boost/test/results_collector.hpp>
#include <boost/test/unit_test.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <vector>

namespace nettrace::testing {

/// What a schedule's cancellations and timeouts end a dial with.
inline const boost::system::error_code aborted = boost::asio::error::operation_aborted;
inline const boost::system::error_code timeout = nettrace::error::timeout;

/// A number from the environment, if set and not empty.
inline std::optional<unsigned long> env_number(const char* name) {
    if (const char* v = std::getenv(name); v && *v) return std::strtoul(v, nullptr, 10);
    return std::nullopt;
}

/// The seeds a test runs: [first, first + count), or the one seed of
/// NETTRACE_FAULT_SEED.
struct seed_range {
    unsigned long first, count;
};
inline seed_range seeds(unsigned long default_count) {
    if (auto one = env_number("NETTRACE_FAULT_SEED")) return {*one, 1};
    return {1, env_number("NETTRACE_FAULT_RUNS").value_or(default_count)};
}

/// The failed assertions of the running test case so far: a run whose
/// count grew failed.
inline unsigned failed_assertions() {
    namespace ut = boost::unit_test;
    return static_cast<unsigned>(
        ut::results_collector.results(ut::framework::current_test_case().p_id).p_assertions_failed);
}

/// A seeded generator with the draws the schedules make.
class rng {
public:
    explicit rng(std::uint64_t seed) : g_(seed) {}
    long range(long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(g_); }  // inclusive
    bool chance(double p) { return std::bernoulli_distribution(p)(g_); }
    template <class T>
    const T& pick(const std::vector<T>& v) {
        return v[std::size_t(range(0, long(v.size()) - 1))];
    }
    std::mt19937_64& engine() { return g_; }

private:
    std::mt19937_64 g_;
};

/// What a loopback peer does with a connect: accepts it, refuses it (RST),
/// or never answers (a black hole).
enum class real_peer { live, refused, hole };
inline const char* name(real_peer p) {
    return p == real_peer::live ? "live" : p == real_peer::refused ? "refused" : "hole";
}

struct real_endpoint {
    boost::asio::ip::address addr;
    real_peer kind;
};

}  // namespace nettrace::testing
