// Programs the tests run as children: child_process starts one (fork and
// exec, its output to a log file, killed with the test) and stops and reaps
// it; server_process is one that serves on a 127.0.0.1 port, from a
// temporary directory of its own (the real proxies, the proxy example,
// Prometheus). Both bind and dial loopback only.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace nettrace::testing {

/// A program run as a child of the test: stdin from /dev/null, stdout and
/// stderr to a log file, none of the test's descriptors (its sockets must
/// not outlive it in the child), no blocked signals, and SIGTERM when the
/// thread that started it dies (PR_SET_PDEATHSIG). The destructor stops it.
class child_process {
public:
    /// Files to bind-mount over others ({"/tmp/x/passwd", "/etc/passwd"}) in
    /// a mount namespace of the child's own: the host's stay as they are.
    using bind_mounts = std::vector<std::pair<std::string, std::string>>;

    child_process() = default;  // none
    /// Runs `argv` (argv[0] a path), its output to `log_path` (truncated,
    /// created if need be). Throws if it cannot fork; a failed exec exits
    /// the child with 127, a failed mount with 126.
    child_process(const std::vector<std::string>& argv, const std::string& log_path, const bind_mounts& mounts = {});
    child_process(child_process&& other) noexcept;
    child_process& operator=(child_process&& other) noexcept;  // stops the child it held
    ~child_process();

    enum class readiness { ready, exited, timed_out };
    /// Calls `ready` until it returns true, the child exits (its wait
    /// status is then exit_status()) or `timeout` passes: a readiness probe,
    /// bounded, not a sleep as synchronisation. Each round first asks
    /// whether the child has exited, then probes; a round that probed in
    /// vain waits 10 ms before the next (a refused probe fails at once).
    readiness wait_until_ready(const std::function<bool()>& ready,
                               std::chrono::milliseconds timeout = std::chrono::seconds(10));

    /// The running child's process ID, -1 when none runs.
    pid_t pid() const noexcept { return pid_; }

    /// The wait status of a child that exited by itself.
    int exit_status() const noexcept { return status_; }

    /// SIGTERM, then SIGKILL if it has not exited within 2 s; reaps it.
    /// Does nothing when no child runs.
    void stop() noexcept;

private:
    pid_t pid_ = -1;
    int status_ = 0;
};

/// A server program run as a child_process on 127.0.0.1, ready when its
/// port accepts, with a temporary directory of its own for its
/// configuration and its log ("log"), removed with the object. A derived
/// class writes its configuration into dir_, then calls spawn().
class server_process {
public:
    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;
    ~server_process();

    unsigned short port() const noexcept { return port_; }
    /// What the program wrote to stdout and stderr, for failure messages.
    std::string log() const;

    /// A port free on 127.0.0.1 at the time of the call.
    static unsigned short free_port();

protected:
    /// Makes the directory, /tmp/nettrace-<name>-XXXXXX, readable by all
    /// (some servers drop to user nobody before reading their files).
    explicit server_process(const std::string& name);
    /// Runs argv and waits until 127.0.0.1:port accepts: true then; false if
    /// the program exited first (the port was taken, say). Throws when it
    /// neither accepts nor exits within 10 s.
    bool spawn(const std::vector<std::string>& argv, unsigned short port,
               const child_process::bind_mounts& mounts = {});

    std::string dir_;

private:
    child_process child_;
    unsigned short port_ = 0;
};

}  // namespace nettrace::testing
