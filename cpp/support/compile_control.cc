// CompileControl (see compile_control.h): a compile's deadline and cancel flag,
// installed per thread.
#include "compile_control.h"

#include <cmath>
#include <string>

#include "errors.h"

namespace xgram {

namespace {

thread_local const CompileControl* current_control = nullptr;
thread_local uint32_t polls_since_clock = 0;

std::string SecondsText(double seconds) {
  std::string text = std::to_string(seconds);
  while (text.size() > 1 && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

}  // namespace

CompileControl::CompileControl(double max_seconds, CancelFlagPtr cancel, const CompileControl* outer)
    : max_seconds_(max_seconds),
      has_deadline_(max_seconds > 0 && std::isfinite(max_seconds)),
      cancel_(std::move(cancel)),
      outer_(outer) {
  if (has_deadline_) {
    deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(max_seconds));
  }
}

double CompileControl::RemainingSeconds() const {
  if (!has_deadline_) return HUGE_VAL;
  return std::chrono::duration<double>(deadline_ - Clock::now()).count();
}

bool CompileControl::Cancelled() const {
  for (const CompileControl* c = this; c != nullptr; c = c->outer_) {
    if (c->cancel_ && c->cancel_->cancelled()) return true;
  }
  return false;
}

void CompileControl::Check() const {
  if (Cancelled()) throw CompileCancelledError("the compile was cancelled");
  const Clock::time_point now = Clock::now();
  for (const CompileControl* c = this; c != nullptr; c = c->outer_) {
    if (c->has_deadline_ && now > c->deadline_) {
      throw CompileBudgetError("grammar compilation exceeded the time budget (" + SecondsText(c->max_seconds_) +
                               " s, counted from the start of the compile call)");
    }
  }
}

ScopedCompileControl::ScopedCompileControl(const CompileControl* control)
    : previous_(ExchangeCompileControl(control)) {}

ScopedCompileControl::~ScopedCompileControl() { current_control = previous_; }

const CompileControl* CurrentCompileControl() { return current_control; }

const CompileControl* ExchangeCompileControl(const CompileControl* control) {
  const CompileControl* previous = current_control;
  current_control = control;
  return previous;
}

void CheckCompileControl() {
  if (current_control != nullptr) current_control->Check();
}

void PollCompileControl() {
  const CompileControl* control = current_control;
  if (control == nullptr) return;
  if (++polls_since_clock >= kPollClockPeriod) {
    polls_since_clock = 0;
    control->Check();
  } else if (control->Cancelled()) {
    throw CompileCancelledError("the compile was cancelled");
  }
}

}  // namespace xgram
