// svcb_test.cpp — the HTTPS/SVCB wire-format parser (src/detail/svcb.hpp):
// RFC 9460 appendix D's vectors, each way a record can be malformed (each
// dropped whole, the field named), and whole responses: rcodes, CNAME
// chains in any order, names of other owners, compression loops, messages
// cut at every length. Also the presentation form (to_string) and the
// query name. No sockets.
#define BOOST_TEST_MODULE svcb
#include <boost/test/unit_test.hpp>

#include "detail/svcb.hpp"

#include <nettrace/error.hpp>
#include <nettrace/service.hpp>

#include "support/svcb_rdata.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using bytes = std::vector<std::uint8_t>;
using nettrace::error;
using nettrace::service_record;
using nettrace::detail::parse_https_response;
using nettrace::detail::parse_svcb_rdata;
using nettrace::detail::svcb_rejection;
using namespace nettrace::testing;  // svcb_rdata, unhex, wire_name
namespace ip = boost::asio::ip;

// Parses `rdata`, which must be accepted.
service_record accepted(const bytes& rdata) {
    std::string why;
    auto r = parse_svcb_rdata(rdata, why);
    BOOST_TEST_REQUIRE(r.has_value(), "rejected: " << why);
    BOOST_TEST(why.empty());
    return *r;
}

// Parses `rdata`, which must be refused; returns why.
std::string refused(const bytes& rdata, svcb_rejection expected = svcb_rejection::malformed) {
    std::string why;
    svcb_rejection kind;
    const auto r = parse_svcb_rdata(rdata, why, kind);
    BOOST_TEST(!r.has_value(), "accepted: " << (r ? nettrace::to_string(*r) : ""));
    BOOST_TEST((kind == expected));
    BOOST_TEST(!why.empty());
    return why;
}

// --- whole messages --------------------------------------------------------

bytes operator+(bytes a, const bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}
bytes u16(unsigned v) { return {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)}; }
bytes u32(std::uint32_t v) { return u16(v >> 16) + u16(v & 0xffff); }

const bytes ptr_q = {0xc0, 0x0c};  // a pointer to the question's name, at offset 12
constexpr std::uint16_t https = 65, cname = 5, type_a = 1;

bytes rr(const bytes& owner, std::uint16_t type, const bytes& rdata, std::uint32_t ttl = 300,
         std::uint16_t rclass = 1) {
    return owner + u16(type) + u16(rclass) + u32(ttl) + u16(static_cast<unsigned>(rdata.size())) + rdata;
}

// A response to the HTTPS query for `qname`: header (flags), the question,
// then the answers.
bytes response(std::string_view qname, const std::vector<bytes>& answers, unsigned flags = 0x8180) {
    bytes m = u16(0x1234) + u16(flags) + u16(1) + u16(static_cast<unsigned>(answers.size())) + u16(0) + u16(0) +
              wire_name(qname) + u16(https) + u16(1);
    for (const auto& a : answers) m = m + a;
    return m;
}

const bytes good = svcb_rdata("1 . alpn=h2 port=8443 ipv4hint=127.0.0.1");

}  // namespace

// ---------------------------------------------------------------------------
// RFC 9460 appendix D

BOOST_AUTO_TEST_SUITE(rfc9460_vectors)

BOOST_AUTO_TEST_CASE(d1_alias_mode_names_its_target) {
    const auto r = accepted(unhex("0000 03666f6f076578616d706c6503636f6d00"));
    BOOST_TEST(r.alias_mode());
    BOOST_TEST(r.target == "foo.example.com");
    BOOST_TEST(nettrace::to_string(r) == "0 foo.example.com.");
}

