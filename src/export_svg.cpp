// The SVG waterfall (export.hpp): per dial a header and a summary, a bar per
// DNS family and per attempt (its proxy tunnel and TLS handshake on rows of
// their own under it), and a shared time axis in ms. The records become bars
// first (svg_record, one function per kind of bar), then the bars are laid
// out and drawn (write_svg_waterfall, one function per drawing step).
#include <nettrace/address.hpp>
#include <nettrace/export.hpp>

#include "detail/enum_names.hpp"
#include "detail/export_support.hpp"
#include "detail/json_text.hpp"
#include "detail/number_text.hpp"

#include <boost/asio/error.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace nettrace {
namespace detail {
namespace {

// ---------------------------------------------------------------------------
// The records as bars

struct svg_bar {
    std::string label;  // left of the bar
    double from_ms = 0, to_ms = 0;
    std::string colour;
    std::string note;  // right of the bar
    std::string tooltip;
    std::string css_class;  // "attempt won", "dns ipv6", ...
    bool bold = false;
    bool dashed = false;
    std::size_t attempt = 0;
};

struct svg_group {
    std::string header;
    std::string summary;
    std::vector<svg_bar> bars;
};

std::string_view outcome_colour(connect_outcome o) {
    // In the enumerators' order: won, lost, failed, superseded, cancelled,
    // connected (TCP up, a later stage pending).
    constexpr std::string_view colours[] = {"#2e7d32", "#f9a825", "#c62828", "#9e9e9e", "#616161", "#81c784"};
    return enum_name(o, colours, "#9e9e9e");
}

constexpr std::string_view dns_colour = "#1565c0", dns_failed_colour = "#ef9a9a", unfinished_colour = "#cfd8dc";

// An address in a list of them: IPv6 in brackets, so that the list reads
// like the endpoints elsewhere (there is no port to join it with here).
std::string address_text(const boost::asio::ip::address& a) {
    return a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
}

std::string header_of(const dial_record& r, std::size_t index, std::size_t count) {
    std::string header = record_title(r);
    if (count > 1) header += "  [dial " + std::to_string(index) + "]";
    return header;
}

std::string summary_of(const dial_record& r) {
    const auto* done = r.done();
    if (!done) return "unfinished";
    if (done->error) return "failed: " + done->description;
    return "connected to " + join_host_port(done->endpoint) + " in " + duration_text(done->at) + " (" +
           std::to_string(done->attempts.size()) + (done->attempts.size() == 1 ? " attempt)" : " attempts)");
}

// A bar for `e` (a done event) from `from` to the event's own time, both in
// ms since the record's start; the caller fills in the rest.
svg_bar bar_of(const recorded_event& e, double from, double offset_ms) {
    svg_bar b;
    b.from_ms = offset_ms + from;
    b.to_ms = offset_ms + to_ms(e.at);
    return b;
}

svg_bar dns_bar(const recorded_event& e, const recorded_event* dns_start, double offset_ms) {
    svg_bar b = bar_of(e, to_ms(span_start(dns_start, e)), offset_ms);
    const auto fam = std::string(to_string(*e.family));
    b.label = "dns " + fam;
    b.css_class = "dns " + fam;
    if (e.error == boost::asio::error::operation_aborted) {
        b.colour = unfinished_colour;
        b.note = "abandoned";
    } else if (e.error) {
        b.colour = dns_failed_colour;
        b.note = e.error.message();
    } else {
        b.colour = dns_colour;
        for (std::size_t i = 0; i < e.addrs.size(); ++i) b.note += (i ? ", " : "") + address_text(e.addrs[i]);
        b.note += " (" + std::string(to_string(e.source)) + (e.coalesced ? ", coalesced)" : ")");
    }
    b.tooltip =
        (*e.family == address_family::ipv6 ? "AAAA " : "A ") + e.host + ": " + b.note + ", " + duration_text(e.elapsed);
    return b;
}

// An attempt's bar (its connect, tunnel or handshake) by outcome: colour,
// css class, the winner in bold, a note that starts with "★ won" or the
// outcome, and the time taken.
void mark_outcome(svg_bar& b, const recorded_event& e, std::string_view kind) {
    const bool won = e.outcome == connect_outcome::won;
    b.attempt = e.attempt;
    const std::string outcome(to_string(e.outcome));
    b.colour = outcome_colour(e.outcome);
    b.note = (won ? "\u2605 won" : outcome) + " " + duration_text(e.elapsed);
    b.css_class = std::string(kind) + " " + outcome + (won ? " winner" : "");
    b.bold = won;
}

svg_bar connect_bar(const recorded_event& e, const recorded_event* start, double offset_ms) {
    svg_bar b = bar_of(e, to_ms(span_start(start, e)), offset_ms);
    const bool won = e.outcome == connect_outcome::won;
    b.label = attempt_label(e.attempt, e.endpoint);
    mark_outcome(b, e, "attempt");
    if (e.outcome == connect_outcome::failed && e.error) b.note += ": " + e.error.message();
    b.tooltip = b.label + ": " + std::string(to_string(e.outcome)) + (won ? " (the dial's connection)" : "") +
                " after " + duration_text(e.elapsed) + (e.error ? ", " + e.error.message() : "");
    if (start && start->nat64_from) b.tooltip += ", NAT64 for " + start->nat64_from->to_string();
    if (start && start->priority != 0) b.tooltip += ", HTTPS record priority " + std::to_string(start->priority);
    return b;
}

// A row of its own under the attempt's TCP row, as TLS has.
svg_bar proxy_bar(const recorded_event& e, double offset_ms) {
    svg_bar b = bar_of(e, to_ms(e.at - std::min(e.elapsed, e.at)), offset_ms);
    b.label = "#" + std::to_string(e.attempt) + " proxy";
    mark_outcome(b, e, "proxy");
    b.note += ", " + std::string(to_string(e.scheme)) + " to " + e.target;
    if (e.status >= 0) b.note += " (" + std::to_string(e.status) + (e.reason.empty() ? "" : " " + e.reason) + ")";
    if (e.error && e.outcome == connect_outcome::failed) b.note += ": " + e.error.message();
    b.tooltip = "#" + std::to_string(e.attempt) + " tunnel through " + e.proxy + ": " + b.note;
    return b;
}

// A row of its own under the attempt's TCP row (sorting by attempt keeps
// it there): the handshake, which decides the attempt.
svg_bar tls_bar(const recorded_event& e, double offset_ms) {
    svg_bar b = bar_of(e, to_ms(e.at - std::min(e.elapsed, e.at)), offset_ms);
    b.label = "#" + std::to_string(e.attempt) + " tls";
    mark_outcome(b, e, "tls");
    if (!e.tls_version.empty()) b.note += ", " + e.tls_version + (e.alpn.empty() ? "" : " " + e.alpn);
    if (e.error && e.outcome == connect_outcome::failed) b.note += ": " + e.error.message();
    if (!e.verify_error.empty()) b.note += " (" + e.verify_error + ")";
    b.tooltip = "#" + std::to_string(e.attempt) + " TLS handshake with " + join_host_port(e.endpoint) + ": " + b.note;
    return b;
}

// A connect whose done never came, up to the record's last event.
svg_bar unfinished_bar(std::size_t attempt, const recorded_event& start, double offset_ms, double end) {
    svg_bar b;
    b.label = attempt_label(attempt, start.endpoint);
    b.from_ms = offset_ms + to_ms(start.at);
    b.to_ms = offset_ms + end;
    b.colour = unfinished_colour;
    b.dashed = true;
    b.note = "unfinished";
    b.tooltip = b.label + ": unfinished";
    b.css_class = "attempt unfinished";
    b.attempt = attempt;
    return b;
}

svg_group svg_record(const dial_record& r, std::size_t index, std::size_t count, double offset_ms) {
    svg_group g{.header = header_of(r, index, count), .summary = summary_of(r), .bars = {}};
    std::map<std::size_t, const recorded_event*> open;
    const recorded_event* dns_start = nullptr;
    std::vector<svg_bar> dns, attempts;
    for (const auto& e : r.events) {
        switch (e.kind) {
            case event_kind::dns_start:
                dns_start = &e;
                break;
            case event_kind::dns_answer:
                if (e.family) dns.push_back(dns_bar(e, dns_start, offset_ms));
                break;
            case event_kind::connect_start:
                open[e.attempt] = &e;
                break;
            case event_kind::connect_done: {
                const auto it = open.find(e.attempt);
                attempts.push_back(connect_bar(e, it == open.end() ? nullptr : it->second, offset_ms));
                if (it != open.end()) open.erase(it);
                break;
            }
            case event_kind::proxy_connect_done:
                attempts.push_back(proxy_bar(e, offset_ms));
                break;
            case event_kind::tls_handshake_done:
                attempts.push_back(tls_bar(e, offset_ms));
                break;
            default:
                break;
        }
    }
    const double end = r.events.empty() ? 0.0 : to_ms(r.events.back().at);
    for (const auto& [attempt, e] : open) attempts.push_back(unfinished_bar(attempt, *e, offset_ms, end));
    // connect_done order is finishing order; rows read better in start order.
    std::stable_sort(attempts.begin(), attempts.end(),
                     [](const svg_bar& a, const svg_bar& b) { return a.attempt < b.attempt; });
    g.bars = std::move(dns);
    g.bars.insert(g.bars.end(), std::make_move_iterator(attempts.begin()), std::make_move_iterator(attempts.end()));
    return g;
}

// ---------------------------------------------------------------------------
// Drawing

std::string px(double v) { return fixed(v, 1); }

// Monospace metrics are only estimated (the viewer picks the font); a
// generous character width keeps labels from running into the bars.
constexpr double char_w = 7.4, row_h = 22, bar_h = 12, pad = 12, plot_w = 560, font = 12;
constexpr std::size_t max_note_chars = 60;

// Where things go: the plot's left edge and the image's width, from the
// longest label, note and header; `total` ms span the plot.
struct svg_layout {
    double total;
    double plot_x;
    double width;

