// Numbers and durations as text: fixed decimals whatever the locale, and the
// one duration formatter of the library (the exporters' notes, timings'
// to_string). nettrace-dial (tools/) prints durations the same way.
#pragma once

#include <chrono>
#include <string>

namespace nettrace::detail {

inline double to_ms(std::chrono::steady_clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}
inline double to_us(std::chrono::steady_clock::duration d) {
    return std::chrono::duration<double, std::micro>(d).count();
}

/// `value` with `decimals` digits after the point, "12.500". std::to_chars,
/// not printf: a program that called setlocale() with a decimal comma must
/// still get valid JSON (and the same text as everyone else).
std::string fixed(double value, int decimals);

/// How a duration reads. Both styles are published output (the SVG notes
/// and nettrace-dial's log, timings' to_string), so both are kept as they
/// have always been; they differ only below 1 ms and at zero:
enum class duration_style {
    /// One measured span ("0.042 ms", "250.3 ms"): three decimals below
    /// 1 ms, so that loopback connects (tens of µs) do not all read 0.0;
    /// zero is "0.000 ms", a span that took no time.
    span,
    /// A curl-style phase of to_string(timings) ("0.04 ms", "250.3 ms"):
    /// two decimals below 1 ms; zero is "0 ms", a phase that did not happen
    /// (no lookup for an IP literal, no TLS without dial_tls).
    phase,
};

/// `d` in milliseconds with the unit: one decimal from 1 ms up, more below
/// (see duration_style).
std::string duration_text(std::chrono::steady_clock::duration d, duration_style style = duration_style::span);

}  // namespace nettrace::detail
