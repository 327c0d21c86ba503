// Numbers and durations as text (number_text.hpp).
#include "number_text.hpp"

#include <charconv>

namespace nettrace::detail {

std::string fixed(double value, int decimals) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, decimals);
    return std::string(buf, r.ptr);
}

std::string duration_text(std::chrono::steady_clock::duration d, duration_style style) {
    if (style == duration_style::phase && d == d.zero()) return "0 ms";
    const double ms = to_ms(d);
    const int below_1ms = style == duration_style::phase ? 2 : 3;
    return fixed(ms, ms < 1.0 ? below_1ms : 1) + " ms";
}

}  // namespace nettrace::detail
