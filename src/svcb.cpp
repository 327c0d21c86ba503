// HTTPS/SVCB records from wire format (RFC 9460): src/detail/svcb.hpp.
#include "detail/svcb.hpp"

#include <nettrace/error.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace nettrace::detail {

namespace {

using bytes_view = std::span<const std::uint8_t>;

constexpr std::uint16_t type_cname = 5, type_https = 65, class_in = 1;
constexpr int max_cname_links = 16;
constexpr std::size_t max_name_wire = 255;  // RFC 1035 3.1, the length octets included
constexpr int max_pointer_hops = 127;       // a name has at most 127 labels: more hops point at pointers

std::uint16_t u16(bytes_view b, std::size_t at) { return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]); }
std::uint32_t u32(bytes_view b, std::size_t at) { return std::uint32_t(u16(b, at)) << 16 | u16(b, at + 2); }

char lower(std::uint8_t c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); }

// The names of the keys nettrace interprets, for messages.
std::string key_name(std::uint16_t key) {
    static constexpr std::array<const char*, 7> names = {"mandatory", "alpn", "no-default-alpn", "port",
                                                         "ipv4hint",  "ech",  "ipv6hint"};
    if (key < names.size()) return names[key];
    return "key" + std::to_string(key);
}

// "1 byte", "5 bytes".
std::string byte_count(std::size_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

// Sets `why` and returns false: a fault's one line.
bool fault(std::string& why, std::string text) {
    why = std::move(text);
    return false;
}

// What a host name's label may hold: the name is looked up next, and a '.'
// or NUL inside a label would name some other host.
bool host_char(std::uint8_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// TargetName: uncompressed labels; lower-cased, dotted, "." for the root.
// `at` is advanced past it; false (and `why`) when it is not a usable name.
bool read_target(bytes_view in, std::size_t& at, std::string& out, std::string& why) {
    std::size_t wire = 0;
    for (int label = 1;; ++label) {
        if (at >= in.size()) return fault(why, "TargetName runs past the end of the RDATA");
        const std::uint8_t len = in[at++];
        ++wire;
        if (len == 0) break;
        if ((len & 0xC0) == 0xC0) return fault(why, "TargetName is compressed (RFC 9460 section 2.2 forbids it)");
        if (len > 63)
            return fault(why, "TargetName label " + std::to_string(label) + " is " + std::to_string(len) +
                                  " bytes long (at most 63)");
        if (in.size() - at < len) return fault(why, "TargetName runs past the end of the RDATA");
        wire += len;
        if (wire + 1 > max_name_wire) return fault(why, "TargetName is longer than 255 bytes");
        if (!out.empty()) out += '.';
        for (std::size_t i = 0; i < len; ++i) {
            const std::uint8_t c = in[at + i];
            if (!host_char(c)) {
                static constexpr char hex[] = "0123456789abcdef";
                return fault(why, std::string("TargetName label ") + std::to_string(label) + " holds byte 0x" +
                                      hex[c >> 4] + hex[c & 15] +
                                      ", which no host name holds (letters, digits, '-' and '_' only)");
            }
            out += lower(c);
        }
        at += len;
    }
    if (out.empty()) out = ".";
    return true;
}

// The value of one SvcParam, checked against its key's rules and stored.
bool apply_param(service_record& rec, std::uint16_t key, bytes_view v, std::string& why) {
    const auto len = std::to_string(v.size());
    switch (static_cast<svc_param_key>(key)) {
        case svc_param_key::mandatory:
            if (v.empty()) return fault(why, "mandatory is empty");
            if (v.size() % 2) return fault(why, "mandatory length " + len + " is not a multiple of 2");
            for (std::size_t i = 0; i < v.size(); i += 2) {
                const auto k = u16(v, i);
                if (k == 0) return fault(why, "mandatory lists mandatory itself");
                if (!rec.mandatory.empty() && k <= rec.mandatory.back())
                    return fault(why, "mandatory lists " + key_name(k) + " after " + key_name(rec.mandatory.back()) +
                                          ": its keys must be strictly ascending");
                rec.mandatory.push_back(k);
            }
            return true;
        case svc_param_key::alpn:
            if (v.empty()) return fault(why, "alpn is empty");
            for (std::size_t i = 0; i < v.size();) {
                const std::size_t n = v[i++];
                const auto id = std::to_string(rec.alpn.size() + 1);
                if (n == 0) return fault(why, "alpn id " + id + " is empty");
                if (v.size() - i < n)
                    return fault(why, "alpn id " + id + " (" + byte_count(n) + ") runs past the end of the value (" +
                                          byte_count(v.size()) + ")");
                rec.alpn.emplace_back(reinterpret_cast<const char*>(v.data() + i), n);
                i += n;
            }
            return true;
        case svc_param_key::no_default_alpn:
            if (!v.empty())
                return fault(why, "no-default-alpn has a value (" + byte_count(v.size()) + "); it must be empty");
            rec.no_default_alpn = true;
            return true;
        case svc_param_key::port:
            if (v.size() != 2) return fault(why, "port length " + len + " is not 2");
            rec.port = u16(v, 0);
            if (rec.port == 0) return fault(why, "port 0 is no service's port");
            return true;
        case svc_param_key::ipv4hint:
            if (v.empty()) return fault(why, "ipv4hint is empty");
            if (v.size() % 4) return fault(why, "ipv4hint length " + len + " is not a multiple of 4");
            for (std::size_t i = 0; i < v.size(); i += 4) rec.ipv4hint.emplace_back(u32(v, i));
            return true;
        case svc_param_key::ech:
            if (v.empty()) return fault(why, "ech is empty");
            rec.ech.assign(v.begin(), v.end());
            return true;
        case svc_param_key::ipv6hint:
            if (v.empty()) return fault(why, "ipv6hint is empty");
            if (v.size() % 16) return fault(why, "ipv6hint length " + len + " is not a multiple of 16");
            for (std::size_t i = 0; i < v.size(); i += 16) {
                boost::asio::ip::address_v6::bytes_type b;
                std::copy_n(v.begin() + static_cast<std::ptrdiff_t>(i), 16, b.begin());
                const boost::asio::ip::address_v6 a(b);
                if (!a.is_v4_mapped()) rec.ipv6hint.push_back(a);
            }
            return true;
    }
    rec.unknown.push_back({key, {v.begin(), v.end()}});
    return true;
}

}  // namespace

std::optional<service_record> parse_svcb_rdata(bytes_view in, std::string& why, svcb_rejection& kind) {
    why.clear();
    kind = svcb_rejection::none;
    const auto reject = [&](std::string text, svcb_rejection k = svcb_rejection::malformed) {
        why = std::move(text);
        kind = k;
        return std::nullopt;
    };
    if (in.size() < 2) return reject("RDATA of " + byte_count(in.size()) + " has no room for SvcPriority (2 bytes)");
    service_record rec;
    rec.priority = u16(in, 0);
    std::size_t at = 2;
    std::string text;
    if (!read_target(in, at, rec.target, text)) return reject(std::move(text));

    // SvcParams: (key, length, value), to the end of the RDATA exactly.
    std::vector<std::uint16_t> keys;
    while (at < in.size()) {
        if (in.size() - at < 4)
            return reject("SvcParam header cut short: " + byte_count(in.size() - at) + " left, 4 needed");
        const std::uint16_t key = u16(in, at), len = u16(in, at + 2);
        at += 4;
        if (in.size() - at < len)
            return reject(key_name(key) + " length " + std::to_string(len) + " runs past the end of the RDATA");
        const bytes_view value = in.subspan(at, len);
        at += len;
        if (rec.alias_mode()) continue;  // RFC 9460 2.4.2: AliasMode SvcParams are ignored
        if (key == 65535) return reject("key 65535 is reserved as invalid");
        if (!keys.empty() && key == keys.back()) return reject(key_name(key) + " appears twice");
        if (!keys.empty() && key < keys.back())
            return reject(key_name(key) + " after " + key_name(keys.back()) + ": keys must be strictly ascending");
        keys.push_back(key);
        if (!apply_param(rec, key, value, text)) return reject(std::move(text));
    }
    if (rec.alias_mode()) return rec;

    if (rec.no_default_alpn && rec.alpn.empty()) return reject("no-default-alpn without alpn");
    // Malformed first: a record that lists a key it lacks is broken, whether
    // or not nettrace knows the key.
    for (const auto k : rec.mandatory)
        if (!std::binary_search(keys.begin(), keys.end(), k))
            return reject("mandatory lists " + key_name(k) + ", which the record lacks");
    for (const auto k : rec.mandatory)
        if (k > static_cast<std::uint16_t>(svc_param_key::ipv6hint))
            return reject("mandatory lists " + key_name(k) +
                              ", which nettrace does not support: the record is ignored (RFC 9460 section 8)",
                          svcb_rejection::unsupported);
    return rec;
}

std::optional<service_record> parse_svcb_rdata(bytes_view in, std::string& why) {
    svcb_rejection kind;
    return parse_svcb_rdata(in, why, kind);
}

namespace {

// A name in a message as its lower-cased wire form (length octets and
// labels, no terminating zero), which compares labels exactly: "a.b" as one
// label is not "a" "b".
using wire_name = std::string;

wire_name to_wire(std::string_view dotted) {
    if (dotted.ends_with('.')) dotted.remove_suffix(1);
    wire_name out;
    while (!dotted.empty()) {
        const auto dot = std::min(dotted.find('.'), dotted.size());
        out += static_cast<char>(std::min<std::size_t>(dot, 255));
        for (char c : dotted.substr(0, dot)) out += lower(static_cast<std::uint8_t>(c));
        dotted.remove_prefix(std::min(dot + 1, dotted.size()));
    }
    return out;
}

// A name the dialer can look up: not the root, host characters only.
bool is_host(const wire_name& w) {
    if (w.empty()) return false;
    for (std::size_t i = 0; i < w.size();) {
        const std::size_t n = static_cast<std::uint8_t>(w[i++]);
        for (std::size_t j = 0; j < n; ++j)
            if (!host_char(static_cast<std::uint8_t>(w[i + j]))) return false;
        i += n;
    }
    return true;
}

std::string to_dotted(const wire_name& w) {
    std::string out;
    for (std::size_t i = 0; i < w.size();) {
        const std::size_t n = static_cast<std::uint8_t>(w[i++]);
        if (!out.empty()) out += '.';
        out.append(w, i, n);
        i += n;
    }
    return out.empty() ? "." : out;
}

// Reads a possibly compressed name at `at`; `at` is advanced past it in
// place. A pointer must point before the labels it continues, so every jump
// goes further back and reading ends (no pointer loop can be followed).
bool read_name(bytes_view m, std::size_t& at, wire_name& out, std::string& why) {
    out.clear();
    std::size_t pos = at, floor = at;
    bool jumped = false;
    for (int hops = 0;;) {
        if (pos >= m.size()) return fault(why, "a name runs past the end of the message");
        const std::uint8_t len = m[pos];
        if ((len & 0xC0) == 0xC0) {
            if (pos + 1 >= m.size()) return fault(why, "a compression pointer is cut short");
            const std::size_t target = std::size_t(len & 0x3F) << 8 | m[pos + 1];
            if (target >= floor) return fault(why, "a compression pointer does not point backwards (a loop?)");
            if (++hops > max_pointer_hops) return fault(why, "a name chains more than 127 compression pointers");
            if (!jumped) at = pos + 2;
            jumped = true;
            pos = floor = target;
            continue;
        }
        if (len & 0xC0) return fault(why, "a label type other than 0 and compression (0x40, 0x80)");
        if (len == 0) {
            if (!jumped) at = pos + 1;
            return true;
        }
        if (m.size() - pos - 1 < len) return fault(why, "a label runs past the end of the message");
        if (out.size() + 1 + len + 1 > max_name_wire) return fault(why, "a name is longer than 255 bytes");
        out += static_cast<char>(len);
        for (std::size_t i = 1; i <= len; ++i) out += lower(m[pos + i]);
        pos += 1 + len;
    }
}

struct answer_rr {
    wire_name owner;
    std::uint16_t type, rclass;
    std::uint32_t ttl;
    std::size_t rdata, rdlength;  // offset and length in the message
};

https_response failure(error e, std::string cause) {
    https_response r;
    r.error = make_error_code(e);
    r.cause = std::move(cause);
    return r;
}

// RFC 2181 section 8: a TTL with the most significant bit set is 0.
std::uint32_t sane_ttl(std::uint32_t ttl) { return ttl & 0x80000000u ? 0 : ttl; }

}  // namespace

https_response parse_https_response(bytes_view m, std::string_view qname) {
    if (m.size() < 12)
        return failure(error::dns_malformed,
                       "the answer is " + std::to_string(m.size()) + " bytes, shorter than a DNS header (12)");
    const std::uint16_t flags = u16(m, 2), qdcount = u16(m, 4), ancount = u16(m, 6);
    if (!(flags & 0x8000)) return failure(error::dns_malformed, "the message is a query, not an answer (QR clear)");
    if (flags & 0x7800)
        return failure(error::dns_malformed, "the answer's opcode is " + std::to_string(flags >> 11 & 15) + ", not 0");
    if (flags & 0x0200) return failure(error::dns_malformed, "the answer is truncated (TC set)");
    switch (flags & 15) {
        case 0:
            break;
        case 1:
            return failure(error::dns_malformed, "the server could not parse the query (FORMERR)");
        case 2:
            return failure(error::dns_failure, "the server answered SERVFAIL");
        case 3:
            return failure(error::host_not_found, "");
        case 4:
            return failure(error::dns_failure, "the server does not implement the query (NOTIMP)");
        case 5:
            return failure(error::dns_refused, "");
        default:
            return failure(error::dns_failure, "the server answered rcode " + std::to_string(flags & 15));
    }

    std::size_t at = 12;
    std::string why;
    wire_name name;
    for (unsigned i = 0; i < qdcount; ++i) {
        if (!read_name(m, at, name, why) || m.size() - at < 4)
            return failure(error::dns_malformed,
                           "question " + std::to_string(i + 1) + ": " + (why.empty() ? "cut short" : why));
        at += 4;
    }
    std::vector<answer_rr> rrs;
    for (unsigned i = 0; i < ancount; ++i) {
        answer_rr rr;
        const auto which = "answer " + std::to_string(i + 1) + ": ";
        if (!read_name(m, at, rr.owner, why)) return failure(error::dns_malformed, which + why);
        if (m.size() - at < 10) return failure(error::dns_malformed, which + "cut short in its fixed fields");
        rr.type = u16(m, at);
        rr.rclass = u16(m, at + 2);
        rr.ttl = sane_ttl(u32(m, at + 4));
        rr.rdlength = u16(m, at + 8);
        at += 10;
        if (m.size() - at < rr.rdlength)
            return failure(error::dns_malformed,
                           which + "its RDLENGTH " + std::to_string(rr.rdlength) + " runs past the end of the message");
        rr.rdata = at;
        at += rr.rdlength;
        if (rr.rclass == class_in && (rr.type == type_cname || rr.type == type_https)) rrs.push_back(std::move(rr));
    }

    // The names whose records answer: qname and its CNAME chain. Each link
    // is the one CNAME of the name before it, wherever it sits.
    std::vector<wire_name> chain{to_wire(qname)};
    std::uint32_t ttl = UINT32_MAX;
    for (int links = 0;; ++links) {
        const answer_rr* link = nullptr;
        for (const auto& rr : rrs) {
            if (rr.type != type_cname || rr.owner != chain.back()) continue;
            if (link) return failure(error::dns_malformed, to_dotted(chain.back()) + " has two CNAME records");
            link = &rr;
        }
        if (!link) break;
        if (links == max_cname_links)
            return failure(error::dns_malformed, "the CNAME chain is longer than " + std::to_string(max_cname_links));
        std::size_t rd = link->rdata;
        if (!read_name(m, rd, name, why) || rd != link->rdata + link->rdlength)
            return failure(error::dns_malformed,
                           "the CNAME of " + to_dotted(chain.back()) + ": " + (why.empty() ? "not one name" : why));
        if (std::find(chain.begin(), chain.end(), name) != chain.end())
            return failure(error::dns_malformed, "the CNAME chain loops back to " + to_dotted(name));
        ttl = std::min(ttl, link->ttl);
        chain.push_back(name);
    }

    https_response out;
    bool malformed = false;
    std::size_t seen = 0;
    for (const auto& rr : rrs) {
        if (rr.type != type_https || std::find(chain.begin(), chain.end(), rr.owner) == chain.end()) continue;
        ++seen;
        svcb_rejection kind;
        auto rec = parse_svcb_rdata(m.subspan(rr.rdata, rr.rdlength), why, kind);
        // ServiceMode "." is the owner, which behind a CNAME is not the name
        // asked for: it becomes the TargetName, so it must be one.
        const bool owner_is_target = rec && !rec->alias_mode() && rec->target == "." && rr.owner != chain.front();
        if (owner_is_target && !is_host(rr.owner)) {
            rec.reset();
            kind = svcb_rejection::malformed;
            why = "TargetName \".\" stands for the owner, " + to_dotted(rr.owner) + ", which is no host name";
        }
        if (!rec) {
            ++out.rejected;
            malformed = malformed || kind == svcb_rejection::malformed;
            if (out.cause.empty())
                out.cause = "HTTPS record " + std::to_string(seen) + " of " + to_dotted(rr.owner) + ": " + why;
            continue;
        }
        if (owner_is_target) rec->target = to_dotted(rr.owner);
        rec->ttl = rr.ttl;
        ttl = std::min(ttl, rr.ttl);
        out.records.push_back(std::move(*rec));
    }
    if (!out.records.empty()) {
        out.ttl = ttl;
    } else {
        out.error = make_error_code(malformed ? error::malformed_service_record : error::no_service_record);
    }
    return out;
}

}  // namespace nettrace::detail
