// The geometry of a 2-D sliding window, shared by the convolution and pooling families of both
// backends: one struct instead of eight loose integers keeps argument lists short and in order.
#pragma once
#include <algorithm>
#include <cstdint>

namespace ember {

// Output position (oh, ow) covers the input rows oh*sh - ph + i*dh (i < kh) and the columns
// ow*sw - pw + j*dw (j < kw). Padding is the same on both sides of an axis.
struct Window2d {
  int64_t kh = 1, kw = 1;  // kernel extent
  int64_t sh = 1, sw = 1;  // stride
  int64_t ph = 0, pw = 0;  // padding
  int64_t dh = 1, dw = 1;  // dilation
};

// Along one axis: the outputs o in [0, n) whose input position o*stride + offset lies in
// [0, size) form one interval [lo, hi) (empty when lo == hi). With offset = tap*dilation - pad
// these are the outputs for which that kernel tap reads the input rather than the padding.
inline void valid_range(int64_t offset, int64_t stride, int64_t size, int64_t n, int64_t& lo,
                        int64_t& hi) {
  lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  hi = offset >= size ? 0 : (size - 1 - offset) / stride + 1;
  lo = std::min(lo, n);
  hi = std::max(lo, std::min(hi, n));
}

}  // namespace ember