    double x_of(double ms) const { return plot_x + ms / total * plot_w; }
};

svg_layout measure(const std::vector<svg_group>& groups, double total) {
    std::size_t label_chars = 8, note_chars = 10, header_chars = 20;
    for (const auto& g : groups) {
        header_chars = std::max({header_chars, g.header.size(), g.summary.size()});
        for (const auto& b : g.bars) {
            label_chars = std::max(label_chars, b.label.size());
            note_chars = std::max(note_chars, b.note.size());
        }
    }
    note_chars = std::min(note_chars, max_note_chars);
    const double plot_x = pad + double(label_chars) * char_w + pad;
    const double width =
        std::max(plot_x + plot_w + pad + double(note_chars) * char_w + pad, pad + double(header_chars) * char_w + pad);
    return {.total = total, .plot_x = plot_x, .width = width};
}

// At most max_note_chars bytes, cut on a UTF-8 boundary: never inside a
// multi-byte character.
std::string shortened(std::string note) {
    if (note.size() <= max_note_chars) return note;
    std::size_t cut = max_note_chars - 3;
    while (cut > 0 && (static_cast<unsigned char>(note[cut]) & 0xC0) == 0x80) --cut;
    return note.substr(0, cut) + "...";
}

// One row: the label, the bar (its tooltip inside), the note.
void draw_bar(std::string& body, const svg_layout& l, const svg_bar& b, double y) {
    const double x0 = l.x_of(b.from_ms);
    const double w = std::max(2.0, l.x_of(b.to_ms) - x0);  // a 40 µs connect still shows
    const double mid = y + row_h / 2;
    body += "<g class=\"row\">\n";
    body += "<text x=\"" + px(pad) + "\" y=\"" + px(mid + font / 3) + "\"" + (b.bold ? " font-weight=\"bold\"" : "") +
            ">" + xml_escape(b.label) + "</text>\n";
    body += "<rect class=\"bar " + xml_escape(b.css_class) + "\" x=\"" + px(x0) + "\" y=\"" + px(mid - bar_h / 2) +
            "\" width=\"" + px(w) + "\" height=\"" + px(bar_h) + "\" rx=\"2\" fill=\"" + b.colour + "\"" +
            (b.bold ? " stroke=\"#1b5e20\" stroke-width=\"2\"" : "") +
            (b.dashed ? " stroke=\"#607d8b\" stroke-dasharray=\"4 2\"" : "") + "><title>" + xml_escape(b.tooltip) +
            "</title></rect>\n";
    body += "<text x=\"" + px(l.plot_x + plot_w + pad) + "\" y=\"" + px(mid + font / 3) + "\" fill=\"" +
            (b.bold ? "#1b5e20" : "#424242") + "\"" + (b.bold ? " font-weight=\"bold\"" : "") + ">" +
            xml_escape(shortened(b.note)) + "</text>\n";
    body += "</g>\n";
}

// One dial: its header, its summary, its rows; `y` moves past them.
void draw_group(std::string& body, const svg_layout& l, const svg_group& g, double& y) {
    body += "<g class=\"dial\">\n";
    body += "<text x=\"" + px(pad) + "\" y=\"" + px(y + font) + "\" font-weight=\"bold\">" + xml_escape(g.header) +
            "</text>\n";
    y += row_h;
    body += "<text x=\"" + px(pad) + "\" y=\"" + px(y + font) + "\" fill=\"#424242\">" + xml_escape(g.summary) +
            "</text>\n";
    y += row_h;
    for (const auto& b : g.bars) {
        draw_bar(body, l, b, y);
        y += row_h;
    }
    body += "</g>\n";
    y += row_h / 2;
}

// Axis ticks at 1, 2 or 5 times a power of ten, about six of them.
double tick_step(double total) {
    const double raw = total / 6.0;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / mag;
    return mag * (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0);
}

// The time axis at `axis_y`: ticks, grid lines over the plot, the unit.
std::string draw_axis(const svg_layout& l, double axis_y, bool several_dials) {
    const double plot_top = pad;
    std::string axis = "<g class=\"axis\">\n";
    axis += "<line x1=\"" + px(l.plot_x) + "\" y1=\"" + px(axis_y) + "\" x2=\"" + px(l.plot_x + plot_w) + "\" y2=\"" +
            px(axis_y) + "\" stroke=\"#616161\"/>\n";
    const double step = tick_step(l.total);
    const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step)));
    for (int i = 0;; ++i) {
        const double t = step * i;
        if (t > l.total * 1.0001) break;
        const double x = l.x_of(t);
        axis += "<line x1=\"" + px(x) + "\" y1=\"" + px(plot_top) + "\" x2=\"" + px(x) + "\" y2=\"" + px(axis_y + 4) +
                "\" stroke=\"#e0e0e0\"/>\n";
        axis += "<text x=\"" + px(x) + "\" y=\"" + px(axis_y + 4 + font) + "\" text-anchor=\"middle\">" +
                fixed(t, decimals) + "</text>\n";
    }
    axis += "<text x=\"" + px(l.plot_x + plot_w) + "\" y=\"" + px(axis_y + 4 + 2 * font + 4) +
            "\" text-anchor=\"end\" fill=\"#424242\">ms since the " + (several_dials ? "first " : "") +
            "dial started</text>\n";
    axis += "</g>\n";
    return axis;
}

