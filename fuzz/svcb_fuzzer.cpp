// Fuzz target: the HTTPS/SVCB parser (src/detail/svcb.hpp), one RDATA
// (parse_svcb_rdata) or a whole response to the HTTPS query for svc.test
// (parse_https_response), as c-ares hands it over.
//
// Input: one byte of flags, then the bytes.
//   bit 0: the bytes are one RDATA; else a DNS response
//   bit 1: splice (responses): the bytes' first 12 are the header, then the
//          question "svc.test HTTPS IN" (so a pointer to offset 12 is the
//          name asked), then the rest of the bytes (the answers)
//   bit 2: ask for "SVC.Test." rather than "svc.test" (the same name)
//
// Invariants, RDATA: a record xor a reason; an accepted record keeps every
// rule the parser promises (a host-name target, AliasMode without params,
// ServiceMode keys as RFC 9460 says), and re-encoding it gives bytes that
// parse back to the same record. Responses: records xor an error, from the
// documented ones; a malformed answer carries a cause; the TTL is the
// records' smallest; and every record is the parse of an HTTPS record the
// message really holds for svc.test or a name its CNAMEs reach (checked
// with an independent reading of the message below), with its TTL.
// Parsing is deterministic: the same bytes twice give the same answer.
#include "../src/detail/svcb.hpp"

#include <nettrace/error.hpp>
#include <nettrace/service.hpp>

#include "check.hpp"
#include "dns_message.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

using bytes = std::vector<std::uint8_t>;
using nettrace::service_record;
using nettrace::detail::svcb_rejection;

constexpr std::string_view question_name = "svc.test";

void put16(bytes& out, unsigned v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}

bool host_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; }

// The rules parse_svcb_rdata promises of what it accepts.
void check_record(const service_record& r) {
    FUZZ_CHECK(!r.target.empty());
    if (r.target != ".") {
        FUZZ_CHECK(r.target.front() != '.' && r.target.back() != '.');
        FUZZ_CHECK(r.target.size() <= 253);
        std::size_t label = 0;
        for (char c : r.target) {
            if (c == '.') {
                FUZZ_CHECK(label > 0);
                label = 0;
                continue;
            }
            FUZZ_CHECK(host_char(c));
            FUZZ_CHECK(++label <= 63);
        }
    }
    if (r.alias_mode()) {
        FUZZ_CHECK(r.alpn.empty() && !r.no_default_alpn && r.port == 0 && r.ipv4hint.empty() && r.ipv6hint.empty() &&
                   r.ech.empty() && r.mandatory.empty() && r.unknown.empty());
        return;
    }
    for (const auto& id : r.alpn) FUZZ_CHECK(!id.empty() && id.size() <= 255);
    if (r.no_default_alpn) FUZZ_CHECK(!r.alpn.empty());
    for (const auto& a : r.ipv6hint) FUZZ_CHECK(!a.is_v4_mapped());
    for (std::size_t i = 0; i < r.mandatory.size(); ++i) {
        FUZZ_CHECK(r.mandatory[i] >= 1 && r.mandatory[i] <= 6);
        if (i) FUZZ_CHECK(r.mandatory[i - 1] < r.mandatory[i]);
    }
    for (std::size_t i = 0; i < r.unknown.size(); ++i) {
        FUZZ_CHECK(r.unknown[i].key > 6 && r.unknown[i].key != 65535);
        if (i) FUZZ_CHECK(r.unknown[i - 1].key < r.unknown[i].key);
    }
    FUZZ_CHECK(!nettrace::to_string(r).empty());
}

