// NAT64 prefixes: RFC 6052 synthesis, RFC 7050 discovery, the text form.
#include <nettrace/address.hpp>
#include <nettrace/error.hpp>
#include <nettrace/nat64.hpp>

#include <algorithm>
#include <array>
#include <charconv>

namespace nettrace {

namespace {

using bytes6 = boost::asio::ip::address_v6::bytes_type;

bool valid_length(unsigned length) {
    return length == 32 || length == 40 || length == 48 || length == 56 || length == 64 || length == 96;
}

// Where the four IPv4 bytes go under a prefix of `length` bits: from the
// prefix's end on, skipping byte 8 (bits 64-71, the "u" octet that RFC 6052
// keeps zero for compatibility with RFC 4291's interface identifiers).
std::array<std::size_t, 4> v4_positions(unsigned length) {
    std::array<std::size_t, 4> at{};
    std::size_t i = length / 8;
    for (auto& p : at) {
        if (i == 8) ++i;
        p = i++;
    }
    return at;
}

}  // namespace

boost::asio::ip::address_v6 synthesize(const nat64_prefix& p, const boost::asio::ip::address_v4& v4) {
    bytes6 b{};
    const auto pb = p.prefix.to_bytes();
    std::copy_n(pb.begin(), p.length / 8, b.begin());
    const auto v = v4.to_bytes();
    const auto at = v4_positions(p.length);
    for (std::size_t k = 0; k < 4; ++k) b[at[k]] = v[k];
    return boost::asio::ip::address_v6(b);
}

std::optional<boost::asio::ip::address_v4> desynthesize(const nat64_prefix& p,
                                                        const boost::asio::ip::address_v6& v6) {
    const auto b = v6.to_bytes();
    const auto pb = p.prefix.to_bytes();
    if (!std::equal(pb.begin(), pb.begin() + p.length / 8, b.begin())) return std::nullopt;
    boost::asio::ip::address_v4::bytes_type v{};
    const auto at = v4_positions(p.length);
    for (std::size_t k = 0; k < 4; ++k) v[k] = b[at[k]];
    return boost::asio::ip::address_v4(v);
}

std::optional<nat64_prefix> discover_nat64_prefix(const boost::asio::ip::address_v6& answer) {
    const auto b = answer.to_bytes();
    for (unsigned length : {96u, 64u, 56u, 48u, 40u, 32u}) {
        if (length != 96 && b[8] != 0) continue;
        const auto at = v4_positions(length);
        if (b[at[0]] != 192 || b[at[1]] != 0 || b[at[2]] != 0 || (b[at[3]] != 170 && b[at[3]] != 171)) continue;
        bytes6 prefix{};
        std::copy_n(b.begin(), length / 8, prefix.begin());
        return nat64_prefix{boost::asio::ip::address_v6(prefix), length};
    }
    return std::nullopt;
}

std::optional<nat64_prefix> parse_nat64_prefix(std::string_view text, boost::system::error_code& ec) {
    ec = {};
    unsigned length = 96;
    if (const auto slash = text.find('/'); slash != std::string_view::npos) {
        const auto digits = text.substr(slash + 1);
        const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
        if (err != std::errc() || end != digits.data() + digits.size() || !valid_length(length)) {
            ec = make_error_code(error::invalid_nat64_prefix);
            return std::nullopt;
        }
        text = text.substr(0, slash);
    }
    const auto ip = parse_ip_literal(text, ec);
    if (!ip) return std::nullopt;
    if (!ip->is_v6() || ip->to_v6().scope_id() != 0) {
        ec = make_error_code(error::invalid_nat64_prefix);
        return std::nullopt;
    }
    const auto b = ip->to_v6().to_bytes();
    const bool bits_below = std::any_of(b.begin() + length / 8, b.end(), [](unsigned char c) { return c != 0; });
    if (bits_below) {
        ec = make_error_code(error::invalid_nat64_prefix);
        return std::nullopt;
    }
    return nat64_prefix{ip->to_v6(), length};
}

std::string to_string(const nat64_prefix& p) { return p.prefix.to_string() + "/" + std::to_string(p.length); }

}  // namespace nettrace
