// fuzz_replay_test.cpp — the fuzz targets of fuzz/ in the normal test suite:
// every seed (fuzz/corpus/<target>/) and every input a fuzzer ever crashed
// on (fuzz/regressions/<target>/) goes through the target once, with its
// invariants (FUZZ_CHECK throws here instead of aborting). Built once per
// target, with any compiler; the fuzzers themselves need clang (fuzz/run.sh).
//
// fuzz/regressions/<target>/known_bugs/ holds inputs of bugs not fixed yet:
// their test case is labelled known_bug (filter: -t '!@known_bug'); once a
// bug is fixed its inputs move up into fuzz/regressions/<target>/.
//
// Arguments after --: the fuzz/ directory and the target's name.
#include <boost/test/unit_test.hpp>

#include "../fuzz/check.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

fs::path dir_of(const std::string& kind) {
    const auto& suite = boost::unit_test::framework::master_test_suite();
    BOOST_TEST_REQUIRE(suite.argc >= 3, "pass the fuzz/ directory and the target after --");
    return fs::path(suite.argv[suite.argc - 2]) / kind / suite.argv[suite.argc - 1];
}

// Runs every regular file directly in `dir`; returns how many ran.
std::size_t replay(const fs::path& dir, bool required) {
    if (!fs::is_directory(dir)) {
        BOOST_TEST(!required, dir << " is missing");
        return 0;
    }
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        try {
            LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
        } catch (const fuzz_violation& e) {
            BOOST_ERROR(f.filename().string() << ": " << e.what());
        } catch (const std::exception& e) {
            BOOST_ERROR(f.filename().string() << ": exception " << e.what());
        }
    }
    BOOST_TEST_MESSAGE(dir << ": " << files.size() << " inputs");
    return files.size();
}

}  // namespace

BOOST_AUTO_TEST_CASE(seed_corpus) { BOOST_TEST(replay(dir_of("corpus"), true) > 0u); }

BOOST_AUTO_TEST_CASE(fixed_regressions) { replay(dir_of("regressions"), false); }

BOOST_AUTO_TEST_CASE(known_bug_regressions, *boost::unit_test::label("known_bug")) {
    replay(dir_of("regressions") / "known_bugs", false);
}
