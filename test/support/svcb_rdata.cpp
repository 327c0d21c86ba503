#include "svcb_rdata.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace nettrace::testing {

namespace {

void put16(std::vector<std::uint8_t>& out, unsigned v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}

[[noreturn]] void bad(std::string_view what, std::string_view text) {
    throw std::invalid_argument("svcb_rdata: " + std::string(what) + ": " + std::string(text));
}

std::uint16_t key_number(std::string_view name) {
    static const std::map<std::string_view, std::uint16_t> names = {
        {"mandatory", 0}, {"alpn", 1}, {"no-default-alpn", 2}, {"port", 3},
        {"ipv4hint", 4},  {"ech", 5},  {"ipv6hint", 6}};
    if (const auto it = names.find(name); it != names.end()) return it->second;
    if (name.starts_with("key") && name.size() > 3 &&
        std::all_of(name.begin() + 3, name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        const auto n = std::stoul(std::string(name.substr(3)));
        if (n <= 65535) return static_cast<std::uint16_t>(n);
    }
    bad("unknown key", name);
}

// A char-string's escapes undone (\DDD, \X). A list value is then split
// by split_list, which undoes the list's own escapes (\, and \\): RFC 9460
// appendix A.1's two levels, so "f\\\\oo\\,bar" is the one item "f\oo,bar".
std::string unescape(std::string_view in) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '\\') {
            out += in[i];
            continue;
        }
        if (++i == in.size()) bad("a trailing backslash", in);
        char c = in[i];
        if (c >= '0' && c <= '9') {
            if (i + 2 >= in.size()) bad("a short \\DDD", in);
            c = static_cast<char>((in[i] - '0') * 100 + (in[i + 1] - '0') * 10 + (in[i + 2] - '0'));
            i += 2;
        }
        out += c;
    }
    return out;
}

// Splits on commas that no backslash escapes, and undoes those escapes.
std::vector<std::string> split_list(const std::string& in) {
    std::vector<std::string> items(1);
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '\\' && i + 1 < in.size()) {
            items.back() += in[++i];
        } else if (in[i] == ',') {
            items.emplace_back();
        } else {
            items.back() += in[i];
        }
    }
    return items;
}

std::vector<std::uint8_t> base64_decode(std::string_view text) {
    static constexpr std::string_view table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::vector<std::uint8_t> out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        if (c == '=') break;
        const auto v = table.find(c);
        if (v == std::string_view::npos) bad("not base64", text);
        acc = acc << 6 | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>(acc >> bits));
        }
    }
    return out;
}

std::vector<std::uint8_t> param_value(std::uint16_t key, const std::string& raw) {
    std::vector<std::uint8_t> v;
    switch (key) {
        case 0:
            for (const auto& k : split_list(unescape(raw))) put16(v, key_number(k));
            break;
        case 1:
            for (const auto& id : split_list(unescape(raw))) {
                if (id.size() > 255) bad("an alpn id over 255 bytes", id);
                v.push_back(static_cast<std::uint8_t>(id.size()));
                v.insert(v.end(), id.begin(), id.end());
            }
            break;
        case 2:
            if (!raw.empty()) bad("no-default-alpn takes no value", raw);
            break;
        case 3: {
            const auto port = std::stoul(raw);
            if (port > 65535) bad("port", raw);
            put16(v, static_cast<unsigned>(port));
            break;
        }
        case 4:
        case 6:
            for (const auto& a : split_list(unescape(raw))) {
                const auto addr = boost::asio::ip::make_address(a);
                if (addr.is_v4() != (key == 4)) bad("an address of the wrong family", a);
                if (addr.is_v4()) {
                    const auto b = addr.to_v4().to_bytes();
                    v.insert(v.end(), b.begin(), b.end());
                } else {
                    const auto b = addr.to_v6().to_bytes();
                    v.insert(v.end(), b.begin(), b.end());
                }
            }
            break;
        case 5:
            v = base64_decode(raw);
            break;
        default:
            v = unhex(raw);
    }
    return v;
}

}  // namespace

std::vector<std::uint8_t> wire_name(std::string_view dotted) {
    std::vector<std::uint8_t> out;
    if (dotted.ends_with('.')) dotted.remove_suffix(1);
    while (!dotted.empty()) {
        const auto dot = std::min(dotted.find('.'), dotted.size());
        if (dot == 0 || dot > 63) bad("a label of this length", dotted);
        out.push_back(static_cast<std::uint8_t>(dot));
        out.insert(out.end(), dotted.begin(), dotted.begin() + static_cast<std::ptrdiff_t>(dot));
        dotted.remove_prefix(std::min(dot + 1, dotted.size()));
    }
    out.push_back(0);
    return out;
}

std::vector<std::uint8_t> svcb_rdata(std::uint16_t priority, std::string_view target, const svc_params& params) {
    std::vector<std::uint8_t> out;
    put16(out, priority);
    const auto name = wire_name(target);
    out.insert(out.end(), name.begin(), name.end());
    for (const auto& [key, value] : params) {
        put16(out, key);
        put16(out, static_cast<unsigned>(value.size()));
        out.insert(out.end(), value.begin(), value.end());
    }
    return out;
}

std::vector<std::uint8_t> svcb_rdata(std::string_view text) {
    // Words separated by spaces; a quoted value may hold spaces.
    std::vector<std::string> words;
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] == ' ') {
            ++i;
            continue;
        }
        std::string word;
        bool quoted = false;
        for (; i < text.size() && (quoted || text[i] != ' '); ++i) {
            if (text[i] == '"') {
                quoted = !quoted;
                continue;
            }
            word += text[i];
            if (text[i] == '\\' && i + 1 < text.size()) word += text[++i];
        }
        if (quoted) bad("an unclosed quote", text);
        words.push_back(std::move(word));
    }
    if (words.size() < 2) bad("no SvcPriority and TargetName", text);
    const auto priority = std::stoul(words[0]);
    if (priority > 65535) bad("SvcPriority", words[0]);
    svc_params params;
    for (std::size_t i = 2; i < words.size(); ++i) {
        const auto eq = words[i].find('=');
        const auto key = key_number(std::string_view(words[i]).substr(0, eq));
        params.emplace_back(key, param_value(key, eq == std::string::npos ? "" : words[i].substr(eq + 1)));
    }
    std::stable_sort(params.begin(), params.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return svcb_rdata(static_cast<std::uint16_t>(priority), words[1] == "." ? "" : words[1], params);
}

std::string hex(std::span<const std::uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (const auto b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

std::vector<std::uint8_t> unhex(std::string_view text) {
    const auto nibble = [text](char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        bad("not hex", text);
    };
    std::vector<std::uint8_t> out;
    int high = -1;
    for (char c : text) {
        if (c == ' ' || c == '\n') continue;
        const int n = nibble(c);
        if (high < 0) {
            high = n;
        } else {
            out.push_back(static_cast<std::uint8_t>(high << 4 | n));
            high = -1;
        }
    }
    if (high >= 0) bad("an odd number of hex digits", text);
    return out;
}

}  // namespace nettrace::testing
