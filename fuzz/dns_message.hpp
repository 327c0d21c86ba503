// An independent reading of DNS messages, for the fuzz targets' oracles
// (dns_answer_fuzzer.cpp, svcb_fuzzer.cpp): big-endian fields and names.
// It follows compression pointers anywhere (with a jump limit), so it
// accepts at least what the parsers under test accept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

struct dns_message {
    std::span<const std::uint8_t> m;

    std::uint16_t u16(std::size_t at) const { return std::uint16_t(m[at] << 8 | m[at + 1]); }

    /// The labels of the possibly compressed name at `off`, lowercased;
    /// advances `off` past it. Null if it runs off the end, loops or has a
    /// reserved label type.
    std::optional<std::vector<std::string>> name(std::size_t& off) const {
        std::vector<std::string> labels;
        std::size_t pos = off;
        bool jumped = false;
        for (int jumps = 0;;) {
            if (pos >= m.size()) return std::nullopt;
            const std::uint8_t len = m[pos];
            if ((len & 0xC0) == 0xC0) {
                if (pos + 1 >= m.size() || ++jumps > 256) return std::nullopt;
                if (!jumped) off = pos + 2;
                jumped = true;
                pos = std::size_t(len & 0x3F) << 8 | m[pos + 1];
                continue;
            }
            if (len & 0xC0) return std::nullopt;
            if (len == 0) {
                if (!jumped) off = pos + 1;
                return labels;
            }
            if (pos + 1 + len > m.size()) return std::nullopt;
            std::string label(reinterpret_cast<const char*>(&m[pos + 1]), len);
            for (char& c : label)
                if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
            labels.push_back(std::move(label));
            pos += 1 + len;
        }
    }
};
