// The CPU kernel that applies token bitmasks to logits.
//
// A bitmask row holds one bit per token (token i is bit i % 32 of int32 word
// i / 32; 1 = allowed), as GrammarMatcher::FillNextTokenBitmask writes it. The
// kernel sets the logit of every disallowed token to -inf, so sampling can only
// pick allowed tokens. Most words of a row are all ones (nothing to do) or all
// zeros (32 logits to overwrite), so the kernel tests those cases first and
// visits the blocked bits of a mixed word one by one.
//
// Half-precision logits are written as raw bit patterns: the kernel needs no
// float16 arithmetic, only the encoding of -inf.
#ifndef XGRAM_LOGITS_KERNEL_CPU_H_
#define XGRAM_LOGITS_KERNEL_CPU_H_

#include <cstdint>

namespace xgram {

// Sets logits of disallowed tokens to -inf. `dtype`: 0 float32, 1 float16,
// 2 bfloat16. Rows `indices[i]` (or i) of logits use bitmask row `indices[i]`.
// Throws UsageError for an index outside [0, num_rows) or an unknown dtype.
void ApplyTokenBitmask(void* logits, int dtype, int64_t num_rows, int64_t logits_row_stride,
                       int64_t num_columns, const int32_t* bitmask, int64_t bitmask_row_stride,
                       const int32_t* indices, int64_t num_indices);

}  // namespace xgram

#endif  // XGRAM_LOGITS_KERNEL_CPU_H_
