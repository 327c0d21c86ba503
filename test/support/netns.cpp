// Entering a private network namespace (netns.hpp).
#include "netns.hpp"

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace nettrace::testing {
namespace {
bool entered = false;
}

std::string enter_private_network() {
    if (entered) return {};
    if (::unshare(CLONE_NEWNET) != 0) return std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
    // A new namespace's lo is down; SIOCSIFFLAGS brings it up without
    // needing iproute2 on the machine.
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::string("socket: ") + std::strerror(errno);
    ifreq req{};
    std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
    std::string why;
    if (::ioctl(fd, SIOCGIFFLAGS, &req) != 0) why = std::string("SIOCGIFFLAGS lo: ") + std::strerror(errno);
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
    if (why.empty() && ::ioctl(fd, SIOCSIFFLAGS, &req) != 0)
        why = std::string("SIOCSIFFLAGS lo: ") + std::strerror(errno);
    ::close(fd);
    entered = why.empty();
    return why;
}

bool in_private_network() noexcept { return entered; }

}  // namespace nettrace::testing
