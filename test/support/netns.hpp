// Network namespaces for tests: a process that moves into one of its own sees
// only its loopback interface, so nothing it (or a program it starts, such
// as a proxy without target rules) connects to can be anywhere else. The
// namespace belongs to the process and goes with it, even when a test fails
// or crashes: nothing is left to remove.
#pragma once

#include <string>

namespace nettrace::testing {

/// Moves this process into a new network namespace (unshare(CLONE_NEWNET))
/// and brings its loopback interface up (127.0.0.1 and ::1). Call before
/// any thread starts (a Boost.Test global fixture): the threads made later
/// and the children share it. Returns an empty string on success, else why
/// not ("unshare: Operation not permitted": not root, or no user
/// namespaces), and the process stays where it was.
std::string enter_private_network();

/// Whether enter_private_network() succeeded in this process.
bool in_private_network() noexcept;

}  // namespace nettrace::testing