// The record's wire form, as a zone's signer would write it. ipv6hint goes
// out only when it kept an address (the parser drops IPv4-mapped ones), and
// mandatory then lists it only if it is written.
bytes encode(const service_record& r) {
    bytes out;
    put16(out, r.priority);
    if (r.target != ".") {
        std::string_view t = r.target;
        while (!t.empty()) {
            const auto dot = std::min(t.find('.'), t.size());
            out.push_back(static_cast<std::uint8_t>(dot));
            out.insert(out.end(), t.begin(), t.begin() + static_cast<std::ptrdiff_t>(dot));
            t.remove_prefix(std::min(dot + 1, t.size()));
        }
    }
    out.push_back(0);
    const auto param = [&out](unsigned key, const bytes& value) {
        put16(out, key);
        put16(out, static_cast<unsigned>(value.size()));
        out.insert(out.end(), value.begin(), value.end());
    };
    bytes v;
    for (const auto k : r.mandatory)
        if (k != 6 || !r.ipv6hint.empty()) put16(v, k);
    if (!v.empty()) param(0, v);
    if (!r.alpn.empty()) {
        v.clear();
        for (const auto& id : r.alpn) {
            v.push_back(static_cast<std::uint8_t>(id.size()));
            v.insert(v.end(), id.begin(), id.end());
        }
        param(1, v);
    }
    if (r.no_default_alpn) param(2, {});
    if (r.port) param(3, {static_cast<std::uint8_t>(r.port >> 8), static_cast<std::uint8_t>(r.port)});
    const auto addresses = [](const auto& hints) {
        bytes out;
        for (const auto& a : hints) {
            const auto b = a.to_bytes();
            out.insert(out.end(), b.begin(), b.end());
        }
        return out;
    };
    if (!r.ipv4hint.empty()) param(4, addresses(r.ipv4hint));
    if (!r.ech.empty()) param(5, r.ech);
    if (!r.ipv6hint.empty()) param(6, addresses(r.ipv6hint));
    for (const auto& p : r.unknown) param(p.key, p.value);
    return out;
}

void fuzz_rdata(std::span<const std::uint8_t> in) {
    std::string why;
    svcb_rejection kind;
    const auto r = nettrace::detail::parse_svcb_rdata(in, why, kind);
    FUZZ_CHECK(r.has_value() == why.empty());
    FUZZ_CHECK(r.has_value() == (kind == svcb_rejection::none));
    if (!r) return;
    check_record(*r);
    const auto again = nettrace::detail::parse_svcb_rdata(encode(*r), why);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(nettrace::to_string(*again) == nettrace::to_string(*r));
}

// ---------------------------------------------------------------------------
// An independent reading of a response: the HTTPS RRs of the name asked or
// of a name its CNAMEs reach (in any order), as (owner, ttl, RDATA). It
// follows pointers anywhere (with a jump limit), so it accepts at least
// what the parser accepts.

// The name at `off` as dotted text ("." for the root), lowercased, a '.'
// inside a label kept apart from the separators; advances `off` past it.
std::optional<std::string> dotted_name(const dns_message& msg, std::size_t& off) {
    const auto labels = msg.name(off);
    if (!labels) return std::nullopt;
    std::string dotted;
    for (auto label : *labels) {
        std::replace(label.begin(), label.end(), '.', '\x01');
        if (!dotted.empty()) dotted += '.';
        dotted += label;
    }
    return dotted.empty() ? "." : dotted;
}

struct https_rr {
    std::string owner;
    std::uint32_t ttl;
    std::span<const std::uint8_t> rdata;
};

std::optional<std::vector<https_rr>> read_response(std::span<const std::uint8_t> reply) {
    const dns_message msg{reply};
    if (reply.size() < 12) return std::nullopt;
    const std::uint16_t qd = msg.u16(4), an = msg.u16(6);
    std::size_t off = 12;
    for (std::uint16_t i = 0; i < qd; ++i) {
        if (!dotted_name(msg, off) || off + 4 > reply.size()) return std::nullopt;
        off += 4;
    }
    struct rr {
        std::string owner;
        std::uint16_t type, rclass;
        std::uint32_t ttl;
        std::size_t rdata, rdlen;
    };
    std::vector<rr> rrs;
    for (std::uint16_t i = 0; i < an; ++i) {
        auto owner = dotted_name(msg, off);
        if (!owner || off + 10 > reply.size()) return std::nullopt;
        const std::uint16_t type = msg.u16(off), rclass = msg.u16(off + 2), rdlen = msg.u16(off + 8);
        const std::uint32_t ttl = std::uint32_t(msg.u16(off + 4)) << 16 | msg.u16(off + 6);
        off += 10;
        if (off + rdlen > reply.size()) return std::nullopt;
        rrs.push_back({std::move(*owner), type, rclass, ttl & 0x80000000u ? 0 : ttl, off, rdlen});
        off += rdlen;
    }
    std::vector<std::string> names{std::string(question_name)};
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto& r : rrs) {
            if (r.type != 5 || r.rclass != 1 || std::find(names.begin(), names.end(), r.owner) == names.end()) continue;
            std::size_t at = r.rdata;
            const auto target = dotted_name(msg, at);
            if (target && std::find(names.begin(), names.end(), *target) == names.end()) {
                names.push_back(*target);
                grew = true;
            }
        }
    }
    std::vector<https_rr> out;
    for (const auto& r : rrs)
        if (r.type == 65 && r.rclass == 1 && std::find(names.begin(), names.end(), r.owner) != names.end())
            out.push_back({r.owner, r.ttl, reply.subspan(r.rdata, r.rdlen)});
    return out;
}

