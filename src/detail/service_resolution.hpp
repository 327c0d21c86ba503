// From a host's HTTPS records to the service endpoints the racer takes: a
// sans-I/O machine, in the manner of the racer. It is told each HTTPS
// answer and each target's address answer, and says which query comes next
// (an AliasMode's target, a TargetName's addresses); once nothing is
// outstanding, groups() is the racer's input. The driver is
// lookup_operation (src/detail/lookup_operation.hpp).
//
// Rules (RFC 9460 and the HEv3 draft): AliasMode chains are followed at
// most 8 deep and a loop ends them (no service); an AliasMode "." means
// the service is not available there; a ServiceMode record whose ALPN set
// has nothing the client speaks is skipped (an h3-only record for a TCP
// client); a record's addresses are its hints until its TargetName's own
// A/AAAA answers arrive (for the dialed host itself, the racer makes that
// swap as the host's answers come in).
#pragma once

#include <nettrace/resolver.hpp>
#include <nettrace/service.hpp>

#include "../racer.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nettrace::detail {

/// One usable ServiceMode record, planned.
struct planned_service {
    std::uint16_t priority = 1;
    std::uint16_t port = 0;
    std::string target;             // the name whose addresses serve it (the host itself, or another)
    bool uses_host = true;          // target is the dialed host
    std::vector<std::string> alpn;  // what an attempt offers: the client's ALPN that the record allows
    std::vector<std::uint8_t> ech;  // for the trace only (OpenSSL 3.0 has no ECH)
    std::vector<boost::asio::ip::address> ipv6, ipv4;  // hints, replaced by the target's answers
    bool resolved[2] = {false, false};                 // the target's AAAA, A answered (not uses_host)
};

class service_resolution {
public:
    static constexpr unsigned max_alias_depth = 8;
    static constexpr std::size_t max_targets = 4;

    /// `client_alpn`: what a TLS client offers (tls_options::alpn); `tls`
    /// false for a plain dial, which speaks any TCP protocol.
    service_resolution(std::string_view host, std::uint16_t port, std::vector<std::string> client_alpn, bool tls,
                       bool ipv6, bool ipv4);

    struct query {
        enum class type : std::uint8_t { https, ipv6, ipv4 } kind;
        std::string name;
    };

    /// The queries to send now; each answer is reported below.
    std::optional<query> next();
    void on_https(std::string_view name, const service_result& r);
    void on_addresses(std::string_view name, address_family f, const lookup_result& r);

    bool done() const noexcept { return outstanding_ == 0 && queue_.empty(); }
    /// The dial no longer needs services: nothing more is asked.
    void abandon() noexcept { queue_.clear(); }
    /// The racer's input, once done(): one group per planned service, its
    /// id the index in services().
    std::vector<service_group> groups() const;
    const std::vector<planned_service>& services() const noexcept { return services_; }
    /// Set when the chain could not be followed (service_alias_loop).
    const boost::system::error_code& error() const noexcept { return error_; }

private:
    void plan(std::string_view owner, const service_result& r);
    bool usable_alpn(const service_record& r, std::vector<std::string>& offer) const;

    std::string host_;
    std::uint16_t port_;
    std::vector<std::string> client_alpn_;
    bool tls_;
    bool ipv6_, ipv4_;
    std::vector<std::string> seen_;  // the names whose HTTPS records were asked, in order
    std::vector<query> queue_;
    std::size_t outstanding_ = 0;
    std::vector<planned_service> services_;
    boost::system::error_code error_;
};

}  // namespace nettrace::detail
