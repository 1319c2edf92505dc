// Deadlines and cancellation for one compile, seen by every stage it runs.
//
// A compile goes through several stages on the calling thread: the JSON Schema
// converter (Python), the EBNF parser, the IR passes, the automaton builder and,
// when asked, the mask precomputation. A serving engine needs one budget over all
// of them (`max_seconds` from the request's arrival, not per stage) and a way to
// abort from another thread when the client goes away.
//
// Passing a budget through every signature would touch every stage, so the
// Python API installs a CompileControl for the compiling thread instead
// (ScopedCompileControl: a thread-local pointer; nested scopes chain to the outer
// one, whose deadline and flag still apply) and each stage calls
// PollCompileControl() in its loops. With no compile active a poll is one
// thread-local load. With one, it reads the cancel flag (a relaxed atomic load,
// set by any thread through CancelFlag) and, every kPollClockPeriod polls, the
// clock. Threads that help a compile (the mask precomputation workers) install
// the compiling thread's control for themselves.
//
// A compile that ends by either cause throws: CompileCancelledError for a set
// flag, CompileBudgetError for a passed deadline. Both unwind through code that
// already copes with CompileBudgetError, so no stage needs a second error path.
#ifndef XGRAM_COMPILE_CONTROL_H_
#define XGRAM_COMPILE_CONTROL_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace xgram {

// Set once by whoever cancels (any thread); read by the compiling threads.
class CancelFlag {
 public:
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> cancelled_{false};
};

using CancelFlagPtr = std::shared_ptr<CancelFlag>;

class CompileControl {
 public:
  // `max_seconds` <= 0 or infinite: no deadline. `cancel` may be null. `outer`:
  // the control this one is nested in (CurrentCompileControl() when it will be
  // installed on the same thread), which must outlive it.
  CompileControl(double max_seconds, CancelFlagPtr cancel, const CompileControl* outer);

  // Throws CompileCancelledError or CompileBudgetError when this control or an
  // outer one (the scope it was installed in) says stop.
  void Check() const;
  // This control's flag or an outer one's is set.
  bool Cancelled() const;
  bool HasDeadline() const { return has_deadline_; }
  double max_seconds() const { return max_seconds_; }
  // Seconds left before the deadline (may be negative); infinity without one.
  double RemainingSeconds() const;
  const CompileControl* outer() const { return outer_; }

 private:
  using Clock = std::chrono::steady_clock;

  double max_seconds_;
  bool has_deadline_;
  Clock::time_point deadline_;
  CancelFlagPtr cancel_;
  const CompileControl* outer_;
};

// Installs `control` as the calling thread's current control for its lifetime
// (null: none, e.g. on a worker with nothing to inherit).
class ScopedCompileControl {
 public:
  explicit ScopedCompileControl(const CompileControl* control);
  ~ScopedCompileControl();
  ScopedCompileControl(const ScopedCompileControl&) = delete;
  ScopedCompileControl& operator=(const ScopedCompileControl&) = delete;

 private:
  const CompileControl* previous_;
};

// The calling thread's innermost control, or null.
const CompileControl* CurrentCompileControl();
// Makes `control` the calling thread's current one and returns the previous,
// for scopes that cannot be a C++ block (the Python `with` statement).
const CompileControl* ExchangeCompileControl(const CompileControl* control);

// Full check of the current control (flag and clock); no-op without one.
void CheckCompileControl();

// Cheap check for inner loops: the flag on every call, the clock every
// kPollClockPeriod calls on this thread.
constexpr uint32_t kPollClockPeriod = 256;
void PollCompileControl();

}  // namespace xgram

#endif  // XGRAM_COMPILE_CONTROL_H_
