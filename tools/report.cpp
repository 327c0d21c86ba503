// --json (report.hpp): the library's writer, one line per event as it happens.
#include "report.hpp"

#include "session.hpp"

#include <nettrace/export.hpp>

#include <optional>

namespace nettrace::tool {

namespace {

class json_writer final : public reporter {
public:
    explicit json_writer(std::ostream& out) : out_(out) {}

    // Flushed per line so that `| jq` sees a slow dial as it happens.
    void event(const dial_session& s, const nettrace::recorded_event& e) override {
        out_ << nettrace::to_json_line(e, s.count() > 1 ? std::optional(s.index()) : std::nullopt) << '\n'
             << std::flush;
    }

    void finished(const dial_session&) override {}

private:
    std::ostream& out_;
};

}  // namespace

std::unique_ptr<reporter> make_json_reporter(std::ostream& out) { return std::make_unique<json_writer>(out); }

}  // namespace nettrace::tool
