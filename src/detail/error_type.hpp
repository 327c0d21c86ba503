// error.type for the exporters and the metrics adapters: a stable,
// low-cardinality name for an error code, as OpenTelemetry asks of that
// attribute (never the message, which is localised and variable).
#pragma once

#include <boost/system/error_code.hpp>

#include <string>

namespace nettrace::detail {

/// nettrace's own codes by their name in the error table (error_table.hpp:
/// "no_addresses", "timeout", ...); the common system codes by a fixed name
/// ("connection_refused", "timed_out", "operation_aborted", ...); anything
/// else as "category:value" ("asio.ssl:167772294").
std::string error_type(const boost::system::error_code& ec);

}  // namespace nettrace::detail
