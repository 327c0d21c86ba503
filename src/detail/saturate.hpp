// Durations and deadlines that saturate instead of wrapping: a user's "very
// long" (milliseconds::max(), say) must mean very long, never a deadline in
// the past or signed overflow.
#pragma once

#include <chrono>
#include <ratio>
#include <type_traits>

namespace nettrace::detail {

/// `d` in Clock's duration, clamped to what it can hold.
template <class Clock, class Rep, class Period>
constexpr typename Clock::duration saturating_duration(std::chrono::duration<Rep, Period> d) noexcept {
    using target = typename Clock::duration;
    // Compared in the coarser unit, which holds both limits without overflow.
    using coarse = std::conditional_t<(std::ratio_greater_v<Period, typename target::period>),
                                      std::chrono::duration<Rep, Period>, target>;
    if (std::chrono::duration_cast<coarse>(d) >= std::chrono::duration_cast<coarse>(target::max()))
        return target::max();
    if (std::chrono::duration_cast<coarse>(d) <= std::chrono::duration_cast<coarse>(target::min()))
        return target::min();
    return std::chrono::duration_cast<target>(d);
}

/// `t + d`, or the latest representable time when that would overflow.
template <class Clock, class Duration>
constexpr std::chrono::time_point<Clock, Duration> saturating_add(std::chrono::time_point<Clock, Duration> t,
                                                                  Duration d) noexcept {
    using tp = std::chrono::time_point<Clock, Duration>;
    if (d > Duration::zero() && t > tp::max() - d) return tp::max();
    if (d < Duration::zero() && t < tp::min() - d) return tp::min();
    return t + d;
}

}  // namespace nettrace::detail
