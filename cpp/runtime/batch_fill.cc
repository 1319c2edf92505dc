// A persistent worker pool and the batched mask fill (see batch_fill.h).
#include "batch_fill.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

namespace xgram {
namespace {

// Workers wait for a batch (a new generation), take row indices from the shared
// counter until none is left, and report that they are done. Only the first
// `helpers` workers take part in a batch, so a batch asks for as many threads
// as its caller allows. Batches from several caller threads run one at a time.
class WorkerPool {
 public:
  void Run(int64_t n, int num_threads, const std::function<void(int64_t)>& fn) {
    std::lock_guard<std::mutex> one_batch(run_mutex_);
    int helpers = static_cast<int>(std::min<int64_t>(num_threads - 1, n - 1));
    if (helpers > 0) EnsureWorkers(helpers);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &fn;
      size_ = n;
      next_.store(0, std::memory_order_relaxed);
      helpers_ = std::max(helpers, 0);
      busy_ = helpers_;
      ++generation_;
    }
    if (helpers_ > 0) work_cv_.notify_all();
    TakeRows(fn, n);
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [this] { return busy_ == 0; });
    job_ = nullptr;
  }

 private:
  void TakeRows(const std::function<void(int64_t)>& fn, int64_t n) {
    for (int64_t i = next_.fetch_add(1, std::memory_order_relaxed); i < n;
         i = next_.fetch_add(1, std::memory_order_relaxed)) {
      fn(i);
    }
  }

  // Starts workers up to `count`. After a fork the child has none of the
  // parent's threads: they are forgotten (never joined, never destroyed) and
  // started again.
  void EnsureWorkers(int count) {
    pid_t pid = getpid();
    if (pid != pid_) {
      workers_.clear();  // the pointers only: the threads do not exist here
      pid_ = pid;
    }
    uint64_t current = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      current = generation_;
    }
    while (static_cast<int>(workers_.size()) < count) {
      int index = static_cast<int>(workers_.size());
      // The worker waits for the generation after `current`: the batch about to
      // start, even if the thread only gets going once it has been announced.
      workers_.push_back(new std::thread([this, index, current] { WorkerLoop(index, current); }));
      workers_.back()->detach();
    }
  }

  void WorkerLoop(int index, uint64_t seen) {
    for (;;) {
      const std::function<void(int64_t)>* job = nullptr;
      int64_t n = 0;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        work_cv_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (index >= helpers_) continue;
        job = job_;
        n = size_;
      }
      TakeRows(*job, n);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_ == 0) done_cv_.notify_one();
    }
  }

  std::mutex run_mutex_;
  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::vector<std::thread*> workers_;  // never destroyed: detached, alive until exit
  pid_t pid_ = getpid();
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t size_ = 0;
  std::atomic<int64_t> next_{0};
  int helpers_ = 0;
  int busy_ = 0;
  uint64_t generation_ = 0;
};

WorkerPool& Pool() {
  static WorkerPool* pool = new WorkerPool();  // never destroyed: its threads outlive main
  return *pool;
}

// Whether some matcher appears in two rows.
bool HasRepeatedMatcher(std::vector<GrammarMatcher*> matchers) {
  std::sort(matchers.begin(), matchers.end());
  return std::adjacent_find(matchers.begin(), matchers.end()) != matchers.end();
}

// Runs `row(i)` for every row, catching each row's error. Rows sharing a
// matcher run in order on the calling thread; otherwise on the pool. `what`
// names the call for a matcher some other thread is using.
BatchRowsResult RunRows(const std::vector<GrammarMatcher*>& matchers, int num_threads, const char* what,
                        const std::function<bool(int64_t)>& row) {
  const int64_t n = static_cast<int64_t>(matchers.size());
  BatchRowsResult result;
  result.values.assign(n, 0);
  result.errors.assign(n, std::string());
  if (HasRepeatedMatcher(matchers)) num_threads = 1;
  ParallelFor(n, num_threads, [&](int64_t i) {
    try {
      GrammarMatcher::ExclusiveUse use(*matchers[i], what);
      result.values[i] = row(i) ? 1 : 0;
    } catch (const std::exception& e) {
      result.errors[i] = e.what();
    } catch (...) {
      result.errors[i] = "unknown error";
    }
  });
  return result;
}

}  // namespace

void ParallelFor(int64_t n, int num_threads, const std::function<void(int64_t)>& fn) {
  if (n <= 0) return;
  if (num_threads <= 1 || n == 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  Pool().Run(n, num_threads, fn);
}

BatchFillResult BatchFillNextTokenBitmask(const std::vector<GrammarMatcher*>& matchers,
                                          const std::vector<uint32_t*>& rows, int64_t num_words,
                                          int num_threads) {
  const int64_t n = static_cast<int64_t>(matchers.size());
  BatchFillResult result;
  result.needs_apply.assign(n, 0);
  result.errors.assign(n, std::string());
  // Rows sharing a matcher or a bitmask row would race: the first keeps it.
  std::vector<uint8_t> skip(n, 0);
  auto refuse_repeats = [&](const std::vector<const void*>& keys, const char* what) {
    std::vector<std::pair<const void*, int64_t>> order;
    for (int64_t i = 0; i < n; ++i) order.push_back({keys[i], i});
    std::sort(order.begin(), order.end());
    for (size_t k = 1; k < order.size(); ++k) {
      if (order[k].first != order[k - 1].first) continue;
      int64_t again = order[k].second;
      if (!skip[again]) {
        skip[again] = 1;
        result.errors[again] = std::string("it uses the same ") + what + " as row " +
                               std::to_string(order[k - 1].second) +
                               " (a batch fills its rows at the same time)";
      }
      order[k].second = order[k - 1].second;  // name the first row for every repeat
    }
  };
  refuse_repeats(std::vector<const void*>(matchers.begin(), matchers.end()), "matcher");
  refuse_repeats(std::vector<const void*>(rows.begin(), rows.end()), "bitmask row");
  ParallelFor(n, num_threads, [&](int64_t i) {
    if (skip[i]) return;
    try {
      GrammarMatcher::ExclusiveUse use(*matchers[i], "batch_fill_next_token_bitmask");
      result.needs_apply[i] = matchers[i]->FillNextTokenBitmask(rows[i], num_words) ? 1 : 0;
    } catch (const std::exception& e) {
      result.errors[i] = e.what();
    } catch (...) {
      result.errors[i] = "unknown error";
    }
  });
  return result;
}

BatchRowsResult BatchAcceptToken(const std::vector<GrammarMatcher*>& matchers,
                                 const std::vector<int32_t>& tokens, int num_threads) {
  return RunRows(matchers, num_threads, "batch_accept_token",
                 [&](int64_t i) { return matchers[i]->AcceptToken(tokens[i]); });
}

BatchRowsResult BatchAcceptString(const std::vector<GrammarMatcher*>& matchers,
                                  const std::vector<std::string>& strings, int num_threads) {
  return RunRows(matchers, num_threads, "batch_accept_string",
                 [&](int64_t i) { return matchers[i]->AcceptString(strings[i]); });
}

BatchRowsResult BatchRollback(const std::vector<GrammarMatcher*>& matchers,
                              const std::vector<int32_t>& num_tokens, int num_threads) {
  return RunRows(matchers, num_threads, "batch_rollback", [&](int64_t i) {
    matchers[i]->Rollback(num_tokens[i]);
    return true;
  });
}

}  // namespace xgram
