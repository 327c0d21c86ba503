// nettrace-dial's --resolve HOST:PORT:ADDR[,ADDR...] (curl's syntax), parsed.
// Its own file so that the fuzz target fuzz/resolve_spec_fuzzer.cpp runs the
// very parser the tool uses.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nettrace::tool {

/// A mistake on the command line: nettrace-dial prints it with a hint to
/// --help and exits with status 2.
class usage_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// One --resolve HOST:PORT:ADDR[,ADDR...].
struct pin {
    std::string spec;  // as written, for messages
    std::string host;
    std::uint16_t port = 0;
    std::vector<boost::asio::ip::address> addrs;
};

/// Parses one --resolve spec; throws usage_error naming what is wrong.
pin parse_resolve(std::string_view spec);

}  // namespace nettrace::tool
