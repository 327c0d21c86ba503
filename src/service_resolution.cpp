// The HTTPS-record chain, planned: see src/detail/service_resolution.hpp.
#include "detail/service_resolution.hpp"

#include <nettrace/error.hpp>

#include "detail/resolver_support.hpp"

#include <algorithm>

namespace nettrace::detail {

namespace {

// A protocol a TCP client cannot speak: HTTP/3 and its drafts run on QUIC.
bool quic_only(std::string_view id) { return id == "h3" || id.starts_with("h3-"); }

}  // namespace

service_resolution::service_resolution(std::string_view host, std::uint16_t port, std::vector<std::string> client_alpn,
                                       bool tls, bool ipv6, bool ipv4)
    : host_(canonical_name(host)), port_(port), client_alpn_(std::move(client_alpn)), tls_(tls), ipv6_(ipv6),
      ipv4_(ipv4) {
    std::string first = canonical_name(https_query_name(host_, port_));
    seen_.push_back(first);
    queue_.push_back({query::type::https, std::move(first)});
}

std::optional<service_resolution::query> service_resolution::next() {
    if (queue_.empty()) return std::nullopt;
    query q = std::move(queue_.front());
    queue_.erase(queue_.begin());
    ++outstanding_;
    return q;
}

void service_resolution::on_https(std::string_view name, const service_result& r) {
    if (outstanding_) --outstanding_;
    if (r.records.empty()) return;
    // RFC 9460 section 2.4.2: an AliasMode record makes the RRset's
    // ServiceMode records moot; its target is asked in turn.
    const auto alias = std::find_if(r.records.begin(), r.records.end(),
                                    [](const service_record& s) { return s.alias_mode(); });
    if (alias == r.records.end()) return plan(name, r);
    if (alias->target == ".") return;  // "the service is not available"
    std::string target = canonical_name(alias->target);
    if (seen_.size() >= max_alias_depth || std::find(seen_.begin(), seen_.end(), target) != seen_.end()) {
        error_ = make_error_code(error::service_alias_loop);
        return;
    }
    seen_.push_back(target);
    queue_.push_back({query::type::https, std::move(target)});
}

void service_resolution::plan(std::string_view owner, const service_result& r) {
    for (const auto& rec : r.records) {
        planned_service s;
        if (!usable_alpn(rec, s.alpn)) continue;
        s.priority = rec.priority;
        s.port = rec.port != 0 ? rec.port : port_;
        s.target = rec.target == "." ? std::string(owner) : canonical_name(rec.target);
        s.uses_host = s.target == host_;
        s.ech = rec.ech;
        if (ipv6_) s.ipv6.assign(rec.ipv6hint.begin(), rec.ipv6hint.end());
        if (ipv4_) s.ipv4.assign(rec.ipv4hint.begin(), rec.ipv4hint.end());
        if (!s.uses_host) {
            const bool asked = std::any_of(services_.begin(), services_.end(),
                                           [&](const planned_service& p) { return p.target == s.target; });
            std::size_t targets = 0;
            for (const auto& p : services_) targets += !p.uses_host;
            if (!asked && targets >= max_targets) continue;  // bounded: a hostile zone names hundreds
            if (!asked) {
                if (ipv6_) queue_.push_back({query::type::ipv6, s.target});
                if (ipv4_) queue_.push_back({query::type::ipv4, s.target});
            }
        }
        services_.push_back(std::move(s));
    }
}

bool service_resolution::usable_alpn(const service_record& r, std::vector<std::string>& offer) const {
    std::vector<std::string> set = r.alpn;
    if (!r.no_default_alpn) set.push_back("http/1.1");  // RFC 9460 section 7.1.1: the HTTPS default
    if (!tls_) {
        offer = r.alpn;
        return std::any_of(set.begin(), set.end(), [](const std::string& id) { return !quic_only(id); });
    }
    for (const auto& id : client_alpn_)
        if (std::find(set.begin(), set.end(), id) != set.end()) offer.push_back(id);
    // A client that offers no ALPN speaks the scheme's default protocol.
    if (client_alpn_.empty()) return !r.no_default_alpn;
    return !offer.empty();
}

void service_resolution::on_addresses(std::string_view name, address_family f, const lookup_result& r) {
    if (outstanding_) --outstanding_;
    const std::size_t k = f == address_family::ipv6 ? 0 : 1;
    for (auto& s : services_) {
        if (s.uses_host || s.target != name || s.resolved[k]) continue;
        s.resolved[k] = true;
        // The target's own answer replaces the hints; a failed lookup
        // leaves them, the best knowledge there is.
        if (r.addrs.empty()) continue;
        auto& list = f == address_family::ipv6 ? s.ipv6 : s.ipv4;
        list = r.addrs;
    }
}

std::vector<service_group> service_resolution::groups() const {
    std::vector<service_group> out;
    out.reserve(services_.size());
    for (std::size_t i = 0; i < services_.size(); ++i) {
        const auto& s = services_[i];
        out.push_back({.priority = s.priority,
                       .port = s.port,
                       .uses_host = s.uses_host,
                       .ipv6 = s.ipv6,
                       .ipv4 = s.ipv4,
                       .id = static_cast<std::uint32_t>(i)});
    }
    return out;
}

}  // namespace nettrace::detail
