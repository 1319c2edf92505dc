// Exceptions the core throws; python_bindings.cc maps each to a Python class in
// xgram/errors.py, so a caller always gets a typed, located error and never a crash.
#ifndef XGRAM_ERRORS_H_
#define XGRAM_ERRORS_H_

#include <stdexcept>
#include <string>

namespace xgram {

// A grammar that cannot be parsed or is ill-formed. `line`/`column` are 1-based and
// 0 when the error has no single location (e.g. "no root rule").
class GrammarError : public std::runtime_error {
 public:
  GrammarError(const std::string& message, int line = 0, int column = 0)
      : std::runtime_error(message), line_(line), column_(column) {}
  int line() const { return line_; }
  int column() const { return column_; }

 private:
  int line_;
  int column_;
};

// A compilation budget (automaton states, time) was exceeded.
class CompileBudgetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The compile was cancelled from another thread (compile_control.h). A subclass,
// so code that gives up on a budget error gives up on a cancellation too.
class CompileCancelledError : public CompileBudgetError {
 public:
  using CompileBudgetError::CompileBudgetError;
};

// A matcher step, or a fill's steps together, would do more work than the
// process-wide limits allow (pushdown_matcher.h); the matcher is left as it was
// before the call.
class MatchBudgetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Misuse of the API at run time (bad state, out-of-range argument).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Builds "line L, column C: message" followed by the source line and a caret under
// the offending column. `offset` is a byte offset into `source`.
GrammarError MakeLocatedError(const std::string& source, size_t offset, const std::string& message);

}  // namespace xgram

#endif  // XGRAM_ERRORS_H_
