// Plain-loop detection for the trie walk (see trie_walk.h).
#include "trie_walk.h"

#include <algorithm>
#include <functional>
#include <unordered_map>

namespace xgram {
namespace trie_walk {

TransitionRows::TransitionRows(const Automaton& automaton)
    : automaton_(automaton), rows_(new std::atomic<const StateId*>[automaton.num_states()]) {
  for (StateId s = 0; s < automaton.num_states(); ++s) rows_[s].store(nullptr, std::memory_order_relaxed);
}

TransitionRows::~TransitionRows() {
  for (StateId s = 0; s < automaton_.num_states(); ++s) delete[] rows_[s].load(std::memory_order_relaxed);
}

const StateId* TransitionRows::Build(StateId state) const {
  const Automaton& a = automaton_;
  auto row = std::make_unique<StateId[]>(256);
  std::fill(row.get(), row.get() + 256, kNone);
  for (int32_t j = a.byte_edge_begin[state]; j < a.byte_edge_begin[state + 1]; ++j) {
    const ByteEdge& e = a.byte_edges[j];
    StateId t = e.target;
    for (int b = e.lo; b <= e.hi; ++b) row[b] = StepsAsDfa(a, t) ? t : -t - 2;
  }
  // Threads that build the same row concurrently publish the first and free the rest.
  const StateId* expected = nullptr;
  if (rows_[state].compare_exchange_strong(expected, row.get(), std::memory_order_acq_rel)) {
    num_rows_.fetch_add(1, std::memory_order_relaxed);
    return row.release();
  }
  return expected;
}

StateId FlatRepeatStart(const Automaton& a, RuleId rule) {
  const AutomatonRule& r = a.rules[rule];
  if (r.lookahead_start != kNone || r.start == kNone || a.is_final[r.start]) return kNone;
  std::vector<StateId> todo{r.start};
  std::vector<StateId> seen{r.start};
  while (!todo.empty()) {
    StateId s = todo.back();
    todo.pop_back();
    if (a.call_edge_begin[s] != a.call_edge_begin[s + 1]) return kNone;
    if (a.is_final[s] && a.HasByteEdges(s)) return kNone;
    for (int32_t j = a.byte_edge_begin[s]; j < a.byte_edge_begin[s + 1]; ++j) {
      StateId t = a.byte_edges[j].target;
      if (std::find(seen.begin(), seen.end(), t) != seen.end()) continue;
      if (seen.size() > 64) return kNone;  // bodies worth this are a character or two
      seen.push_back(t);
      todo.push_back(t);
    }
  }
  return r.start;
}

namespace {

// Whether every byte in [lo, hi] has an edge from `t` whose target satisfies
// `ok`. A state's edges are sorted, disjoint ranges, so this is one test per
// range (a continuation-byte range is usually one edge) instead of one
// transition lookup per byte (64 per intermediate state).
template <typename Pred>
bool AllBytesLeadTo(const Automaton& a, StateId t, int lo, int hi, Pred ok) {
  int next = lo;  // the first byte of [lo, hi] not yet covered
  for (int32_t j = a.byte_edge_begin[t]; j < a.byte_edge_begin[t + 1] && next <= hi; ++j) {
    const ByteEdge& e = a.byte_edges[j];
    if (e.hi < next) continue;
    if (e.lo > next) return false;  // no edge for byte `next`
    if (!ok(e.target)) return false;
    next = e.hi + 1;
  }
  return next > hi;
}

// The complete multi-byte characters from a state `s`, one UTF-8 lead byte at
// a time: whether each one leads, through states DFA mode steps (StepsAsDfa),
// to a state that `target` accepts.
template <typename Target>
class LeadChecker {
 public:
  LeadChecker(const Automaton& a, StateId s, Target target, std::vector<StateId>* inside_characters)
      : a_(a), s_(s), target_(target), inside_characters_(inside_characters) {}

  // Every character of lead byte `b` (second byte in [lo, hi], then `rest`
  // more continuation bytes) leads from `s` to a target through such states.
  bool Leads(int b, int lo, int hi, int rest) {
    StateId t = a_.NextByte(s_, static_cast<uint8_t>(b));
    if (!Simple(t)) return false;
    inside_characters_->push_back(t);
    return AllBytesLeadTo(a_, t, lo, hi, [&](StateId u) { return rest == 0 ? target_(u) : Continuations(u, rest); });
  }

