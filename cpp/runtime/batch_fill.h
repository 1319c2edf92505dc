// Batches of mask fills on a persistent pool of worker threads.
//
// A serving engine asks for one mask per request at every decoding step. The
// rows are independent: each has its own matcher, and matchers of one grammar
// share its compiled grammar, whose lazily computed mask entries are published
// atomically (token_mask_cache.h), so rows may be filled at the same time. The
// rows are handed out one at a time from a shared counter rather than in fixed
// shares, so a slow row (the first visit of a state) does not hold up the rest
// of its share. The calling thread works too; the pool's threads start on
// first use and wait between batches (a batch costs no thread creation).
//
// A row that throws records its error and the others go on: the caller reports
// the failed rows together. One matcher twice in a batch would be filled by two
// threads at once, so the later rows are refused as errors instead.
//
// Accepting tokens or strings and rolling back run the same way. There a
// matcher may appear in several rows (XGrammar's batch calls run the rows in
// order, so a matcher twice accepts both tokens, in order): such a batch runs
// row after row on the calling thread, which gives the same answers.
#ifndef XGRAM_BATCH_FILL_H_
#define XGRAM_BATCH_FILL_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "grammar_matcher.h"

namespace xgram {

// Runs `fn(i)` for every i in [0, n) on up to `num_threads` threads (the caller's
// included) and returns when all are done. `fn` must not throw.
void ParallelFor(int64_t n, int num_threads, const std::function<void(int64_t)>& fn);

struct BatchFillResult {
  std::vector<uint8_t> needs_apply;  // per row: FillNextTokenBitmask's result
  std::vector<std::string> errors;   // per row: empty, or what went wrong
};

// Fills `rows[i]` (`num_words` words each) for `matchers[i]` on up to
// `num_threads` threads.
BatchFillResult BatchFillNextTokenBitmask(const std::vector<GrammarMatcher*>& matchers,
                                          const std::vector<uint32_t*>& rows, int64_t num_words,
                                          int num_threads);

// Per row of a batch of accepts or rollbacks: the answer (accepted: 1 or 0) and
// the error ("" if none).
struct BatchRowsResult {
  std::vector<uint8_t> values;
  std::vector<std::string> errors;
};

// `matchers[i]->AcceptToken(tokens[i])` for every row.
BatchRowsResult BatchAcceptToken(const std::vector<GrammarMatcher*>& matchers,
                                 const std::vector<int32_t>& tokens, int num_threads);

// `matchers[i]->AcceptString(strings[i])` for every row.
BatchRowsResult BatchAcceptString(const std::vector<GrammarMatcher*>& matchers,
                                  const std::vector<std::string>& strings, int num_threads);

// `matchers[i]->Rollback(num_tokens[i])` for every row (values are all 1).
BatchRowsResult BatchRollback(const std::vector<GrammarMatcher*>& matchers,
                              const std::vector<int32_t>& num_tokens, int num_threads);

}  // namespace xgram

#endif  // XGRAM_BATCH_FILL_H_
