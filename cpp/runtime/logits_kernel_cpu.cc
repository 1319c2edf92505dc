// ApplyTokenBitmask (see logits_kernel_cpu.h).
#include "logits_kernel_cpu.h"

#include <algorithm>
#include <limits>
#include <string>

#include "errors.h"

namespace xgram {
namespace {

// -inf as the bit pattern of each 16-bit float format.
constexpr uint16_t kFloat16NegativeInfinity = 0xFC00;
constexpr uint16_t kBFloat16NegativeInfinity = 0xFF80;

// Writes `neg_inf` over the first `limit` logits of `out` whose bit in `word`
// is clear.
template <typename T>
void MaskWord(T* out, uint32_t word, int64_t limit, T neg_inf) {
  if (word == 0xFFFFFFFFu) return;
  if (word == 0) {
    for (int64_t j = 0; j < limit; ++j) out[j] = neg_inf;
    return;
  }
  uint32_t blocked = ~word;
  while (blocked) {
    int j = __builtin_ctz(blocked);
    if (j >= limit) break;
    out[j] = neg_inf;
    blocked &= blocked - 1;
  }
}

template <typename T>
void MaskRows(T* logits, T neg_inf, int64_t num_rows, int64_t row_stride, int64_t num_columns,
              const int32_t* bitmask, int64_t bitmask_row_stride, const int32_t* indices,
              int64_t num_indices) {
  int64_t rows = indices ? num_indices : num_rows;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t row = indices ? indices[r] : r;
    T* out = logits + row * row_stride;
    const uint32_t* mask = reinterpret_cast<const uint32_t*>(bitmask + row * bitmask_row_stride);
    for (int64_t base = 0; base < num_columns; base += 32) {
      MaskWord(out + base, mask[base >> 5], std::min<int64_t>(32, num_columns - base), neg_inf);
    }
  }
}

}  // namespace

void ApplyTokenBitmask(void* logits, int dtype, int64_t num_rows, int64_t logits_row_stride,
                       int64_t num_columns, const int32_t* bitmask, int64_t bitmask_row_stride,
                       const int32_t* indices, int64_t num_indices) {
  for (int64_t i = 0; indices && i < num_indices; ++i) {
    if (indices[i] < 0 || indices[i] >= num_rows) {
      throw UsageError("index " + std::to_string(indices[i]) + " is out of range for " +
                       std::to_string(num_rows) + " rows");
    }
  }
  switch (dtype) {
    case 0:
      MaskRows(static_cast<float*>(logits), -std::numeric_limits<float>::infinity(), num_rows,
               logits_row_stride, num_columns, bitmask, bitmask_row_stride, indices, num_indices);
      break;
    case 1:
      MaskRows(static_cast<uint16_t*>(logits), kFloat16NegativeInfinity, num_rows, logits_row_stride,
               num_columns, bitmask, bitmask_row_stride, indices, num_indices);
      break;
    case 2:
      MaskRows(static_cast<uint16_t*>(logits), kBFloat16NegativeInfinity, num_rows, logits_row_stride,
               num_columns, bitmask, bitmask_row_stride, indices, num_indices);
      break;
    default:
      throw UsageError("unsupported logits dtype code " + std::to_string(dtype));
  }
}

}  // namespace xgram
