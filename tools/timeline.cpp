// The timeline and the waterfall (timeline.hpp).
#include "timeline.hpp"

#include "session.hpp"
#include "text.hpp"

#include <nettrace/types.hpp>

#include <boost/asio/error.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nettrace::tool {

namespace {

using nettrace::event_kind;
using steady = std::chrono::steady_clock;

class timeline_writer final : public reporter {
public:
    // A single dial, or dials in turn, is printed as it happens, so a
    // hanging attempt is visible while it hangs; concurrent dials are
    // buffered and printed whole, since interleaved rows would be unreadable.
    timeline_writer(std::ostream& out, std::size_t dials, bool sequential, bool unicode)
        : out_(out), live_(dials == 1 || sequential), unicode_(unicode), views_(dials) {}

    void started(const dial_session& s) override {
        std::string header = "dial " + s.network() + " " + s.address();
        if (s.count() > 1) header += "  [dial " + std::to_string(s.index()) + "]";
        write(s, header + "\n");
    }

    void event(const dial_session& s, const nettrace::recorded_event& e) override {
        auto& v = views_[s.index()];
        if (e.kind == event_kind::dns_done) v.dns_done = e.at;
        if (e.kind == event_kind::tls_handshake_done) v.tls.push_back({e.attempt, e.at - e.elapsed, e.at});
        if (e.kind == event_kind::proxy_connect_done) v.proxy.push_back({e.attempt, e.at - e.elapsed, e.at});
        write(s, row(e));
    }

    void finished(const dial_session& s) override {
        const auto& r = s.result();
        std::string text = waterfall(views_[s.index()], r);
        if (!r.error) {
            text += "connected to " +
                    (is_unix(r) ? r.address : endpoint_text(r.endpoint) + " from " + endpoint_text(r.local)) + " in " +
                    duration_text(r.at) + " (" + plural(r.attempts.size(), "attempt", "attempts");
            if (!r.tls_version.empty()) text += "; " + r.tls_version + (r.alpn.empty() ? "" : ", " + r.alpn);
            text += ")\n";
        } else {
            text += "failed: " + r.description + "\n";
            std::size_t width = 0;
            for (std::size_t i = 0; i < r.attempts.size(); ++i) width = std::max(width, attempt_label(r, i).size());
            for (std::size_t i = 0; i < r.attempts.size(); ++i) {
                const auto& a = r.attempts[i];
                text += "  " + pad_right(attempt_label(r, i), width) + "  " +
                        std::string(nettrace::to_string(a.outcome)) + " after " + duration_text(a.elapsed);
                if (a.error && a.outcome == nettrace::connect_outcome::failed) text += ": " + a.error.message();
                text += "\n";
            }
        }
        write(s, text);
        const std::string_view gap = s.index() + 1 < views_.size() ? "\n" : "";  // before the next dial
        if (live_) {
            out_ << gap << std::flush;
        } else {
            out_ << views_[s.index()].pending << gap << std::flush;
            views_[s.index()].pending.clear();
        }
    }

    void all_finished(std::span<const std::unique_ptr<dial_session>> sessions) override {
        if (sessions.size() < 2) return;
        std::size_t ok = 0;
        std::vector<steady::duration> times;
        for (const auto& s : sessions)
            if (s->ok()) {
                ++ok;
                times.push_back(s->result().at);
            }
        out_ << "\n"
             << plural(sessions.size(), "dial", "dials") << ": " << ok << " connected, " << sessions.size() - ok
             << " failed";
        if (!times.empty()) {
            std::sort(times.begin(), times.end());
            out_ << "; time to connect min " << duration_text(times.front()) << ", median "
                 << duration_text(times[times.size() / 2]) << ", max " << duration_text(times.back());
        }
        out_ << "\n" << std::flush;
    }

private:
    static constexpr std::size_t terminal_width = 80;
    static constexpr std::size_t outcome_width = 16;  // "proxy superseded"

    struct tls_span {
        std::size_t attempt;
        steady::duration from, to;
    };
    struct view {
        std::string pending;
        std::optional<steady::duration> dns_done;
        std::vector<tls_span> tls;    // each attempt's handshake, drawn on its bar
        std::vector<tls_span> proxy;  // each attempt's tunnel, drawn between its connect and TLS
    };

