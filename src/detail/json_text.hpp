// Text for the exporters' formats: UTF-8 validation, JSON string and XML
// escaping, and the writer of one JSON object. Text from the network or the
// OS may hold any bytes (an error message in a legacy locale, a host name
// from a hosts file); what these functions write is valid UTF-8 whatever
// they are given. fuzz/json_text_fuzzer.cpp checks that on arbitrary input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nettrace::detail {

/// Length of the well-formed UTF-8 sequence (RFC 3629) starting at s[i]
/// (i < s.size()), or 0: no overlongs, no surrogates, nothing above U+10FFFF.
std::size_t utf8_length(std::string_view s, std::size_t i);

/// The body of a JSON string (without quotes): '"', '\\' and the controls
/// (C0 and DEL) escaped, each byte of invalid UTF-8 as \ufffd.
std::string json_escape(std::string_view s);

/// Text or attribute content for XML 1.0: markup escaped, and what XML cannot
/// hold at all (most C0 controls, U+FFFE, U+FFFF, invalid UTF-8) as U+FFFD.
std::string xml_escape(std::string_view s);

/// Builds one JSON object, fields in insertion order; keys and strings are
/// escaped, numbers written with fixed decimals (number_text.hpp).
class json_object {
public:
    json_object& string(std::string_view key, std::string_view value);
    json_object& string_or_null(std::string_view key, const std::optional<std::string>& value);
    json_object& number(std::string_view key, double value, int decimals);
    json_object& integer(std::string_view key, std::uint64_t value);
    json_object& boolean(std::string_view key, bool value);
    json_object& null(std::string_view key);
    json_object& strings(std::string_view key, const std::vector<std::string>& values);
    json_object& object(std::string_view key, const json_object& value);

    bool empty() const noexcept { return first_; }
    /// The object's text, "{...}".
    std::string str() const { return text_ + "}"; }

private:
    void name(std::string_view key);

    std::string text_ = "{";
    bool first_ = true;
};

}  // namespace nettrace::detail