BOOST_AUTO_TEST_CASE(d2_service_mode_vectors_parse_field_by_field) {
    // Figure 3: TargetName is "."
    auto r = accepted(unhex("0001 00"));
    BOOST_TEST(r.priority == 1u);
    BOOST_TEST(r.target == ".");
    BOOST_TEST(nettrace::to_string(r) == "1 .");

    // Figure 4: a port.
    r = accepted(unhex("0010 03666f6f076578616d706c6503636f6d00 0003 0002 0035"));
    BOOST_TEST(r.priority == 16u);
    BOOST_TEST(r.target == "foo.example.com");
    BOOST_TEST(r.port == 53u);

    // Figures 5 and 6: a generic key, kept opaque.
    r = accepted(unhex("0001 03666f6f076578616d706c6503636f6d00 029b 0005 68656c6c6f"));
    BOOST_TEST_REQUIRE(r.unknown.size() == 1u);
    BOOST_TEST(r.unknown[0].key == 667u);
    BOOST_TEST(r.unknown[0].value == bytes({'h', 'e', 'l', 'l', 'o'}));
    r = accepted(unhex("0001 03666f6f076578616d706c6503636f6d00 029b 0009 68656c6c6fd2716f6f"));
    BOOST_TEST(r.unknown.at(0).value == unhex("68656c6c6fd2716f6f"));
    BOOST_TEST(nettrace::to_string(r) == "1 foo.example.com. key667=68656c6c6fd2716f6f");

    // Figure 7: two IPv6 hints.
    r =
        accepted(unhex("0001 03666f6f076578616d706c6503636f6d00 0006 0020"
                       "20010db8000000000000000000000001 20010db8000000000000000000530001"));
    BOOST_TEST(r.ipv6hint == (std::vector{ip::make_address_v6("2001:db8::1"), ip::make_address_v6("2001:db8::53:1")}));

    // Figure 8: an IPv6 hint in the embedded-IPv4 syntax.
    r = accepted(unhex("0001 076578616d706c6503636f6d00 0006 0010 20010db8012203440000 0000c0000221"));
    BOOST_TEST(r.target == "example.com");
    BOOST_TEST(r.ipv6hint == std::vector{ip::make_address_v6("2001:db8:122:344::192.0.2.33")});

    // Figure 9: mandatory, alpn, ipv4hint, sorted on the wire.
    r =
        accepted(unhex("0010 03666f6f076578616d706c65036f726700 0000 0004 0001 0004"
                       "0001 0009 02 6832 05 68332d3139 0004 0004 c0000201"));
    BOOST_TEST(r.target == "foo.example.org");
    BOOST_TEST(r.mandatory == (std::vector<std::uint16_t>{1, 4}));
    BOOST_TEST(r.alpn == (std::vector<std::string>{"h2", "h3-19"}));
    BOOST_TEST(r.ipv4hint == std::vector{ip::make_address_v4("192.0.2.1")});
    BOOST_TEST(nettrace::to_string(r) ==
               "16 foo.example.org. mandatory=alpn,ipv4hint alpn=h2,h3-19 ipv4hint=192.0.2.1");

    // Figure 10: an alpn id holding a comma and a backslash.
    r = accepted(unhex("0010 03666f6f076578616d706c65036f726700 0001 000c 08 665c6f6f2c626172 02 6832"));
    BOOST_TEST(r.alpn == (std::vector<std::string>{"f\\oo,bar", "h2"}));
    BOOST_TEST(nettrace::to_string(r) == R"(16 foo.example.org. alpn=f\\\\oo\\,bar,h2)");
}