    // A unix dial's events name its path (address), not an endpoint.
    static bool is_unix(const nettrace::recorded_event& e) { return e.network == "unix"; }
    static std::string peer_text(const nettrace::recorded_event& e) {
        return is_unix(e) ? e.address : endpoint_text(e.endpoint);
    }

    // "#0 127.0.0.1:80": attempt i of the dial whose dial_done is `r`.
    static std::string attempt_label(const nettrace::recorded_event& r, std::size_t i) {
        return "#" + std::to_string(i) + " " + (is_unix(r) ? r.address : endpoint_text(r.attempts[i].endpoint));
    }

    void write(const dial_session& s, const std::string& text) {
        if (live_)
            out_ << text << std::flush;
        else
            views_[s.index()].pending += text;
    }

    // One line per DNS and connect event; the header and the summary stand
    // for dial_start and dial_done.
    static std::string row(const nettrace::recorded_event& e) {
        std::string who = "dns", what, detail;
        switch (e.kind) {
            case event_kind::dial_start:
            case event_kind::dial_done:
                return {};
            case event_kind::tls_handshake_start:
                who = "#" + std::to_string(e.attempt);
                what = "tls start";
                detail = e.server_name.empty() ? endpoint_text(e.endpoint) : e.server_name;
                break;
            case event_kind::tls_handshake_done:
                who = "#" + std::to_string(e.attempt);
                what = "tls " + std::string(nettrace::to_string(e.outcome));
                detail = e.error ? e.error.message() : e.tls_version + (e.alpn.empty() ? "" : " " + e.alpn);
                if (!e.verify_error.empty()) detail += " (" + e.verify_error + ")";
                detail += "  (" + duration_text(e.elapsed) + ")";
                break;
            case event_kind::proxy_connect_start:
                who = "#" + std::to_string(e.attempt);
                what = "proxy start";
                detail =
                    std::string(nettrace::to_string(e.scheme)) + " " + endpoint_text(e.endpoint) + " to " + e.target;
                break;
            case event_kind::proxy_connect_done:
                who = "#" + std::to_string(e.attempt);
                what = "proxy " + std::string(nettrace::to_string(e.outcome));
                if (e.status >= 0)
                    detail = (e.scheme == nettrace::proxy_scheme::http ? "" : "reply ") + std::to_string(e.status) +
                             (e.reason.empty() ? "" : " " + e.reason);
                if (e.error) detail += (detail.empty() ? "" : ": ") + e.error.message();
                detail += "  (" + duration_text(e.elapsed) + ")";
                break;
            case event_kind::dns_start:
                what = "start";
                detail = e.host;
                break;
            case event_kind::dns_answer:
                what = e.https ? "https" : std::string(nettrace::to_string(*e.family));
                if (e.error == boost::asio::error::operation_aborted) {
                    detail = "abandoned (the dial no longer needed it)";
                    break;
                }
                if (e.error) {
                    detail = e.error.message();
                } else if (e.https) {
                    for (std::size_t i = 0; i < e.records.size(); ++i)
                        detail += (i ? "; " : "") + nettrace::to_string(e.records[i]);
                } else {
                    for (std::size_t i = 0; i < e.addrs.size(); ++i)
                        detail += (i ? ", " : "") + address_text(e.addrs[i]);
                }
                if (e.https) detail = e.host + ": " + (detail.empty() ? "no records" : detail);
                detail += std::string(" (") + std::string(nettrace::to_string(e.source)) +
                          (e.coalesced ? ", coalesced)" : ")");
                break;
            case event_kind::dns_done:
                what = "done";
                detail = e.error ? e.error.message() : plural(e.addrs.size(), "address", "addresses");
                break;
            case event_kind::connect_start:
            case event_kind::connect_done:
                who = "#" + std::to_string(e.attempt);
                what = e.kind == event_kind::connect_start ? "start" : std::string(nettrace::to_string(e.outcome));
                detail = peer_text(e);
                if (e.nat64_from) detail += " (NAT64 for " + e.nat64_from->to_string() + ")";
                if (e.kind == event_kind::connect_start && e.order_reason != nettrace::attempt_reason::resolver_order &&
                    e.order_reason != nettrace::attempt_reason::interleave)
                    detail += "  (" + std::string(nettrace::to_string(e.order_reason)) + ")";
                if (e.priority != 0) {
                    detail += "  https priority " + std::to_string(e.priority);
                    for (std::size_t i = 0; i < e.offered_alpn.size(); ++i)
                        detail += (i ? "," : " alpn ") + e.offered_alpn[i];
                }
                if (e.kind == event_kind::connect_done) {
                    detail += "  (" + duration_text(e.elapsed) + ")";
                    if (e.outcome == nettrace::connect_outcome::failed) detail += "  " + e.error.message();
                }
                break;
        }
        return "  " + pad_left(fixed(to_ms(e.at), 3), 9) + " ms  " + pad_right(who, 4) + " " +
               pad_right(what, outcome_width) + "  " + detail + "\n";
    }

