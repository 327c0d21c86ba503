// Service records for people (nettrace/service.hpp): the presentation form
// of a record, and the HTTPS query name of a host and port.
#include <nettrace/service.hpp>

#include <algorithm>
#include <array>

namespace nettrace {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

// RFC 4648 base64 with padding, as zone files write ECHConfigLists.
std::string base64(const std::vector<std::uint8_t>& in) {
    static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        const std::size_t n = std::min<std::size_t>(3, in.size() - i);
        const std::uint32_t v =
            std::uint32_t(in[i]) << 16 | (n > 1 ? std::uint32_t(in[i + 1]) << 8 : 0) | (n > 2 ? in[i + 2] : 0);
        out += table[v >> 18 & 63];
        out += table[v >> 12 & 63];
        out += n > 1 ? table[v >> 6 & 63] : '=';
        out += n > 2 ? table[v & 63] : '=';
    }
    return out;
}

// An alpn id as RFC 9460 appendix A writes a value-list item inside an
// unquoted char-string: ',' and '\' escaped for the list (\, and \\), then
// every '\' doubled for the char-string, and bytes a zone file cannot hold
// bare (controls, space, '"', ';', '(', ')', non-ASCII) as \DDD. So
// "f\oo,bar" is f\\\\oo\\,bar, as in the RFC's figure 10.
std::string alpn_item(const std::string& id) {
    std::string out;
    for (unsigned char c : id) {
        if (c == ',' || c == '\\') {
            out += "\\\\";
            out += c == ',' ? "," : "\\\\";
        } else if (c <= 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '(' || c == ')') {
            out += '\\';
            out += static_cast<char>('0' + c / 100);
            out += static_cast<char>('0' + c / 10 % 10);
            out += static_cast<char>('0' + c % 10);
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string key_text(std::uint16_t key) {
    static constexpr std::array<const char*, 7> names = {"mandatory", "alpn", "no-default-alpn", "port",
                                                         "ipv4hint",  "ech",  "ipv6hint"};
    return key < names.size() ? names[key] : "key" + std::to_string(key);
}

}  // namespace

std::string to_string(const service_record& r) {
    std::string out = std::to_string(r.priority) + " " + (r.target == "." ? "." : r.target + ".");
    const auto list = [&out](std::string_view key, const auto& items, const auto& text) {
        if (items.empty()) return;
        out += ' ';
        out += key;
        char sep = '=';
        for (const auto& item : items) {
            out += sep;
            out += text(item);
            sep = ',';
        }
    };
    list("mandatory", r.mandatory, key_text);
    list("alpn", r.alpn, alpn_item);
    if (r.no_default_alpn) out += " no-default-alpn";
    if (r.port != 0) out += " port=" + std::to_string(r.port);
    list("ipv4hint", r.ipv4hint, [](const auto& a) { return a.to_string(); });
    if (!r.ech.empty()) out += " ech=" + base64(r.ech);
    list("ipv6hint", r.ipv6hint, [](const auto& a) { return a.to_string(); });
    for (const auto& p : r.unknown) {
        out += " key" + std::to_string(p.key);
        if (p.value.empty()) continue;
        out += '=';
        for (const auto b : p.value) {
            out += hex_digits[b >> 4];
            out += hex_digits[b & 15];
        }
    }
    return out;
}

std::string https_query_name(std::string_view host, std::uint16_t port) {
    if (port == 443) return std::string(host);
    return "_" + std::to_string(port) + "._https." + std::string(host);
}

}  // namespace nettrace