void write_document(std::ostream& out, double width, double height, const std::string& axis, const std::string& body) {
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << px(width) << "\" height=\"" << px(height)
        << "\" viewBox=\"0 0 " << px(width) << ' ' << px(height) << "\" font-family=\"ui-monospace, Menlo, Consolas, "
        << "'DejaVu Sans Mono', monospace\" font-size=\"" << px(font) << "\">\n"
        << "<title>nettrace dial waterfall</title>\n"
        << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        << axis << body << "</svg>\n";
}

}  // namespace
}  // namespace detail

void write_svg_waterfall(std::ostream& out, std::span<const dial_record> dials) {
    using namespace detail;
    const auto base = earliest_start(dials);
    std::vector<svg_group> groups;
    double total = 0;
    for (std::size_t i = 0; i < dials.size(); ++i) {
        const auto& r = dials[i];
        const double offset = r.events.empty() ? 0.0 : to_ms(r.started - base);
        groups.push_back(svg_record(r, i, dials.size(), offset));
        if (!r.events.empty()) total = std::max(total, offset + to_ms(r.events.back().at));
    }
    if (total <= 0) total = 1;

    const svg_layout layout = measure(groups, total);
    std::string body;
    double y = pad;
    for (const auto& g : groups) draw_group(body, layout, g, y);
    const std::string axis = draw_axis(layout, y, groups.size() > 1);
    const double height = y + 4 + 2 * font + 4 + pad;
    write_document(out, layout.width, height, axis, body);
}

void write_svg_waterfall(std::ostream& out, const dial_record& dial) { write_svg_waterfall(out, {&dial, 1}); }

}  // namespace nettrace
