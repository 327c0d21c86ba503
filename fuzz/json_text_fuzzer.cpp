// Fuzz target: the exporters' text escaping (src/detail/json_text.hpp) —
// utf8_length, json_escape, xml_escape and json_object — on any bytes, as
// host names from a hosts file or error messages in a legacy locale are.
//
// Invariants: no crash, no sanitizer report; utf8_length agrees with an
// independent UTF-8 decoder at every offset; json_escape's output is valid
// JSON string content (valid UTF-8, no raw control byte, no unescaped '"',
// only JSON's escapes) that decodes back to the input with each byte of
// invalid UTF-8 as U+FFFD; xml_escape's output holds only characters XML 1.0
// allows and no raw markup, and unescapes back to the input with invalid
// UTF-8, forbidden controls, U+FFFE and U+FFFF as U+FFFD; a json_object
// with the input as key, string and array elements is one valid JSON object.
#include "../src/detail/json_text.hpp"

#include "check.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

// The code point of the well-formed UTF-8 sequence at s[i] and its length,
// decoded arithmetically (not by json_text's lead-byte ranges): shortest
// form, no surrogates, nothing above U+10FFFF.
struct decoded {
    char32_t cp;
    std::size_t length;
};
std::optional<decoded> decode(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    std::size_t n;
    char32_t cp;
    if (c < 0x80) return decoded{c, 1};
    if ((c & 0xE0) == 0xC0) {
        n = 2;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        cp = c & 0x07;
    } else {
        return std::nullopt;
    }
    if (i + n > s.size()) return std::nullopt;
    for (std::size_t k = 1; k < n; ++k) {
        if ((b(i + k) & 0xC0) != 0x80) return std::nullopt;
        cp = (cp << 6) | (b(i + k) & 0x3F);
    }
    static constexpr char32_t shortest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < shortest[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    return decoded{cp, n};
}

bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto d = decode(s, i);
        if (!d) return false;
        i += d->length;
    }
    return true;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// The input as the escapers promise to keep it: well-formed sequences as
// they are unless `allowed` refuses their code point, everything else U+FFFD.
template <class Allowed>
std::string sanitized(std::string_view s, Allowed allowed) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        const auto d = decode(s, i);
        if (d && allowed(d->cp))
            out.append(s.substr(i, d->length));
        else
            out += replacement;
        i += d ? d->length : 1;
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Reads JSON string content (RFC 8259, section 7) from text[i] up to the
// closing quote (not consumed) or the end; nullopt when it is not valid.
// Surrogate escapes are refused: json_escape never writes them.
std::optional<std::string> json_string_content(std::string_view text, std::size_t& i) {
    std::string out;
    while (i < text.size() && text[i] != '"') {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c < 0x20) return std::nullopt;
        if (c != '\\') {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        if (++i == text.size()) return std::nullopt;
        switch (text[i++]) {
            case '"':
                out += '"';
                break;
            case '\\':
                out += '\\';
                break;
            case '/':
                out += '/';
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'u': {
                if (i + 4 > text.size()) return std::nullopt;
                char32_t cp = 0;
                for (int k = 0; k < 4; ++k) {
                    const int h = hex_value(text[i++]);
                    if (h < 0) return std::nullopt;
                    cp = cp * 16 + static_cast<char32_t>(h);
                }
                if (cp >= 0xD800 && cp <= 0xDFFF) return std::nullopt;
                append_utf8(out, cp);
                break;
            }
            default:
                return std::nullopt;
        }
    }
    return out;
}

void check_json_escape(std::string_view in) {
    const std::string out = nettrace::detail::json_escape(in);
    FUZZ_CHECK(valid_utf8(out));
    for (char c : out) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F);
    std::size_t i = 0;
    const auto content = json_string_content(out, i);
    FUZZ_CHECK(content.has_value());
    FUZZ_CHECK(i == out.size());  // no unescaped '"' ends it early
    FUZZ_CHECK(*content == sanitized(in, [](char32_t) { return true; }));
}

