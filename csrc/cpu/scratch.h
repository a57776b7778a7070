// Reusable scratch memory for the CPU kernels.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

namespace ember::cpu {

// A 64-byte aligned buffer that only grows, so that repeated calls reuse one allocation: large
// allocations come from fresh mmap'ed pages, whose page faults and zeroing cost a kernel call
// as much as its arithmetic (LeNet's convolutions). Contents are not initialised. Meant to be
// thread_local: each thread that calls a kernel owns its scratch, so concurrent callers never
// share it, and a buffer is only used within one call. trim() after a call gives back buffers
// grown past kMaxRetainedBytes (one huge image should not pin its columns for the process's life).
class ScratchBuffer {
 public:
  template <class T>
  T* get(int64_t count) {
    const size_t bytes = (static_cast<size_t>(count) * sizeof(T) + 63) / 64 * 64;
    if (bytes > capacity_) {
      data_.reset(static_cast<char*>(std::aligned_alloc(64, bytes)));
      if (!data_) throw std::bad_alloc();
      capacity_ = bytes;
    }
    return reinterpret_cast<T*>(data_.get());
  }

  void trim() {
    if (capacity_ > kMaxRetainedBytes) {
      data_.reset();
      capacity_ = 0;
    }
  }

  static constexpr size_t kMaxRetainedBytes = size_t(64) << 20;

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> data_;
  size_t capacity_ = 0;
};

}  // namespace ember::cpu
