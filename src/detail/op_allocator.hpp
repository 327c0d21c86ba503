// Where dial operations live: a block per operation, kept by each thread
// for its next dial of the same size instead of going back to malloc. A dial
// is one block (the operation and its shared_ptr control block,
// allocate_shared), about 1.5 KB: too large for Asio's own recycling
// allocator (which keeps blocks up to 1 KB), and malloc plus free is ~250
// instructions of a literal dial's (benchmarks/README.md, "The lean dial").
#pragma once

#include <cstddef>
#include <new>

namespace nettrace::detail {

// One cached block per thread. A block freed on another thread than the one
// that made it (an io_context run by several) simply joins that thread's
// cache, or goes back to the heap when the cache is full.
class op_block_cache {
public:
    static void* allocate(std::size_t size) {
        auto& c = local();
        if (c.block && c.size == size) {
            void* p = c.block;
            c.block = nullptr;
            return p;
        }
        return ::operator new(size);
    }
    static void deallocate(void* p, std::size_t size) noexcept {
        auto& c = local();
        if (!c.block) {
            c.block = p;
            c.size = size;
            return;
        }
        ::operator delete(p);  // unsized: clang before 19 has no sized delete without -fsized-deallocation
    }

private:
    struct slot {
        void* block = nullptr;
        std::size_t size = 0;
        ~slot() { ::operator delete(block); }
    };
    // initial-exec: the library is linked, not dlopen'ed, in every use we
    // know of, and the general-dynamic model costs a __tls_get_addr call
    // (~50 instructions) per access; a dlopen'ed libnettrace still gets its
    // 16 bytes from glibc's static TLS surplus.
    static slot& local() noexcept {
        [[gnu::tls_model("initial-exec")]] thread_local slot s;
        return s;
    }
};

template <class T>
struct op_allocator {
    using value_type = T;
    op_allocator() = default;
    template <class U>
    op_allocator(const op_allocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return static_cast<T*>(op_block_cache::allocate(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { op_block_cache::deallocate(p, n * sizeof(T)); }
    template <class U>
    bool operator==(const op_allocator<U>&) const noexcept {
        return true;
    }
};

}  // namespace nettrace::detail
