// nettrace-dial's default output: a timeline of every DNS answer, connect,
// proxy tunnel and TLS handshake, then a waterfall of the attempts (as
// httpstat draws one) and the result.
#pragma once

#include "report.hpp"

#include <cstddef>
#include <memory>
#include <ostream>

namespace nettrace::tool {

/// Rows are printed as they happen for one dial or `sequential` ones
/// (--repeat), and each dial's at its end for concurrent ones (--count);
/// `unicode` draws the waterfall in block characters rather than ASCII.
std::unique_ptr<reporter> make_timeline_reporter(std::ostream& out, std::size_t dials, bool sequential, bool unicode);

/// Whether the locale says the terminal takes UTF-8 (POSIX order: LC_ALL,
/// then LC_CTYPE, then LANG).
bool utf8_locale();

}  // namespace nettrace::tool
