// HTTPS/SVCB records (RFC 9460) from DNS wire format, sans I/O: the RDATA
// of one record, and a whole response to a type-65 query as c-ares hands it
// over (ares_query's raw answer; c-ares 1.18 has no HTTPS parser). Fuzzed by
// fuzz/svcb_fuzzer.cpp.
//
// Untrusted bytes in, plain data out: every read is bounds-checked, names
// are read without recursion, compression pointers must point backwards
// (so a pointer loop cannot be followed), CNAME chains are bounded, and a
// malformed record is dropped whole, never trusted in part (RFC 9460
// section 2.2).
#pragma once

#include <nettrace/service.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nettrace::detail {

/// Why parse_svcb_rdata refused a record.
enum class svcb_rejection : std::uint8_t {
    none,
    malformed,    ///< breaks RFC 9460's wire format or its rules for a key
    unsupported,  ///< well formed, but `mandatory` lists a key nettrace does not interpret (RFC 9460 section 8)
};

/// Parses the RDATA of one SVCB or HTTPS record. The result's ttl is 0.
///
/// - TargetName must be uncompressed (RFC 9460 section 2.2); it is returned
///   lower-cased without the trailing dot, the root as ".". Its labels may
///   hold letters, digits, '-' and '_' only: the name is looked up as a host
///   next, and a '.' or NUL inside a label would name another host.
/// - ServiceMode: keys strictly ascending, 65535 invalid; mandatory,
///   alpn, no-default-alpn (needs alpn), port (not 0), ipv4hint, ipv6hint and
///   ech are checked against their rules; other keys are kept in `unknown`.
///   IPv4-mapped ipv6hints are left out (RFC 9460 section 7.3: "SHOULD
///   ignore"), the record kept.
/// - AliasMode (priority 0): the SvcParams are checked for framing only and
///   dropped (section 2.4.2: "ignored"); a TargetName of "." (no service)
///   is kept for the dialer to act on.
///
/// nullopt when the record must be ignored; `why` then names the field and
/// the fault ("ipv4hint length 5 is not a multiple of 4"), and `kind` says
/// whether it was malformed or unsupported.
std::optional<service_record> parse_svcb_rdata(std::span<const std::uint8_t> rdata, std::string& why,
                                               svcb_rejection& kind);
std::optional<service_record> parse_svcb_rdata(std::span<const std::uint8_t> rdata, std::string& why);

/// What a response to an HTTPS query says.
struct https_response {
    /// The well-formed HTTPS records of the name, in the message's order.
    /// A ServiceMode record with TargetName "." reached through a CNAME gets
    /// the CNAME's target as its TargetName: "." means the owner name, which
    /// is then not the name asked for.
    std::vector<service_record> records;
    std::size_t rejected = 0;  ///< HTTPS records of the name that were ignored
    /// The smallest TTL of the records and of the CNAMEs leading to them
    /// (RFC 2181 section 8: a TTL with the top bit set counts as 0); 0 when
    /// records is empty.
    std::uint32_t ttl = 0;
    /// Set exactly when records is empty: host_not_found (NXDOMAIN),
    /// no_service_record (NOERROR without a usable record: NODATA, or only
    /// records whose mandatory keys nettrace does not support),
    /// malformed_service_record (every record ignored, at least one
    /// malformed), dns_failure (SERVFAIL, NOTIMP, other rcodes), dns_refused,
    /// dns_malformed (FORMERR, or a message that cannot be parsed).
    boost::system::error_code error;
    /// For people: why the first ignored record was ignored ("HTTPS record 1
    /// of svc.test: ipv4hint length 5 is not a multiple of 4"), or what is
    /// wrong with the message; set even when other records were accepted.
    std::string cause;
};

/// Parses a whole DNS response to the HTTPS query for `qname` (dotted, any
/// case, an optional trailing dot). The header, the question section
/// (skipped) and the answer section are read; owner names may be
/// compressed. Only type 65, class IN records owned by `qname` or by a name
/// its CNAME chain reaches count; the chain is followed from `qname`
/// whatever the records' order, for at most 16 links, and a loop, a fork
/// (two CNAMEs of one name) or a message cut short makes the whole answer
/// dns_malformed. The authority and additional sections are not read. A
/// message with TC set is dns_malformed: its records may be cut.
https_response parse_https_response(std::span<const std::uint8_t> msg, std::string_view qname);

}  // namespace nettrace::detail