    std::string waterfall(const view& v, const nettrace::recorded_event& r) const {
        struct bar {
            std::string label;
            steady::duration from, to;
            std::string_view note;
            std::optional<std::pair<steady::duration, steady::duration>> tls;    // drawn lighter
            std::optional<std::pair<steady::duration, steady::duration>> proxy;  // between the two
        };
        std::vector<bar> bars;
        if (v.dns_done) bars.push_back({"dns", {}, *v.dns_done, {}, {}, {}});
        for (std::size_t i = 0; i < r.attempts.size(); ++i) {
            const auto& a = r.attempts[i];
            bar b{attempt_label(r, i), a.started, a.started + a.elapsed, nettrace::to_string(a.outcome), {}, {}};
            for (const auto& t : v.tls)
                if (t.attempt == i) b.tls = std::pair{t.from, t.to};
            for (const auto& t : v.proxy)
                if (t.attempt == i) b.proxy = std::pair{t.from, t.to};
            bars.push_back(std::move(b));
        }
        if (bars.empty()) return {};

        steady::duration total = r.at;
        std::size_t label_width = 0;
        for (const auto& b : bars) {
            total = std::max(total, b.to);
            label_width = std::max(label_width, b.label.size());
        }
        // "  label |bars| outcome" fills the terminal; a long IPv6 label
        // squeezes the bars, but never below a readable minimum.
        const std::size_t fixed_part = 2 + label_width + 2 + 2 + outcome_width;
        const std::size_t width = fixed_part + 20 < terminal_width ? terminal_width - fixed_part : 20;
        const auto cell = [&](steady::duration d, bool round_up) {
            if (total <= steady::duration::zero()) return std::size_t{0};
            const double x = static_cast<double>(d.count()) / static_cast<double>(total.count()) * double(width);
            const auto c = static_cast<std::size_t>(round_up ? std::ceil(x) : std::floor(x));
            return std::min(c, width);
        };
        const std::string_view full = unicode_ ? "\u2588" : "#";
        const std::string_view light = unicode_ ? "\u2592" : "=";  // the TLS handshake
        const std::string_view dark = unicode_ ? "\u2593" : "+";   // the proxy tunnel

        std::string text = "\n";
        for (const auto& b : bars) {
            std::size_t from = cell(b.from, false), to = cell(b.to, true);
            // Every span gets at least one cell, however short it was.
            if (to <= from) {
                from = std::min(from, width - 1);
                to = from + 1;
            }
            std::string line = "  " + pad_right(b.label, label_width) + " |" + std::string(from, ' ');
            const std::size_t tls_from = b.tls ? std::max(from, std::min(cell(b.tls->first, false), to - 1)) : to;
            const std::size_t proxy_from =
                b.proxy ? std::max(from, std::min(cell(b.proxy->first, false), to - 1)) : tls_from;
            for (std::size_t i = from; i < to; ++i) line += i >= tls_from ? light : i >= proxy_from ? dark : full;
            line += std::string(width - to, ' ') + "|";
            if (!b.note.empty()) line += " " + std::string(b.note);
            text += line + "\n";
        }
        text += std::string(2 + label_width + 2, ' ') + "0" + pad_left(duration_text(total), width - 1) + "\n\n";
        return text;
    }

    std::ostream& out_;
    bool live_;
    bool unicode_;
    std::vector<view> views_;
};

}  // namespace

std::unique_ptr<reporter> make_timeline_reporter(std::ostream& out, std::size_t dials, bool sequential, bool unicode) {
    return std::make_unique<timeline_writer>(out, dials, sequential, unicode);
}

bool utf8_locale() {
    for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
        const char* value = std::getenv(name);
        if (value && *value) {
            const auto v = lowercase(value);
            return v.find("utf-8") != std::string::npos || v.find("utf8") != std::string::npos;
        }
    }
    return false;
}

}  // namespace nettrace::tool
