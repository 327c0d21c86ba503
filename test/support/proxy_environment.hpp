// A fixture that clears the proxy environment variables for each test and
// gives them back afterwards: what proxy_settings::from_environment reads,
// which proxy_settings_test tests and nettrace-dial's command line
// (cli_test) reads on every parse outside demo mode.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nettrace::testing {

/// Every variable from_environment reads starts unset and gets its value
/// back afterwards, so a test neither sees nor disturbs the caller's proxy
/// (whatever the shell running the suite has set). REQUEST_METHOD too: when
/// set it hides HTTP_PROXY (the library's httpoxy rule).
struct clean_proxy_environment {
    static constexpr const char* names[] = {
        "https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY",     "all_proxy",
        "ALL_PROXY",   "no_proxy",    "NO_PROXY",   "REQUEST_METHOD",
    };

    clean_proxy_environment() {
        for (const char* name : names) {
            const char* value = std::getenv(name);
            saved.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
            ::unsetenv(name);
        }
    }
    ~clean_proxy_environment() {
        for (const auto& [name, value] : saved) {
            if (value)
                ::setenv(name, value->c_str(), 1);
            else
                ::unsetenv(name);
        }
    }
    clean_proxy_environment(const clean_proxy_environment&) = delete;
    clean_proxy_environment& operator=(const clean_proxy_environment&) = delete;

    /// Sets one variable for the rest of the test.
    static void set(const char* name, const char* value) { BOOST_REQUIRE(::setenv(name, value, 1) == 0); }

    std::vector<std::pair<const char*, std::optional<std::string>>> saved;
};

}  // namespace nettrace::testing
