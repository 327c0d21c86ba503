// Running a program of the build (nettrace-dial) from a test: its path is
// the test's last command-line argument (after "--"), its stdout comes back
// as lines and its stderr as text. The proxy variables of the environment
// are unset for it: a test says on the command line which proxy it wants.
#pragma once

#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

namespace nettrace::testing {

inline std::string tool_path() {
    auto& suite = boost::unit_test::framework::master_test_suite();
    BOOST_REQUIRE_MESSAGE(suite.argc > 1, "pass the path of nettrace-dial after --");
    return suite.argv[suite.argc - 1];
}

struct run_result {
    int status = -1;
    std::vector<std::string> lines;  // stdout
    std::string err;                 // stderr
    std::string out() const {
        std::string all;
        for (const auto& l : lines) all += l + "\n";
        return all;
    }
};

/// Runs the tool with `args` through the shell (fixed strings written by
/// the tests, no user data); `shell_prefix` runs before it (a ulimit).
inline run_result run_tool(const std::string& args, const std::string& shell_prefix = "") {
    const std::string err_file = "/tmp/nettrace-tool-test-" + std::to_string(::getpid()) + ".err";
    // stderr is redirected first, before a prefix can lower the descriptor limit.
    const std::string cmd =
        "exec 2>" + err_file +
        "; unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY; " + shell_prefix +
        tool_path() + " " + args;
    run_result r;
    FILE* p = ::popen(cmd.c_str(), "r");
    BOOST_REQUIRE(p);
    char buf[4096];
    std::string out;
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    const int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    std::size_t pos = 0;
    while (pos < out.size()) {
        auto nl = out.find('\n', pos);
        if (nl == std::string::npos) nl = out.size();
        r.lines.push_back(out.substr(pos, nl - pos));
        pos = nl + 1;
    }
    if (FILE* f = std::fopen(err_file.c_str(), "r")) {
        while (std::size_t n = std::fread(buf, 1, sizeof buf, f)) r.err.append(buf, n);
        std::fclose(f);
        std::remove(err_file.c_str());
    }
    return r;
}

}  // namespace nettrace::testing
