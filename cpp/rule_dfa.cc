// See rule_dfa.h.
#include "rule_dfa.h"

namespace xgram {
namespace rule_dfa {

RuleDfa Determinize(const Nfa& nfa, int32_t start, int32_t accept, Budget* budget,
                    DeterminizeScratch* scratch) {
  RuleDfa dfa;
  // The NFA state sets of the DFA states, stored back to back, and an
  // open-addressing table from a set to its DFA state.
  std::vector<int32_t> set_data;
  std::vector<int32_t> set_begin{0};
  std::vector<int32_t> table(64, -1);
  size_t table_mask = table.size() - 1;
  auto set_hash = [](const int32_t* first, const int32_t* last) {
    uint64_t h = 1469598103934665603ull;
    for (const int32_t* p = first; p != last; ++p) h = (h ^ static_cast<uint32_t>(*p)) * 1099511628211ull;
    return static_cast<size_t>(h ^ (h >> 32));
  };
  auto set_of = [&](int32_t d) {
    return ConstRange<int32_t>{set_data.data() + set_begin[d], set_data.data() + set_begin[d + 1]};
  };
  std::vector<uint8_t>& mark = scratch->mark;
  if (mark.size() < static_cast<size_t>(nfa.size())) mark.resize(nfa.size(), 0);

  // Epsilon closure of `seeds`, sorted, into scratch->set.
  auto closure = [&](const std::vector<int32_t>& seeds) {
    std::vector<int32_t>& out = scratch->set;
    out.clear();
    for (int32_t s : seeds) {
      if (!mark[s]) mark[s] = 1, out.push_back(s);
    }
    for (size_t i = 0; i < out.size(); ++i) {
      for (const NfaEdge& e : nfa[out[i]]) {
        if (e.kind == NfaEdge::kEpsilon && !mark[e.target]) {
          mark[e.target] = 1;
          out.push_back(e.target);
        }
      }
    }
    for (int32_t s : out) mark[s] = 0;
    out.erase(std::remove_if(out.begin(), out.end(), [&](int32_t s) { return !nfa.Reads(s) && s != accept; }),
              out.end());
    std::sort(out.begin(), out.end());
  };
  // The DFA state of the set in scratch->set, created on first sight.
  auto intern = [&]() {
    const std::vector<int32_t>& set = scratch->set;
    size_t slot = set_hash(set.data(), set.data() + set.size()) & table_mask;
    for (; table[slot] >= 0; slot = (slot + 1) & table_mask) {
      ConstRange<int32_t> other = set_of(table[slot]);
      if (static_cast<size_t>(other.last - other.first) == set.size() &&
          std::equal(set.begin(), set.end(), other.first)) {
        return table[slot];
      }
    }
    int32_t id = dfa.size();
    budget->AddStates(1);
    dfa.final.push_back(std::binary_search(set.begin(), set.end(), accept));
    set_data.insert(set_data.end(), set.begin(), set.end());
    set_begin.push_back(static_cast<int32_t>(set_data.size()));
    table[slot] = id;
    if (2 * static_cast<size_t>(id + 1) > table.size()) {  // keep the load under one half
      table.assign(table.size() * 2, -1);
      table_mask = table.size() - 1;
      for (int32_t d = 0; d <= id; ++d) {
        ConstRange<int32_t> members = set_of(d);
        size_t i = set_hash(members.first, members.last) & table_mask;
        while (table[i] >= 0) i = (i + 1) & table_mask;
        table[i] = d;
      }
    }
    return id;
  };

  scratch->targets.assign(1, start);
  closure(scratch->targets);
  dfa.start = intern();
  std::vector<int>& points = scratch->points;
  std::vector<std::pair<int32_t, int32_t>>& call_targets = scratch->call_targets;
  std::vector<int32_t>& targets = scratch->targets;
  for (int32_t d = 0; d < dfa.size(); ++d) {
    // Byte edges: split [0,255] at every range boundary into elementary
    // intervals, then give each interval the targets of the edges covering it.
    points.clear();
    call_targets.clear();
    std::vector<const NfaEdge*>& byte_edges = scratch->byte_edges;
    byte_edges.clear();
    for (int32_t s : set_of(d)) {
      for (const NfaEdge& e : nfa[s]) {
        if (e.kind == NfaEdge::kByte) {
          points.push_back(e.lo);
          points.push_back(e.hi + 1);
          byte_edges.push_back(&e);
        } else if (e.kind == NfaEdge::kCall) {
          call_targets.push_back({e.call, e.target});
        }
      }
    }
    std::sort(points.begin(), points.end());
    points.erase(std::unique(points.begin(), points.end()), points.end());
    size_t num_intervals = points.empty() ? 0 : points.size() - 1;
    std::vector<int32_t>& interval_begin = scratch->interval_begin;
    std::vector<int32_t>& interval_targets = scratch->interval_targets;
    interval_begin.assign(num_intervals + 2, 0);
    auto interval_of = [&](int point) {
      return static_cast<size_t>(std::lower_bound(points.begin(), points.end(), point) - points.begin());
    };
    for (const NfaEdge* e : byte_edges) {
      for (size_t i = interval_of(e->lo), end = interval_of(e->hi + 1); i < end; ++i) ++interval_begin[i + 2];
    }
    for (size_t i = 0; i < num_intervals; ++i) interval_begin[i + 2] += interval_begin[i + 1];
    interval_targets.resize(interval_begin[num_intervals + 1]);
    for (const NfaEdge* e : byte_edges) {
      for (size_t i = interval_of(e->lo), end = interval_of(e->hi + 1); i < end; ++i) {
        interval_targets[interval_begin[i + 1]++] = e->target;
      }
    }
    for (size_t p = 0; p < num_intervals; ++p) {
      if (interval_begin[p] == interval_begin[p + 1]) continue;
      targets.assign(interval_targets.begin() + interval_begin[p], interval_targets.begin() + interval_begin[p + 1]);
      closure(targets);
      int32_t t = intern();
      dfa.AddByteEdge(static_cast<uint8_t>(points[p]), static_cast<uint8_t>(points[p + 1] - 1), t);
    }
    std::sort(call_targets.begin(), call_targets.end());
    for (size_t i = 0; i < call_targets.size();) {
      int32_t call = call_targets[i].first;
      targets.clear();
      for (; i < call_targets.size() && call_targets[i].first == call; ++i) {
        targets.push_back(call_targets[i].second);
      }
      closure(targets);
      int32_t t = intern();
      dfa.call_edges.push_back({call, t});
    }
    dfa.CloseState();
  }
  return dfa;
}

RuleDfa Minimize(const RuleDfa& dfa, const Budget& budget) {
  int32_t n = dfa.size();
  std::vector<int32_t> cls(n);
  for (int32_t s = 0; s < n; ++s) cls[s] = dfa.final[s];
  int32_t num_classes = -1;
  // Moore refinement: a state's signature is its class and its transitions'
  // target classes; rounds repeat until the number of classes stops growing.
  // Signatures live in one flat arena and equal ones are found with an
  // open-addressing table of state ids, so a round allocates nothing and costs
  // time linear in the edges (a rule such as `[ \t]{0,64}` needs 65 rounds).
  std::vector<int64_t> arena;
  std::vector<int32_t> begin(n + 1);
  std::vector<int32_t> next(n);
  size_t table_size = 16;
  while (table_size < 2 * static_cast<size_t>(n)) table_size *= 2;
  std::vector<int32_t> table(table_size);
  auto sig_hash = [&](int32_t a) {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int32_t i = begin[a]; i < begin[a + 1]; ++i) {
      h = (h ^ static_cast<uint64_t>(arena[i])) * 0x100000001b3ull;
      h ^= h >> 29;
    }
    return h;
  };
  auto sig_equal = [&](int32_t a, int32_t b) {
    return std::equal(arena.begin() + begin[a], arena.begin() + begin[a + 1], arena.begin() + begin[b],
                      arena.begin() + begin[b + 1]);
  };
  while (true) {
    arena.clear();
    for (int32_t s = 0; s < n; ++s) {
      begin[s] = static_cast<int32_t>(arena.size());
      arena.push_back(cls[s]);
      int64_t last_cls = -1, last_hi = -2;
      for (const ByteEdge& e : dfa.bytes(s)) {
        int64_t c = cls[e.target];
        if (c == last_cls && e.lo == last_hi + 1) {
          arena.back() = e.hi;  // extend the previous range
        } else {
          arena.push_back(-1 - c);
          arena.push_back(e.lo);
          arena.push_back(e.hi);
        }
        last_cls = c;
        last_hi = e.hi;
      }
      arena.push_back(INT64_MIN);
      for (auto [call, t] : dfa.calls(s)) {
        arena.push_back(call);
        arena.push_back(cls[t]);
      }
    }
    begin[n] = static_cast<int32_t>(arena.size());
    std::fill(table.begin(), table.end(), -1);
    int32_t count = 0;
    for (int32_t s = 0; s < n; ++s) {
      size_t slot = sig_hash(s) & (table_size - 1);
      while (table[slot] >= 0 && !sig_equal(table[slot], s)) slot = (slot + 1) & (table_size - 1);
      if (table[slot] < 0) {
        table[slot] = s;
        next[s] = count++;
      } else {
        next[s] = next[table[slot]];
      }
    }
    budget.CheckTime();
    cls.swap(next);
    if (count == num_classes) break;
    num_classes = count;
  }
  // Renumber classes in BFS order from the start class.
  std::vector<int32_t> representative(num_classes, -1);
  for (int32_t s = 0; s < n; ++s) {
    if (representative[cls[s]] < 0) representative[cls[s]] = s;
  }
  std::vector<int32_t> order_id(num_classes, -1);
  std::vector<int32_t> queue{cls[dfa.start]};
  order_id[cls[dfa.start]] = 0;
  for (size_t i = 0; i < queue.size(); ++i) {
    int32_t rep = representative[queue[i]];
    auto visit = [&](int32_t target) {
      int32_t c = cls[target];
      if (order_id[c] < 0) {
        order_id[c] = static_cast<int32_t>(queue.size());
        queue.push_back(c);
      }
    };
    for (const ByteEdge& e : dfa.bytes(rep)) visit(e.target);
    for (auto [call, t] : dfa.calls(rep)) visit(t);
  }
  RuleDfa out;
  out.start = 0;
  for (int32_t c : queue) {
    int32_t rep = representative[c];
    out.final.push_back(dfa.final[rep]);
    for (const ByteEdge& e : dfa.bytes(rep)) out.AddByteEdge(e.lo, e.hi, order_id[cls[e.target]]);
    for (auto [call, t] : dfa.calls(rep)) out.call_edges.push_back({call, order_id[cls[t]]});
    out.CloseState();
  }
  return out;
}

}  // namespace rule_dfa
}  // namespace xgram