bool documented(const boost::system::error_code& ec) {
    using nettrace::error;
    for (error e : {error::host_not_found, error::no_service_record, error::malformed_service_record,
                    error::dns_failure, error::dns_refused, error::dns_malformed})
        if (ec == make_error_code(e)) return true;
    return false;
}

void fuzz_response(std::span<const std::uint8_t> reply, std::string_view qname) {
    const auto r = nettrace::detail::parse_https_response(reply, qname);
    FUZZ_CHECK(r.records.empty() == static_cast<bool>(r.error));
    if (r.error) FUZZ_CHECK(documented(r.error));
    if (r.error == nettrace::error::malformed_service_record) FUZZ_CHECK(r.rejected > 0);
    if (r.error == nettrace::error::dns_malformed) FUZZ_CHECK(!r.cause.empty() && r.rejected == 0);
    if (r.rejected > 0) FUZZ_CHECK(!r.cause.empty());
    const auto again = nettrace::detail::parse_https_response(reply, qname);
    FUZZ_CHECK(again.error == r.error && again.cause == r.cause && again.records.size() == r.records.size());
    if (r.records.empty()) return;

    std::uint32_t smallest = UINT32_MAX;
    for (const auto& rec : r.records) {
        check_record(rec);
        smallest = std::min(smallest, rec.ttl);
    }
    FUZZ_CHECK(r.ttl <= smallest);

    // Each record is one the message holds for the name, with its TTL.
    const auto held = read_response(reply);
    FUZZ_CHECK(held.has_value());
    FUZZ_CHECK(r.records.size() + r.rejected <= held->size());
    for (const auto& rec : r.records) {
        const auto text = nettrace::to_string(rec);
        bool found = false;
        for (const auto& h : *held) {
            std::string why;
            auto parsed = nettrace::detail::parse_svcb_rdata(h.rdata, why);
            if (!parsed || h.ttl != rec.ttl) continue;
            if (!parsed->alias_mode() && parsed->target == "." && h.owner != question_name) parsed->target = h.owner;
            found = found || nettrace::to_string(*parsed) == text;
        }
        FUZZ_CHECK(found);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t flags = data[0];
    const std::span<const std::uint8_t> in(data + 1, size - 1);
    if (flags & 1) {
        fuzz_rdata(in);
        return 0;
    }
    const std::string_view qname = (flags & 4) ? "SVC.Test." : question_name;
    if (!(flags & 2)) {
        fuzz_response(in, qname);
        return 0;
    }
    bytes reply(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(in.size(), 12)));
    reply.resize(12, 0);
    reply[4] = 0;
    reply[5] = 1;
    for (const char* label : {"svc", "test"}) {
        reply.push_back(static_cast<std::uint8_t>(std::string_view(label).size()));
        reply.insert(reply.end(), label, label + std::string_view(label).size());
    }
    reply.push_back(0);
    put16(reply, 65);
    put16(reply, 1);
    if (in.size() > 12) reply.insert(reply.end(), in.begin() + 12, in.end());
    fuzz_response(reply, qname);
    return 0;
}