// D.3's failure cases, in wire form (the presentation ones that have one).
BOOST_AUTO_TEST_CASE(d3_failure_cases_are_refused_naming_the_field) {
    const auto abc = bytes{'a', 'b', 'c'}, def = bytes{'d', 'e', 'f'};
    BOOST_TEST(refused(svcb_rdata(1, "foo.example.com", {{123, abc}, {123, def}})) == "key123 appears twice");
    BOOST_TEST(refused(svcb_rdata(1, "foo.example.com", {{0, {}}})) == "mandatory is empty");
    BOOST_TEST(refused(svcb_rdata(1, "foo.example.com", {{1, {}}})) == "alpn is empty");
    BOOST_TEST(refused(svcb_rdata(1, "foo.example.com", {{3, {}}})) == "port length 0 is not 2");
    BOOST_TEST(refused(svcb_rdata(1, "foo.example.com", {{4, {}}})) == "ipv4hint is empty");
    BOOST_TEST(refused(svcb_rdata(1, "foo.example.com", {{6, {}}})) == "ipv6hint is empty");
    BOOST_TEST(refused(svcb_rdata(1, "foo.example.com", {{1, {2, 'h', '2'}}, {2, abc}})) ==
               "no-default-alpn has a value (3 bytes); it must be empty");
    BOOST_TEST(refused(svcb_rdata(1, "foo.example.com", {{0, u16(123)}})) ==
               "mandatory lists key123, which the record lacks");
    BOOST_TEST(refused(svcb_rdata(1, "foo.example.com", {{0, u16(0)}})) == "mandatory lists mandatory itself");
    BOOST_TEST(refused(svcb_rdata(1, "foo.example.com", {{0, u16(123) + u16(123)}, {123, abc}})) ==
               "mandatory lists key123 after key123: its keys must be strictly ascending");
    // Section 7.1.1: no-default-alpn needs alpn.
    BOOST_TEST(refused(svcb_rdata(1, "foo.example.com", {{2, {}}})) == "no-default-alpn without alpn");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// One record

BOOST_AUTO_TEST_SUITE(one_record)

BOOST_AUTO_TEST_CASE(each_malformation_is_refused_whole_with_the_field_named) {
    struct row {
        const char* what;
        bytes rdata;
        std::string why;  // exactly
    };
    const bytes h2 = {2, 'h', '2'}, port = u16(443);
    std::vector<row> rows = {
        {"hint length", svcb_rdata(1, ".", {{4, {127, 0, 0, 1, 9}}}), "ipv4hint length 5 is not a multiple of 4"},
        {"hint length even", svcb_rdata(1, ".", {{4, {127, 0, 0, 1, 9, 9}}}),
         "ipv4hint length 6 is not a multiple of 4"},
        {"v6 hint length", svcb_rdata(1, ".", {{6, bytes(20)}}), "ipv6hint length 20 is not a multiple of 16"},
        {"port size", svcb_rdata(1, ".", {{3, {1, 2, 3}}}), "port length 3 is not 2"},
        {"port 0", svcb_rdata(1, ".", {{3, u16(0)}}), "port 0 is no service's port"},
        {"alpn empty id", svcb_rdata(1, ".", {{1, {2, 'h', '2', 0}}}), "alpn id 2 is empty"},
        {"alpn overrun", svcb_rdata(1, ".", {{1, {5, 'h', '2'}}}),
         "alpn id 1 (5 bytes) runs past the end of the value (3 bytes)"},
        {"ech empty", svcb_rdata(1, ".", {{5, {}}}), "ech is empty"},
        {"keys descending", svcb_rdata(1, ".", {{3, port}, {1, h2}}),
         "alpn after port: keys must be strictly ascending"},
        {"key 65535", svcb_rdata(1, ".", {{65535, {}}}), "key 65535 is reserved as invalid"},
        {"mandatory odd", svcb_rdata(1, ".", {{0, {0, 1, 0}}, {1, h2}}), "mandatory length 3 is not a multiple of 2"},
        {"mandatory descending", svcb_rdata(1, ".", {{0, u16(3) + u16(1)}, {1, h2}, {3, port}}),
         "mandatory lists alpn after port: its keys must be strictly ascending"},
        {"mandatory key absent", svcb_rdata(1, ".", {{0, u16(4)}, {1, h2}}),
         "mandatory lists ipv4hint, which the record lacks"},
        {"no priority", {0}, "RDATA of 1 byte has no room for SvcPriority (2 bytes)"},
        {"compressed target", {0, 1, 0xc0, 0x0c}, "TargetName is compressed (RFC 9460 section 2.2 forbids it)"},
        {"target cut", {0, 1, 3, 'f', 'o'}, "TargetName runs past the end of the RDATA"},
        {"target no end", {0, 1, 1, 'f'}, "TargetName runs past the end of the RDATA"},
        {"label 64", bytes{0, 1, 64} + bytes(64, 'a') + bytes{0}, "TargetName label 1 is 64 bytes long (at most 63)"},
        {"dot in label",
         {0, 1, 1, 'a', 3, 'b', '.', 'c', 0},
         "TargetName label 2 holds byte 0x2e, which no host name holds (letters, digits, '-' and '_' only)"},
        {"nul in label",
         {0, 1, 2, 'a', 0, 0},
         "TargetName label 1 holds byte 0x00, which no host name holds (letters, "
         "digits, '-' and '_' only)"},
        {"param header cut", {0, 1, 0, 0, 1, 0}, "SvcParam header cut short: 3 bytes left, 4 needed"},
        {"param overrun", {0, 1, 0, 0, 4, 0, 8, 1, 2, 3, 4}, "ipv4hint length 8 runs past the end of the RDATA"},
    };
    bytes long_target = {0, 1};
    for (int i = 0; i < 5; ++i) long_target = long_target + bytes{63} + bytes(63, 'a');
    rows.push_back({"target over 255", long_target + bytes{0}, "TargetName is longer than 255 bytes"});
    for (const auto& row : rows) BOOST_TEST(refused(row.rdata) == row.why, row.what);
}

BOOST_AUTO_TEST_CASE(a_mandatory_key_nettrace_does_not_interpret_makes_the_record_ignored_not_malformed) {
    // RFC 9460 section 8: "MUST ignore" a record whose mandatory key it does not know.
    const auto why = refused(svcb_rdata(1, ".", {{0, u16(7)}, {7, {'/', 'q'}}}), svcb_rejection::unsupported);
    BOOST_TEST(why ==
               "mandatory lists key7, which nettrace does not support: the record is ignored (RFC 9460 section 8)");
    // The same key present but not mandatory is kept opaque.
    const auto r = accepted(svcb_rdata(1, ".", {{7, {'/', 'q'}}}));
    BOOST_TEST_REQUIRE(r.unknown.size() == 1u);
    BOOST_TEST(r.unknown[0].key == 7u);
    // Every key nettrace interprets may be mandatory.
    BOOST_TEST(accepted(svcb_rdata("1 . mandatory=alpn,port,ipv4hint,ech,ipv6hint alpn=h2 port=1 ipv4hint=192.0.2.1 "
                                   "ech=AQI= ipv6hint=2001:db8::1"))
                   .mandatory.size() == 5u);
}

BOOST_AUTO_TEST_CASE(alias_mode_checks_only_the_framing_of_its_params_and_drops_them) {
    // RFC 9460 2.4.2: AliasMode SvcParams are ignored; nonsense inside them does not matter...
    auto r = accepted(svcb_rdata(0, "pool.test", {{4, {1, 2, 3}}, {1, {}}, {1, {}}}));
    BOOST_TEST(r.target == "pool.test");
    BOOST_TEST(r.alpn.empty());
    BOOST_TEST(r.ipv4hint.empty());
    // ...a param running past the RDATA does.
    BOOST_TEST(refused({0, 0, 0, 0, 4, 0, 9, 1}) == "ipv4hint length 9 runs past the end of the RDATA");
    // "0 ." is "no service here": kept for the dialer to act on.
    r = accepted(svcb_rdata(0, ".", {}));
    BOOST_TEST(r.alias_mode());
    BOOST_TEST(r.target == ".");
}

BOOST_AUTO_TEST_CASE(target_names_are_lower_cased_without_the_trailing_dot) {
    BOOST_TEST(accepted(svcb_rdata(1, "Svc-1.EXAMPLE.test.", {})).target == "svc-1.example.test");
    BOOST_TEST(accepted(svcb_rdata(1, "_dns.resolver.arpa", {})).target == "_dns.resolver.arpa");
}

BOOST_AUTO_TEST_CASE(ipv4_mapped_ipv6_hints_are_left_out_and_the_record_kept) {
    const auto r = accepted(svcb_rdata("1 . ipv6hint=::ffff:192.0.2.1,2001:db8::1"));
    BOOST_TEST(r.ipv6hint == std::vector{ip::make_address_v6("2001:db8::1")});
}

BOOST_AUTO_TEST_CASE(no_default_alpn_h3_only_is_well_formed) {
    // hev3-cases.md: useless to a TCP client, but that is the dialer's call.
    const auto r = accepted(svcb_rdata("1 . alpn=h3 no-default-alpn"));
    BOOST_TEST(r.no_default_alpn);
    BOOST_TEST(r.alpn == std::vector<std::string>{"h3"});
}

BOOST_AUTO_TEST_CASE(presentation_form_round_trips_through_the_wire) {
    for (const std::string text : {
             "1 . alpn=h2,http/1.1 port=8443 ipv4hint=127.0.0.1",
             "2 alt.test. mandatory=alpn,port alpn=h3 no-default-alpn port=443 ipv4hint=192.0.2.1,192.0.2.2 "
             "ech=AEX+DQBB ipv6hint=2001:db8::1,::1 key7=2f646e73 key65000",
             "3 . ech=AQI=",
             "0 pool.test.",
             R"(16 foo.example.org. alpn=f\\\\oo\\,bar,h2)",
             R"(1 . alpn=a\032b,\034q\034)",
         })
        BOOST_TEST(nettrace::to_string(accepted(svcb_rdata(text))) == text);
    // The encoder sorts keys, as the wire format wants, whatever the order written.
    BOOST_TEST(svcb_rdata("1 . port=1 alpn=h2") == svcb_rdata("1 . alpn=h2 port=1"));
}

BOOST_AUTO_TEST_CASE(https_query_name_is_the_host_for_443_and_underscored_otherwise) {
    BOOST_TEST(nettrace::https_query_name("svc.test", 443) == "svc.test");
    BOOST_TEST(nettrace::https_query_name("svc.test", 8443) == "_8443._https.svc.test");
    BOOST_TEST(nettrace::https_query_name("svc.test", 80) == "_80._https.svc.test");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Whole responses

BOOST_AUTO_TEST_SUITE(responses)

BOOST_AUTO_TEST_CASE(every_record_of_the_name_in_order_with_the_smallest_ttl) {
    const auto second = svcb_rdata("2 alt.test. alpn=h3,h2 ipv6hint=::1");
    const auto r = parse_https_response(
        response("svc.test", {rr(ptr_q, https, good, 300), rr(ptr_q, https, second, 120)}), "svc.test");
    BOOST_TEST(!r.error, r.error.message() << ": " << r.cause);
    BOOST_TEST_REQUIRE(r.records.size() == 2u);
    BOOST_TEST(nettrace::to_string(r.records[0]) == "1 . alpn=h2 port=8443 ipv4hint=127.0.0.1");
    BOOST_TEST(nettrace::to_string(r.records[1]) == "2 alt.test. alpn=h3,h2 ipv6hint=::1");
    BOOST_TEST(r.records[0].ttl == 300u);
    BOOST_TEST(r.records[1].ttl == 120u);
    BOOST_TEST(r.ttl == 120u);
    BOOST_TEST(r.rejected == 0u);
    BOOST_TEST(r.cause.empty());
}

BOOST_AUTO_TEST_CASE(rcodes_and_empty_answers_map_to_their_errors) {
    struct row {
        unsigned flags;
        std::vector<bytes> answers;
        error expected;
        std::string cause;
    };
    const row rows[] = {
        {0x8183, {}, error::host_not_found, ""},
        {0x8182, {}, error::dns_failure, "the server answered SERVFAIL"},
        {0x8185, {}, error::dns_refused, ""},
        {0x8181, {}, error::dns_malformed, "the server could not parse the query (FORMERR)"},
        {0x8184, {}, error::dns_failure, "the server does not implement the query (NOTIMP)"},
        {0x8189, {}, error::dns_failure, "the server answered rcode 9"},
        {0x8180, {}, error::no_service_record, ""},
        // Records of other types (an A record, an HTTPS record of class CH) are no HTTPS answer.
        {0x8180, {rr(ptr_q, type_a, {127, 0, 0, 1}), rr(ptr_q, https, good, 300, 3)}, error::no_service_record, ""},
        // NXDOMAIN wins over whatever records came with it.
        {0x8183, {rr(ptr_q, https, good)}, error::host_not_found, ""},
        {0x8380, {rr(ptr_q, https, good)}, error::dns_malformed, "the answer is truncated (TC set)"},
        {0x0180, {rr(ptr_q, https, good)}, error::dns_malformed, "the message is a query, not an answer (QR clear)"},
        {0x9180, {rr(ptr_q, https, good)}, error::dns_malformed, "the answer's opcode is 2, not 0"},
    };
    for (const auto& row : rows) {
        const auto r = parse_https_response(response("svc.test", row.answers, row.flags), "svc.test");
        BOOST_TEST(r.error == row.expected, std::hex << row.flags << ": " << r.error.message());
        BOOST_TEST(r.records.empty());
        BOOST_TEST(r.cause == row.cause);
    }
}

BOOST_AUTO_TEST_CASE(a_malformed_record_is_dropped_and_counted_beside_good_ones) {
    const auto bad = svcb_rdata(2, ".", {{4, {127, 0, 0, 1, 9}}});
    auto r = parse_https_response(response("svc.test", {rr(ptr_q, https, good), rr(ptr_q, https, bad)}), "svc.test");
    BOOST_TEST(!r.error);
    BOOST_TEST(r.records.size() == 1u);
    BOOST_TEST(r.rejected == 1u);
    BOOST_TEST(r.cause == "HTTPS record 2 of svc.test: ipv4hint length 5 is not a multiple of 4");

    // Every record malformed: the answer is malformed_service_record, naming the first fault.
    const auto bad2 = svcb_rdata(1, ".", {{3, {1}}});
    r = parse_https_response(response("svc.test", {rr(ptr_q, https, bad2), rr(ptr_q, https, bad)}), "svc.test");
    BOOST_TEST(r.error == error::malformed_service_record);
    BOOST_TEST(r.rejected == 2u);
    BOOST_TEST(r.cause == "HTTPS record 1 of svc.test: port length 1 is not 2");
    BOOST_TEST(r.ttl == 0u);
}

BOOST_AUTO_TEST_CASE(only_unsupported_mandatory_records_answer_no_service_record_with_the_cause) {
    const auto unsupported = svcb_rdata(1, ".", {{0, u16(7)}, {7, {'/'}}});
    auto r = parse_https_response(response("svc.test", {rr(ptr_q, https, unsupported)}), "svc.test");
    BOOST_TEST(r.error == error::no_service_record);
    BOOST_TEST(r.rejected == 1u);
    BOOST_TEST(r.cause.find("nettrace does not support") != std::string::npos, r.cause);
    // With a malformed one beside it, the answer is malformed.
    const auto bad = svcb_rdata(2, ".", {{1, {}}});
    r = parse_https_response(response("svc.test", {rr(ptr_q, https, unsupported), rr(ptr_q, https, bad)}), "svc.test");
    BOOST_TEST(r.error == error::malformed_service_record);
    BOOST_TEST(r.rejected == 2u);
}

BOOST_AUTO_TEST_CASE(a_cname_chain_is_followed_from_the_name_whatever_the_order_of_records) {
    // The HTTPS record first, the chain's links backwards.
    const auto m = response("svc.test", {rr(wire_name("c2.test"), https, svcb_rdata("1 . port=9000"), 600),
                                         rr(wire_name("c2.test"), https, svcb_rdata("0 ."), 600),
                                         rr(wire_name("c1.test"), cname, wire_name("c2.test"), 30),
                                         rr(ptr_q, cname, wire_name("c1.test"), 400)});
    const auto r = parse_https_response(m, "svc.test");
    BOOST_TEST(!r.error, r.error.message() << ": " << r.cause);
    BOOST_TEST_REQUIRE(r.records.size() == 2u);
    // ServiceMode "." is the owner, which is c2.test here, not the name asked for.
    BOOST_TEST(r.records[0].target == "c2.test");
    BOOST_TEST(r.records[0].port == 9000u);
    // AliasMode "." stays "no service".
    BOOST_TEST(r.records[1].target == ".");
    BOOST_TEST(r.ttl == 30u);  // the chain's weakest link
}

BOOST_AUTO_TEST_CASE(a_dot_target_behind_a_cname_to_no_host_name_is_malformed) {
    // The owner becomes the TargetName, so it must be a name the dialer can look up.
    const bytes dotted_label = {3, 'a', '.', 'b', 4, 't', 'e', 's', 't', 0};
    auto r = parse_https_response(
        response("svc.test", {rr(ptr_q, cname, dotted_label), rr(dotted_label, https, svcb_rdata("1 . port=1"))}),
        "svc.test");
    BOOST_TEST(r.error == error::malformed_service_record);
    BOOST_TEST(r.cause ==
               "HTTPS record 1 of a.b.test: TargetName \".\" stands for the owner, a.b.test, which is no "
               "host name");
    r = parse_https_response(response("svc.test", {rr(ptr_q, cname, {0}), rr({0}, https, svcb_rdata("1 ."))}),
                             "svc.test");
    BOOST_TEST(r.error == error::malformed_service_record);
    // AliasMode "." means "no service" wherever it is: kept.
    r = parse_https_response(response("svc.test", {rr(ptr_q, cname, {0}), rr({0}, https, svcb_rdata("0 ."))}),
                             "svc.test");
    BOOST_TEST(!r.error);
}

BOOST_AUTO_TEST_CASE(records_of_other_names_and_unchained_cnames_are_never_used) {
    const auto bad = svcb_rdata(1, ".", {{1, {}}});
    const auto m =
        response("svc.test",
                 {rr(wire_name("other.test"), https, good), rr(wire_name("other.test"), cname, wire_name("evil.test")),
                  rr(wire_name("evil.test"), https, good), rr(wire_name("other.test"), https, bad)});
    const auto r = parse_https_response(m, "svc.test");
    BOOST_TEST(r.error == error::no_service_record);
    BOOST_TEST(r.records.empty());
    BOOST_TEST(r.rejected == 0u);  // another name's malformed record is not even read
}

BOOST_AUTO_TEST_CASE(cname_loops_forks_and_overlong_chains_make_the_answer_malformed) {
    auto r = parse_https_response(response("svc.test", {rr(ptr_q, cname, wire_name("x.test")),
                                                        rr(wire_name("x.test"), cname, wire_name("svc.test")),
                                                        rr(wire_name("x.test"), https, good)}),
                                  "svc.test");
    BOOST_TEST(r.error == error::dns_malformed);
    BOOST_TEST(r.cause == "the CNAME chain loops back to svc.test");

    r = parse_https_response(
        response("svc.test", {rr(ptr_q, cname, wire_name("x.test")), rr(ptr_q, cname, wire_name("y.test")),
                              rr(wire_name("x.test"), https, good)}),
        "svc.test");
    BOOST_TEST(r.error == error::dns_malformed);
    BOOST_TEST(r.cause == "svc.test has two CNAME records");

    // 16 links are followed, 17 are not.
    for (const int links : {16, 17}) {
        std::vector<bytes> answers{rr(ptr_q, cname, wire_name("c1.test"))};
        for (int i = 1; i < links; ++i)
            answers.push_back(rr(wire_name("c" + std::to_string(i) + ".test"), cname,
                                 wire_name("c" + std::to_string(i + 1) + ".test")));
        answers.push_back(rr(wire_name("c" + std::to_string(links) + ".test"), https, good));
        r = parse_https_response(response("svc.test", answers), "svc.test");
        if (links == 16) {
            BOOST_TEST(!r.error, r.cause);
            BOOST_TEST(r.records.size() == 1u);
        } else {
            BOOST_TEST(r.error == error::dns_malformed);
            BOOST_TEST(r.cause == "the CNAME chain is longer than 16");
        }
    }

    // A CNAME's RDATA must be one name, exactly.
    r = parse_https_response(response("svc.test", {rr(ptr_q, cname, wire_name("x.test") + bytes{0})}), "svc.test");
    BOOST_TEST(r.error == error::dns_malformed);
    BOOST_TEST(r.cause == "the CNAME of svc.test: not one name");
}

BOOST_AUTO_TEST_CASE(compressed_names_are_read_and_case_is_ignored) {
    // svc.test's "test" label is at offset 16: a CNAME to www.test written
    // as "www" + a pointer there, and the HTTPS record's owner likewise.
    const bytes www_test = bytes{3, 'w', 'w', 'w', 0xc0, 16};
    const auto m = response("SvC.TeSt", {rr(ptr_q, cname, www_test), rr(www_test, https, good)});
    const auto r = parse_https_response(m, "svc.test.");
    BOOST_TEST(!r.error, r.error.message() << ": " << r.cause);
    BOOST_TEST(r.records.size() == 1u);
}

BOOST_AUTO_TEST_CASE(compression_pointer_loops_and_forward_pointers_are_refused) {
    const auto tail = u16(https) + u16(1) + u32(300) + u16(static_cast<unsigned>(good.size())) + good;
    const auto header_and_question = response("svc.test", {});
    const std::size_t at = header_and_question.size();  // where the answer's owner starts
    const std::vector<std::pair<const char*, bytes>> owners = {
        {"self", u16(0xc000 | static_cast<unsigned>(at))},
        {"forward", u16(0xc000 | static_cast<unsigned>(at + 2))},
        {"past the end", u16(0xc000 | 0x3fff)},
        // A label, then a pointer back to that label: a loop through it.
        {"through a label", bytes{1, 'x'} + u16(0xc000 | static_cast<unsigned>(at))},
        {"label type 0x40", bytes{0x41, 'x', 0}},
    };
    for (const auto& [what, owner] : owners) {
        auto m = response("svc.test", {owner + tail});
        const auto r = parse_https_response(m, "svc.test");
        BOOST_TEST(r.error == error::dns_malformed, what);
        BOOST_TEST(r.cause.starts_with("answer 1: "), what << ": " << r.cause);
    }
    // Pointers to pointers, each further back: bounded at 127 hops.
    for (const unsigned hops : {127u, 128u}) {
        // An HTTPS record of svc.test whose owner is a pointer to the last
        // of `hops` - 1 pointers in a TXT record's RDATA, each pointing at
        // the one before, the first at the question's name.
        const unsigned n = hops - 1;
        bytes chain = u16(0xc000 | 12);
        const std::size_t txt_rdata = at + 2 + 10;
        for (unsigned i = 1; i < n; ++i) chain = chain + u16(0xc000 | unsigned(txt_rdata + 2 * (i - 1)));
        const auto last = u16(0xc000 | unsigned(txt_rdata + 2 * (n - 1)));
        const auto m = response("svc.test", {rr(ptr_q, 16, chain), rr(last, https, good)});
        const auto r = parse_https_response(m, "svc.test");
        if (hops == 127) {
            BOOST_TEST(!r.error, r.cause);
        } else {
            BOOST_TEST(r.error == error::dns_malformed);
            BOOST_TEST(r.cause == "answer 2: a name chains more than 127 compression pointers");
        }
    }
    // Two names pointing at each other: a CNAME's target and the next owner.
    const std::size_t cname_rdata = at + 2 + 10;
    auto m = response("svc.test", {rr(ptr_q, cname, bytes{1, 'y'} + u16(0xc000 | unsigned(cname_rdata + 4))),
                                   rr(bytes{1, 'x'} + u16(0xc000 | unsigned(cname_rdata)), https, good)});
    BOOST_TEST(parse_https_response(m, "svc.test").error == error::dns_malformed);
}

BOOST_AUTO_TEST_CASE(a_message_cut_at_any_length_is_malformed_never_half_read) {
    const auto m = response("svc.test", {rr(ptr_q, cname, wire_name("c.test")), rr(wire_name("c.test"), https, good),
                                         rr(wire_name("c.test"), https, svcb_rdata("2 . alpn=h3"))});
    BOOST_TEST_REQUIRE(!parse_https_response(m, "svc.test").error);
    for (std::size_t n = 0; n < m.size(); ++n) {
        const auto r = parse_https_response(std::span(m.data(), n), "svc.test");
        BOOST_TEST(r.error == error::dns_malformed, n << " of " << m.size() << " bytes: " << r.error.message());
        BOOST_TEST(r.records.empty());
        BOOST_TEST(!r.cause.empty());
    }
}

BOOST_AUTO_TEST_CASE(a_ttl_with_the_top_bit_set_counts_as_zero) {
    const auto r = parse_https_response(response("svc.test", {rr(ptr_q, https, good, 0x80000001u)}), "svc.test");
    BOOST_TEST_REQUIRE(r.records.size() == 1u);
    BOOST_TEST(r.records[0].ttl == 0u);
    BOOST_TEST(r.ttl == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
