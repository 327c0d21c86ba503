// nettrace/export.hpp — writes dial_records (recorder.hpp) in formats other
// tools read: JSON lines (jq), the Chrome trace-event format (Perfetto,
// chrome://tracing) and an SVG waterfall (any browser, a README).
//
// Every writer is a pure function of its records: call it from any thread,
// as long as no dial is still filling those records. Text from the network
// or the system (host names, error messages) is escaped: invalid UTF-8
// becomes U+FFFD, so the output is valid JSON or XML whatever the bytes.
// The writers report nothing themselves; check the stream (out.fail()) to
// learn whether writing succeeded.
//
// Attribute names in the Chrome trace follow the OpenTelemetry semantic
// conventions where one exists (dns.question.name, network.peer.address,
// network.type, error.type, ...); the others start with "nettrace.". See
// docs/tracing.md, "Exporters".
#pragma once

#include <nettrace/recorder.hpp>

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>

namespace nettrace {

/// One event as a JSON object on one line, without the newline: the format
/// of `nettrace-dial --json`. "event" is the hook's name, except that
/// dial_done is "result"; then "dial" (when `dial` is set: the dial's index
/// among several), "t_ms" (event time since dial_start, in ms) and the
/// event's fields:
///
///     {"event":"connect_done","t_ms":250.306,"network":"tcp","address":"127.0.0.1",
///      "port":55873,"attempt":1,"error":null,"outcome":"won","elapsed_ms":0.161}
///
/// For streaming, call it from with_recording's callback.
std::string to_json_line(const recorded_event& e, std::optional<std::size_t> dial = std::nullopt);

/// Writes every event of `record`, one to_json_line per line.
void write_json_lines(std::ostream& out, const dial_record& record, std::optional<std::size_t> dial = std::nullopt);

/// Writes a Chrome trace-event JSON document ({"traceEvents":[...],
/// "displayTimeUnit":"ms"}) for Perfetto (ui.perfetto.dev) or
/// chrome://tracing. Each dial is a process (pid 1, 2, ... in `dials`
/// order) with tracks (threads, named by metadata events): the dial, the
/// whole DNS lookup, each DNS family, the TLS handshake, and one per connect
/// attempt; every span is a complete event ("ph":"X", ts and dur in µs from
/// the earliest dial's start). The winner's span and track say "won", and
/// its args hold "nettrace.outcome":"won". A span whose end was not recorded
/// (a record taken mid-dial) ends at the record's last event and is marked
/// "unfinished".
void write_chrome_trace(std::ostream& out, std::span<const dial_record> dials);
void write_chrome_trace(std::ostream& out, const dial_record& dial);

/// Writes a self-contained SVG image (no external CSS, fonts or scripts) of
/// the dials as a waterfall: per dial a header, a bar per DNS family and per
/// connect attempt labelled with its endpoint, coloured and labelled by
/// outcome, the winner in bold with a marker, and a shared time axis in ms.
/// Hovering a bar shows its details (SVG <title>).
void write_svg_waterfall(std::ostream& out, std::span<const dial_record> dials);
void write_svg_waterfall(std::ostream& out, const dial_record& dial);

}  // namespace nettrace
