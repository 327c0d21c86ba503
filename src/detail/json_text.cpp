// Text for the exporters' formats (json_text.hpp): UTF-8 validation, JSON
// and XML escaping, the JSON object writer.
#include "json_text.hpp"

#include "number_text.hpp"

#include <cstddef>
#include <string_view>
#include <utility>

namespace nettrace::detail {

std::size_t utf8_length(std::string_view s, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const auto continuation = [&](std::size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
    const unsigned char c = byte(i);
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return continuation(i + 1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF)
        return continuation(i + 1) && continuation(i + 2) && !(c == 0xE0 && byte(i + 1) < 0xA0) &&
                       !(c == 0xED && byte(i + 1) > 0x9F)
                   ? 3
                   : 0;
    if (c >= 0xF0 && c <= 0xF4)
        return continuation(i + 1) && continuation(i + 2) && continuation(i + 3) &&
                       !(c == 0xF0 && byte(i + 1) < 0x90) && !(c == 0xF4 && byte(i + 1) > 0x8F)
                   ? 4
                   : 0;
    return 0;
}

namespace {

// The walk both escapers share: `invalid()` for each byte that starts no
// valid UTF-8 sequence, `sequence(seq)` for each valid one of 2 to 4 bytes,
// `ascii(c)` for each other byte.
template <class Invalid, class Sequence, class Ascii>
void for_each_utf8(std::string_view s, Invalid invalid, Sequence sequence, Ascii ascii) {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_length(s, i);
        if (n == 0)
            invalid();
        else if (n > 1)
            sequence(s.substr(i, n));
        else
            ascii(static_cast<unsigned char>(s[i]));
        i += n == 0 ? 1 : n;
    }
}

// A format's escapes: {character, what stands for it}.
using escape = std::pair<char, std::string_view>;
constexpr escape json_escapes[] = {{'"', "\\\""}, {'\\', "\\\\"}, {'\n', "\\n"}, {'\r', "\\r"},
                                   {'\t', "\\t"}, {'\b', "\\b"},  {'\f', "\\f"}};
constexpr escape xml_escapes[] = {{'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}, {'\'', "&apos;"}};

// What stands for `c` in `table`, or null when it has no escape there.
template <std::size_t N>
const std::string_view* escape_of(const escape (&table)[N], unsigned char c) {
    for (const auto& e : table)
        if (static_cast<unsigned char>(e.first) == c) return &e.second;
    return nullptr;
}

}  // namespace

std::string json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 8);
    for_each_utf8(
        s, [&] { out += "\\ufffd"; }, [&](std::string_view seq) { out.append(seq); },
        [&](unsigned char c) {
            if (const auto* e = escape_of(json_escapes, c)) {
                out += *e;
            } else if (c < 0x20 || c == 0x7F) {
                static constexpr char hex[] = "0123456789abcdef";
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0xF];
            } else {
                out += static_cast<char>(c);
            }
        });
    return out;
}

std::string xml_escape(std::string_view s) {
    static constexpr std::string_view replacement = "\xEF\xBF\xBD";
    std::string out;
    out.reserve(s.size() + 8);
    for_each_utf8(
        s, [&] { out += replacement; },
        [&](std::string_view seq) { out += seq == "\xEF\xBF\xBE" || seq == "\xEF\xBF\xBF" ? replacement : seq; },
        [&](unsigned char c) {
            if (const auto* e = escape_of(xml_escapes, c))
                out += *e;
            else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                out += replacement;
            else
                out += static_cast<char>(c);
        });
    return out;
}

// ---------------------------------------------------------------------------
// json_object

json_object& json_object::string(std::string_view key, std::string_view value) {
    name(key);
    text_ += '"' + json_escape(value) + '"';
    return *this;
}

json_object& json_object::string_or_null(std::string_view key, const std::optional<std::string>& value) {
    return value ? string(key, *value) : null(key);
}

json_object& json_object::number(std::string_view key, double value, int decimals) {
    name(key);
    text_ += fixed(value, decimals);
    return *this;
}

json_object& json_object::integer(std::string_view key, std::uint64_t value) {
    name(key);
    text_ += std::to_string(value);
    return *this;
}

json_object& json_object::boolean(std::string_view key, bool value) {
    name(key);
    text_ += value ? "true" : "false";
    return *this;
}

json_object& json_object::null(std::string_view key) {
    name(key);
    text_ += "null";
    return *this;
}

json_object& json_object::strings(std::string_view key, const std::vector<std::string>& values) {
    name(key);
    text_ += '[';
    for (std::size_t i = 0; i < values.size(); ++i) text_ += (i ? ",\"" : "\"") + json_escape(values[i]) + '"';
    text_ += ']';
    return *this;
}

json_object& json_object::object(std::string_view key, const json_object& value) {
    name(key);
    text_ += value.str();
    return *this;
}

void json_object::name(std::string_view key) {
    text_ += first_ ? "\"" : ",\"";
    first_ = false;
    text_ += json_escape(key) + "\":";
}

}  // namespace nettrace::detail