 private:
  bool Simple(StateId t) const { return t != kNone && StepsAsDfa(a_, t); }

  // All `k` remaining continuation bytes from `t` lead to a target.
  bool Continuations(StateId t, int k) {
    if (!Simple(t)) return false;
    inside_characters_->push_back(t);
    int64_t key = static_cast<int64_t>(t) * 4 + k;
    auto it = memo_.find(key);
    if (it != memo_.end()) return it->second;
    bool ok = AllBytesLeadTo(a_, t, 0x80, 0xBF, [&](StateId u) { return k == 1 ? target_(u) : Continuations(u, k - 1); });
    memo_[key] = ok;
    return ok;
  }

  const Automaton& a_;
  StateId s_;
  Target target_;
  std::vector<StateId>* inside_characters_;
  std::unordered_map<int64_t, bool> memo_;
};

// The lead bytes (bit b - 0xC0, for C2-F4) all of whose complete characters
// lead from `s` to a state `target` accepts through states DFA mode steps
// (StepsAsDfa); the states inside those characters are added to
// `inside_characters`.
template <typename Target>
uint64_t LeadsInto(const Automaton& a, StateId s, Target target, std::vector<StateId>* inside_characters) {
  LeadChecker<Target> checker(a, s, target, inside_characters);
  uint64_t leads = 0;
  for (int b = 0xC2; b <= 0xF4; ++b) {
    bool ok = b <= 0xDF   ? checker.Leads(b, 0x80, 0xBF, 0)
              : b <= 0xEF ? checker.Leads(b, b == 0xE0 ? 0xA0 : 0x80, b == 0xED ? 0x9F : 0xBF, 1)
                          : checker.Leads(b, b == 0xF0 ? 0x90 : 0x80, b == 0xF4 ? 0x8F : 0xBF, 2);
    if (ok) leads |= uint64_t{1} << (b - 0xC0);
  }
  return leads;
}

bool ReadsControl(const Automaton& a, StateId t) {
  int32_t first = a.byte_edge_begin[t];
  return first < a.byte_edge_begin[t + 1] && a.byte_edges[first].lo < 0x20;  // edges are sorted
}

}  // namespace

uint64_t MultibyteLoopLeads(const Automaton& a, StateId s, std::vector<StateId>* inside_characters) {
  return LeadsInto(a, s, [s](StateId u) { return u == s; }, inside_characters);
}

PlainLeads LeadsIntoPlainLoops(const Automaton& a, StateId s, const std::function<int8_t(StateId)>& loops_plain) {
  PlainLeads result;
  if (s == kNone || !StepsAsDfa(a, s)) return result;
  result.kind = kPlainLoopNoControl;
  std::vector<StateId> inside_characters;
  result.leads = LeadsInto(
      a, s,
      [&](StateId u) {
        int8_t kind = loops_plain(u);
        if (kind == kPlainLoop) result.kind = kPlainLoop;
        return kind != kNoPlainLoop;
      },
      &inside_characters);
  for (StateId t : inside_characters) {
    if (ReadsControl(a, t)) result.kind = kPlainLoop;
  }
  if (result.leads == 0) result.kind = kNoPlainLoop;
  return result;
}

// Whether `s` loops on every JSON string-content character: each printable
// ASCII byte but '"' and '\\' leads back to `s`, and so does every complete
// multi-byte UTF-8 character, through states DFA mode steps (StepsAsDfa).
int8_t CheckPlainLoop(const Automaton& a, StateId s) {
  auto simple = [&a](StateId t) {
    return t != kNone && StepsAsDfa(a, t);
  };
  if (!simple(s)) return false;
  for (int b = 0x20; b < 0x80; ++b) {
    if (b != '"' && b != '\\' && a.NextByte(s, static_cast<uint8_t>(b)) != s) return false;
  }
  std::vector<StateId> inside_characters;  // states in the middle of a UTF-8 character
  if (MultibyteLoopLeads(a, s, &inside_characters) != kAllLeads) return false;
  if (ReadsControl(a, s)) return kPlainLoop;
  for (StateId t : inside_characters) {
    if (ReadsControl(a, t)) return kPlainLoop;
  }
  return kPlainLoopNoControl;
}

}  // namespace trie_walk
}  // namespace xgram
