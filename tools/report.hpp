// How nettrace-dial shows its dials: the reporter interface that every
// output form implements, and its plainest form, JSON lines. The timeline
// (timeline.hpp) is the other.
#pragma once

#include <nettrace/recorder.hpp>

#include <memory>
#include <ostream>
#include <span>

namespace nettrace::tool {

class dial_session;

/// Told of each dial's events as they happen, so that a slow dial is seen
/// while it is slow, not only when it is over.
class reporter {
public:
    virtual ~reporter() = default;
    virtual void started(const dial_session&) {}
    virtual void event(const dial_session&, const nettrace::recorded_event&) = 0;
    virtual void finished(const dial_session&) = 0;
    virtual void all_finished(std::span<const std::unique_ptr<dial_session>>) {}
};

/// --json: the library's to_json_line, one line per event; with --count
/// or --repeat each line names its dial.
std::unique_ptr<reporter> make_json_reporter(std::ostream& out);

}  // namespace nettrace::tool
