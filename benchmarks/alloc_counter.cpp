// Counts heap allocations of the whole process, libnettrace.so included (the
// dynamic linker binds its calls to these definitions). Two doors lead to the
// heap from C++ and Asio code: the global operator new, and aligned_alloc,
// which Asio's recycling allocator calls for handlers and coroutine frames
// when its per-thread cache has no block to reuse. Both are counted.
#include "support.hpp"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

extern "C" void* __libc_memalign(std::size_t alignment, std::size_t size);

namespace {

std::atomic<std::uint64_t> count{0};

void* counted(void* p) {
    if (!p) throw std::bad_alloc();
    count.fetch_add(1, std::memory_order_relaxed);
    return p;
}

}  // namespace

std::uint64_t nettrace::bench::allocations() noexcept { return count.load(std::memory_order_relaxed); }

extern "C" void* aligned_alloc(std::size_t alignment, std::size_t size) {
    void* p = __libc_memalign(alignment, size);
    if (p) count.fetch_add(1, std::memory_order_relaxed);
    return p;
}

void* operator new(std::size_t n) { return counted(std::malloc(n ? n : 1)); }
void* operator new[](std::size_t n) { return counted(std::malloc(n ? n : 1)); }
void* operator new(std::size_t n, std::align_val_t a) {
    return counted(__libc_memalign(static_cast<std::size_t>(a), n ? n : 1));
}
void* operator new[](std::size_t n, std::align_val_t a) {
    return counted(__libc_memalign(static_cast<std::size_t>(a), n ? n : 1));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    void* p = std::malloc(n ? n : 1);
    if (p) count.fetch_add(1, std::memory_order_relaxed);
    return p;
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return operator new(n, std::nothrow); }

void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
