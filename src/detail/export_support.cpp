// What the exporters share (export_support.hpp).
#include "export_support.hpp"

#include <nettrace/address.hpp>

#include <algorithm>
#include <optional>

namespace nettrace::detail {

using clock = std::chrono::steady_clock;

std::vector<std::string> address_strings(const std::vector<boost::asio::ip::address>& addrs) {
    std::vector<std::string> out;
    out.reserve(addrs.size());
    for (const auto& a : addrs) out.push_back(a.to_string());
    return out;
}

clock::duration span_start(const recorded_event* start, const recorded_event& done) {
    if (start && start->at <= done.at) return start->at;
    return done.at - std::min(done.elapsed, done.at);
}

clock::time_point earliest_start(std::span<const dial_record> dials) {
    std::optional<clock::time_point> base;
    for (const auto& r : dials)
        if (!r.events.empty() && (!base || r.started < *base)) base = r.started;
    return base.value_or(clock::time_point{});
}

std::string record_title(const dial_record& r) {
    const recorded_event* first = r.events.empty() ? nullptr : &r.events.front();
    if (const auto* done = r.done()) return "dial " + done->network + " " + done->address;
    if (first && first->kind == event_kind::dial_start) return "dial " + first->network + " " + first->address;
    if (first && first->kind == event_kind::dns_start) return "resolve " + first->host;
    return "dial";
}

std::string attempt_label(std::size_t attempt, const boost::asio::ip::tcp::endpoint& endpoint) {
    return "#" + std::to_string(attempt) + " " + join_host_port(endpoint);
}

}  // namespace nettrace::detail