// XML 1.0's Char production, for what valid UTF-8 can hold.
bool xml_char(char32_t cp) {
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp != 0xFFFE && cp != 0xFFFF);
}

void check_xml_escape(std::string_view in) {
    const std::string out = nettrace::detail::xml_escape(in);
    FUZZ_CHECK(valid_utf8(out));
    std::string unescaped;
    for (std::size_t i = 0; i < out.size();) {
        const auto d = decode(out, i);
        FUZZ_CHECK(d && xml_char(d->cp));
        FUZZ_CHECK(out[i] != '<' && out[i] != '>' && out[i] != '"' && out[i] != '\'');
        if (out[i] != '&') {
            unescaped.append(out, i, d->length);
            i += d->length;
            continue;
        }
        struct entity {
            std::string_view text;
            char c;
        };
        static constexpr entity entities[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        bool known = false;
        for (const auto& e : entities)
            if (std::string_view(out).substr(i, e.text.size()) == e.text) {
                unescaped += e.c;
                i += e.text.size();
                known = true;
                break;
            }
        FUZZ_CHECK(known);
    }
    FUZZ_CHECK(unescaped == sanitized(in, xml_char));
}

// A validator for the JSON json_object writes: objects, arrays, strings,
// numbers, true/false/null, no whitespace. Each reads one value at t[i] and
// moves i past it.
bool json_value(std::string_view t, std::size_t& i);

bool take(std::string_view t, std::size_t& i, char c) {
    if (i >= t.size() || t[i] != c) return false;
    ++i;
    return true;
}

bool json_string(std::string_view t, std::size_t& i) {
    return take(t, i, '"') && json_string_content(t, i) && take(t, i, '"');
}

// Members (a string, ':' and a value) or elements, separated by ',' up to
// `close`.
bool json_sequence(std::string_view t, std::size_t& i, char close, bool members) {
    if (take(t, i, close)) return true;
    do {
        if (members && !(json_string(t, i) && take(t, i, ':'))) return false;
        if (!json_value(t, i)) return false;
    } while (take(t, i, ','));
    return take(t, i, close);
}

bool json_object_text(std::string_view t, std::size_t& i) { return take(t, i, '{') && json_sequence(t, i, '}', true); }

bool json_value(std::string_view t, std::size_t& i) {
    if (i >= t.size()) return false;
    if (t[i] == '{') return json_object_text(t, i);
    if (t[i] == '"') return json_string(t, i);
    if (take(t, i, '[')) return json_sequence(t, i, ']', false);
    for (std::string_view word : {"true", "false", "null"})
        if (t.substr(i, word.size()) == word) {
            i += word.size();
            return true;
        }
    const std::size_t start = i;
    while (i < t.size() && ((t[i] >= '0' && t[i] <= '9') || t[i] == '.' || t[i] == '-')) ++i;
    return i > start;
}

void check_json_object(std::string_view in) {
    const std::string half(in.substr(0, in.size() / 2));
    nettrace::detail::json_object inner;
    inner.string(in, in).null("");
    nettrace::detail::json_object o;
    FUZZ_CHECK(o.empty());
    o.string(in, in)
        .string_or_null("opt", std::optional<std::string>(half))
        .string_or_null(half, std::nullopt)
        .strings("list", {std::string(in), half, ""})
        .integer(in, in.size())
        .number("n", static_cast<double>(in.size()) / 7.0, 3)
        .boolean(half, in.empty())
        .object(in, inner);
    FUZZ_CHECK(!o.empty());
    const std::string text = o.str();
    FUZZ_CHECK(valid_utf8(text));
    std::size_t i = 0;
    FUZZ_CHECK(json_object_text(text, i));
    FUZZ_CHECK(i == text.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    for (std::size_t i = 0; i < in.size(); ++i) {
        const auto d = decode(in, i);
        FUZZ_CHECK(nettrace::detail::utf8_length(in, i) == (d ? d->length : 0));
    }
    check_json_escape(in);
    check_xml_escape(in);
    check_json_object(in);
    return 0;
}
