// See rule_dfa.h.
#include "rule_dfa.h"

#include <unordered_map>

namespace xgram {
namespace rule_dfa {

RuleDfa Determinize(const Nfa& nfa, int32_t start, int32_t accept, Budget* budget,
                    DeterminizeScratch* scratch) {
  RuleDfa dfa;
  // The NFA state sets of the DFA states, stored back to back, and an
  // open-addressing table from a set to its DFA state.
  std::vector<int32_t>& set_data = scratch->set_data;
  std::vector<int32_t>& set_begin = scratch->set_begin;
  std::vector<int32_t>& table = scratch->table;
  set_data.clear();
  set_begin.assign(1, 0);
  table.assign(64, -1);
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

  // Epsilon closure of the seeds, sorted, into set[0, set_size). The marks keep
  // each NFA state to one slot, so the buffer is sized once to the NFA.
  if (scratch->set.size() < static_cast<size_t>(nfa.size())) scratch->set.resize(nfa.size());
  int32_t* const set = scratch->set.data();
  size_t set_size = 0;
  auto closure = [&](const int32_t* first, const int32_t* last) {
    size_t n = 0;
    for (const int32_t* p = first; p != last; ++p) {
      if (!mark[*p]) mark[*p] = 1, set[n++] = *p;
    }
    for (size_t i = 0; i < n; ++i) {
      for (const NfaEdge& e : nfa[set[i]]) {
        if (e.kind == NfaEdge::kEpsilon && !mark[e.target]) {
          mark[e.target] = 1;
          set[n++] = e.target;
        }
      }
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; ++i) {
      int32_t s = set[i];
      mark[s] = 0;
      if (nfa.Reads(s) || s == accept) set[kept++] = s;
    }
    std::sort(set, set + kept);
    set_size = kept;
  };
  // The DFA state of the set in set[0, set_size), created on first sight.
  auto intern = [&]() {
    const int32_t* set_first = set;
    const int32_t* set_end = set + set_size;
    size_t slot = set_hash(set_first, set_end) & table_mask;
    for (; table[slot] >= 0; slot = (slot + 1) & table_mask) {
      ConstRange<int32_t> other = set_of(table[slot]);
      if (static_cast<size_t>(other.last - other.first) == set_size && std::equal(set_first, set_end, other.first)) {
        return table[slot];
      }
    }
    int32_t id = dfa.size();
    budget->AddStates(1);
    dfa.final.push_back(std::binary_search(set_first, set_end, accept));
    set_data.insert(set_data.end(), set_first, set_end);
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

  // Most transitions lead to one NFA state (literal chains, the states of a
  // key trie), often the same one from many DFA states: its DFA state is kept
  // per NFA state, which skips the closure and the set lookup.
  std::vector<int32_t>& dfa_of_single = scratch->dfa_of_single;
  dfa_of_single.assign(nfa.size(), -1);
  auto dfa_of_targets = [&](const int32_t* first, const int32_t* last) {
    if (last - first == 1) {
      int32_t& known = dfa_of_single[*first];
      if (known < 0) {
        closure(first, last);
        known = intern();
      }
      return known;
    }
    closure(first, last);
    return intern();
  };

  closure(&start, &start + 1);
  dfa.start = intern();
  std::vector<std::pair<int32_t, int32_t>>& call_targets = scratch->call_targets;
  std::vector<int32_t>& targets = scratch->targets;
  std::vector<const NfaEdge*>& byte_edges = scratch->byte_edges;
  std::vector<int32_t>& interval_begin = scratch->interval_begin;
  std::vector<int32_t>& interval_targets = scratch->interval_targets;
  for (int32_t d = 0; d < dfa.size(); ++d) {
    call_targets.clear();
    byte_edges.clear();
    for (int32_t s : set_of(d)) {
      for (const NfaEdge& e : nfa[s]) {
        if (e.kind == NfaEdge::kByte) {
          byte_edges.push_back(&e);
        } else if (e.kind == NfaEdge::kCall) {
          call_targets.push_back({e.call, e.target});
        }
      }
    }
    if (byte_edges.size() == 1) {
      const NfaEdge* e = byte_edges[0];
      int32_t t = dfa_of_targets(&e->target, &e->target + 1);
      dfa.AddByteEdge(e->lo, e->hi, t);
    } else if (!byte_edges.empty()) {
      // Split [0,255] at every range boundary into elementary intervals, then
      // give each interval the targets of the edges covering it.
      // The bounds are values in [0, 256]: a bitmap read in order sorts and
      // dedupes them.
      uint64_t is_point[5] = {0, 0, 0, 0, 0};
      for (const NfaEdge* e : byte_edges) {
        is_point[e->lo >> 6] |= uint64_t{1} << (e->lo & 63);
        int end = e->hi + 1;
        is_point[end >> 6] |= uint64_t{1} << (end & 63);
      }
      int points[257];
      size_t num_points = 0;
      for (int word = 0; word < 5; ++word) {
        for (uint64_t bits = is_point[word]; bits != 0; bits &= bits - 1) {
          points[num_points++] = 64 * word + __builtin_ctzll(bits);
        }
      }
      size_t num_intervals = num_points - 1;
      interval_begin.assign(num_intervals + 2, 0);
      // Every edge bound is one of the points, so a table indexed by byte
      // value finds its interval without a search.
      int16_t index_of_point[257];
      for (size_t i = 0; i < num_points; ++i) index_of_point[points[i]] = static_cast<int16_t>(i);
      auto interval_of = [&](int point) { return static_cast<size_t>(index_of_point[point]); };
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
        int32_t t = dfa_of_targets(interval_targets.data() + interval_begin[p],
                                   interval_targets.data() + interval_begin[p + 1]);
        dfa.AddByteEdge(static_cast<uint8_t>(points[p]), static_cast<uint8_t>(points[p + 1] - 1), t);
      }
    }
    if (!call_targets.empty()) {
      std::sort(call_targets.begin(), call_targets.end());
      for (size_t i = 0; i < call_targets.size();) {
        int32_t call = call_targets[i].first;
        targets.clear();
        for (; i < call_targets.size() && call_targets[i].first == call; ++i) {
          targets.push_back(call_targets[i].second);
        }
        int32_t t = dfa_of_targets(targets.data(), targets.data() + targets.size());
        dfa.call_edges.push_back({call, t});
      }
    }
    dfa.CloseState();
  }
  return dfa;
}

RuleDfa Minimize(const RuleDfa& dfa, const Budget& budget, MinimizeScratch* scratch) {
  const int32_t n = dfa.size();
  // Partition refinement from the states grouped by distance to acceptance
  // (below) to the coarsest partition in which the states of a class have the
  // same signature: for each byte, the class of its target (or no edge), and the
  // same for each call symbol.
  //
  // Moore's algorithm recomputes every signature each round, and needs as many
  // rounds as the longest chain of distinguishing steps (65 for `[ \t]{0,64}`,
  // the key length for a trie of keys), which made it quadratic on the chains
  // schemas are full of. Here a round re-signs only the states with an edge into
  // a state whose class changed in the previous round: a state whose targets all
  // kept their classes keeps its signature, so it stays with the other clean
  // members of its class, which agree with each other. Within each class with
  // re-signed members, the members that still match a clean member keep the
  // class id and every other signature gets a new class. Each split separates
  // states with different signatures, so the fixpoint is the same coarsest
  // partition Moore reaches (and the renumbering below makes the output
  // identical).
  std::vector<int32_t>& pred_begin = scratch->pred_begin;
  pred_begin.assign(n + 2, 0);
  for (int32_t s = 0; s < n; ++s) {
    for (const ByteEdge& e : dfa.bytes(s)) ++pred_begin[e.target + 2];
    for (auto [call, t] : dfa.calls(s)) ++pred_begin[t + 2];
  }
  for (int32_t s = 0; s < n; ++s) pred_begin[s + 2] += pred_begin[s + 1];
  std::vector<int32_t>& preds = scratch->preds;
  preds.resize(pred_begin[n + 1]);
  for (int32_t s = 0; s < n; ++s) {
    for (const ByteEdge& e : dfa.bytes(s)) preds[pred_begin[e.target + 1]++] = s;
    for (auto [call, t] : dfa.calls(s)) preds[pred_begin[t + 1]++] = s;
  }

  // The classes as ranges of `members`, a permutation of the states. They start
  // as the states grouped by their distance to acceptance: the length of the
  // shortest word (bytes and calls) that leads to a final state, -1 for none.
  // Equivalent states accept the same words, so they have the same distance and
  // the fixpoint below is unchanged; but a chain of states (a key, a literal)
  // starts out split, where from {final, non-final} it needed one round per state
  // of the chain to come apart, each round re-signing the states before it.
  std::vector<int32_t>& cls = scratch->cls;
  std::vector<int32_t>& members = scratch->members;
  std::vector<int32_t>& position = scratch->position;
  std::vector<int32_t>& class_begin = scratch->class_begin;
  std::vector<int32_t>& class_end = scratch->class_end;
  cls.resize(n);
  members.resize(n);
  position.resize(n);
  class_begin.clear();
  class_end.clear();
  {
    std::vector<int32_t>& distance = scratch->distance;
    std::vector<int32_t>& bfs = scratch->queue;
    distance.assign(n, -1);
    bfs.clear();
    for (int32_t s = 0; s < n; ++s) {
      if (dfa.final[s]) distance[s] = 0, bfs.push_back(s);
    }
    for (size_t i = 0; i < bfs.size(); ++i) {
      int32_t s = bfs[i];
      for (int32_t k = pred_begin[s]; k < pred_begin[s + 1]; ++k) {
        int32_t p = preds[k];
        if (distance[p] < 0) distance[p] = distance[s] + 1, bfs.push_back(p);
      }
    }
    // Class c holds distance c - 1 (class 0: no final state reachable); empty
    // distances are skipped, so class ids stay dense.
    int32_t max_distance = bfs.empty() ? -1 : distance[bfs.back()];
    std::vector<int32_t>& class_of_distance = scratch->class_of_distance;
    class_of_distance.assign(max_distance + 2, 0);
    for (int32_t s = 0; s < n; ++s) ++class_of_distance[distance[s] + 1];
    for (int32_t d = 0, at = 0; d < max_distance + 2; ++d) {
      int32_t size = class_of_distance[d];
      class_of_distance[d] = -1;
      if (size == 0) continue;
      class_of_distance[d] = static_cast<int32_t>(class_begin.size());
      class_begin.push_back(at);
      class_end.push_back(at);  // advanced as members are placed
      at += size;
    }
    for (int32_t s = 0; s < n; ++s) {
      int32_t c = class_of_distance[distance[s] + 1];
      cls[s] = c;
      int32_t at = class_end[c]++;
      members[at] = s;
      position[s] = at;
    }
  }
  auto move_to = [&](int32_t s, int32_t at) {
    int32_t other = members[at];
    members[position[s]] = other;
    position[other] = position[s];
    members[at] = s;
    position[s] = at;
  };

  std::vector<int32_t>& dirty = scratch->dirty;  // the first round re-signs everything
  dirty.resize(n);
  for (int32_t s = 0; s < n; ++s) dirty[s] = s;
  std::vector<uint8_t>& is_dirty = scratch->is_dirty;
  std::vector<int32_t>& dirty_count = scratch->dirty_count;
  is_dirty.assign(n, 0);
  dirty_count.assign(n, 0);
  std::vector<int32_t>& touched = scratch->touched;
  std::vector<int32_t>& signed_states = scratch->signed_states;
  std::vector<int32_t>& new_class = scratch->new_class;
  std::vector<int32_t>& changed = scratch->changed;
  // Signatures are written back to back into `arena`, sized up front for the
  // round (each state needs at most 2 + 3 per byte edge + 2 per call), so no
  // write checks a capacity; a signature is hashed as it is written.
  std::vector<int32_t>& arena = scratch->arena;
  std::vector<int32_t>& sig_begin = scratch->sig_begin;
  std::vector<int32_t>& table = scratch->table;
  std::vector<uint64_t>& sig_hashes = scratch->sig_hashes;
  auto sig_equal = [&](size_t a, size_t b) {
    return std::equal(arena.begin() + sig_begin[a], arena.begin() + sig_begin[a + 1],
                      arena.begin() + sig_begin[b], arena.begin() + sig_begin[b + 1]);
  };
  auto signature_bound = [&](int32_t s) {
    return 2 + 3 * (dfa.byte_begin[s + 1] - dfa.byte_begin[s]) + 2 * (dfa.call_begin[s + 1] - dfa.call_begin[s]);
  };
  // Writes the signature of `s`, led by its class, at `out`; returns its end.
  auto write_signature = [&](int32_t s, int32_t* out, uint64_t* hash) {
    int32_t* first = out;
    *out++ = cls[s];
    int32_t last_cls = -1, last_hi = -2;
    for (const ByteEdge& e : dfa.bytes(s)) {
      int32_t c = cls[e.target];
      if (c == last_cls && e.lo == last_hi + 1) {
        out[-1] = e.hi;  // extend the previous range
      } else {
        out[0] = -1 - c;
        out[1] = e.lo;
        out[2] = e.hi;
        out += 3;
      }
      last_cls = c;
      last_hi = e.hi;
    }
    *out++ = INT32_MIN;
    for (auto [call, t] : dfa.calls(s)) {
      out[0] = call;
      out[1] = cls[t];
      out += 2;
    }
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (const int32_t* p = first; p != out; ++p) h = (h + static_cast<uint32_t>(*p)) * 0xff51afd7ed558ccdull;
    *hash = h ^ (h >> 32);
    return out;
  };

  while (!dirty.empty()) {
    // Gather each touched class's dirty members at the end of its range.
    touched.clear();
    for (int32_t s : dirty) {
      int32_t c = cls[s];
      if (dirty_count[c] == 0) touched.push_back(c);
      ++dirty_count[c];
      move_to(s, class_end[c] - dirty_count[c]);
    }
    signed_states.clear();
    size_t bound = 0;
    for (int32_t c : touched) {
      int32_t first = class_end[c] - dirty_count[c];
      if (first > class_begin[c]) signed_states.push_back(members[class_begin[c]]);
      for (int32_t i = first; i < class_end[c]; ++i) signed_states.push_back(members[i]);
    }
    for (int32_t s : signed_states) bound += signature_bound(s);
    if (arena.size() < bound) arena.resize(std::max(bound, 2 * arena.size()));
    sig_begin.resize(signed_states.size() + 1);
    sig_hashes.resize(signed_states.size());
    {
      int32_t* out = arena.data();
      for (size_t k = 0; k < signed_states.size(); ++k) {
        sig_begin[k] = static_cast<int32_t>(out - arena.data());
        out = write_signature(signed_states[k], out, &sig_hashes[k]);
      }
      sig_begin[signed_states.size()] = static_cast<int32_t>(out - arena.data());
    }

    // Group equal signatures; the first of a class keeps the class id.
    size_t table_size = 16;
    while (table_size < 2 * signed_states.size()) table_size *= 2;
    table.assign(table_size, -1);
    new_class.assign(signed_states.size(), -1);
    int32_t num_classes = static_cast<int32_t>(class_begin.size());
    changed.clear();
    size_t i = 0;
    for (int32_t c : touched) {
      int32_t first = class_end[c] - dirty_count[c];
      size_t class_first = i;
      int32_t classes_before = num_classes;
      size_t class_last = i + (first > class_begin[c] ? 1 : 0) + dirty_count[c];
      for (; i < class_last; ++i) {
        size_t slot = sig_hashes[i] & (table_size - 1);
        while (table[slot] >= 0 && !sig_equal(table[slot], i)) slot = (slot + 1) & (table_size - 1);
        if (table[slot] >= 0) {
          new_class[i] = new_class[table[slot]];
        } else {
          table[slot] = static_cast<int32_t>(i);
          new_class[i] = i == class_first ? c : num_classes++;
        }
      }
      size_t dirty_first = class_last - dirty_count[c];
      // With no clean member, the largest group keeps the class id: fewer
      // states change class, so fewer predecessors are re-signed next round
      // (Hopcroft's "all but the largest" trick).
      if (dirty_first == class_first && num_classes > classes_before) {
        std::vector<int32_t>& group_size = scratch->group_size;  // [0] is c, then new ids
        group_size.assign(num_classes - classes_before + 1, 0);
        for (size_t k = class_first; k < class_last; ++k) {
          ++group_size[new_class[k] == c ? 0 : new_class[k] - classes_before + 1];
        }
        size_t largest = std::max_element(group_size.begin(), group_size.end()) - group_size.begin();
        if (largest != 0) {
          int32_t other = classes_before + static_cast<int32_t>(largest) - 1;
          for (size_t k = class_first; k < class_last; ++k) {
            if (new_class[k] == c) {
              new_class[k] = other;
            } else if (new_class[k] == other) {
              new_class[k] = c;
            }
          }
        }
      }
      // Lay the dirty members out by new class, those that stay in c first.
      if (num_classes > classes_before) {
        std::vector<std::pair<int32_t, int32_t>>& order = scratch->order;  // (class rank, state)
        order.clear();
        for (size_t k = dirty_first; k < class_last; ++k) {
          order.push_back({new_class[k] == c ? -1 : new_class[k], signed_states[k]});
        }
        std::sort(order.begin(), order.end());
        int32_t at = first;
        for (auto [rank, s] : order) {
          members[at] = s;
          position[s] = at;
          ++at;
        }
        int32_t run_begin = first;
        class_begin.resize(num_classes);
        class_end.resize(num_classes);
        for (size_t k = 0; k < order.size(); ++k) {
          if (k + 1 < order.size() && order[k + 1].first == order[k].first) continue;
          int32_t run_end = first + static_cast<int32_t>(k) + 1;
          int32_t id = order[k].first < 0 ? c : order[k].first;
          if (id == c) {
            class_end[c] = run_end;
          } else {
            class_begin[id] = run_begin;
            class_end[id] = run_end;
            for (int32_t p = run_begin; p < run_end; ++p) {
              cls[members[p]] = id;
              changed.push_back(members[p]);
            }
          }
          run_begin = run_end;
        }
        if (order.front().first >= 0) class_end[c] = first;  // every dirty member left c
      }
      dirty_count[c] = 0;
    }
    budget.CheckTime();
    // Next round: the predecessors of the states that changed class.
    dirty.clear();
    for (int32_t s : changed) {
      for (int32_t k = pred_begin[s]; k < pred_begin[s + 1]; ++k) {
        int32_t p = preds[k];
        if (!is_dirty[p]) is_dirty[p] = 1, dirty.push_back(p);
      }
    }
    for (int32_t p : dirty) is_dirty[p] = 0;
    // A state alone in its class cannot split: do not re-sign it.
    dirty.erase(std::remove_if(dirty.begin(), dirty.end(),
                               [&](int32_t p) { return class_end[cls[p]] - class_begin[cls[p]] == 1; }),
                dirty.end());
  }
  int32_t num_classes = static_cast<int32_t>(class_begin.size());
  // Renumber classes in BFS order from the start class.
  std::vector<int32_t>& representative = scratch->representative;
  representative.assign(num_classes, -1);
  for (int32_t s = 0; s < n; ++s) {
    if (representative[cls[s]] < 0) representative[cls[s]] = s;
  }
  std::vector<int32_t>& order_id = scratch->order_id;
  order_id.assign(num_classes, -1);
  std::vector<int32_t>& queue = scratch->queue;
  queue.assign(1, cls[dfa.start]);
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
  out.final.reserve(queue.size());
  out.byte_begin.reserve(queue.size() + 1);
  out.call_begin.reserve(queue.size() + 1);
  out.byte_edges.reserve(dfa.byte_edges.size());
  out.call_edges.reserve(dfa.call_edges.size());
  for (int32_t c : queue) {
    int32_t rep = representative[c];
    out.final.push_back(dfa.final[rep]);
    for (const ByteEdge& e : dfa.bytes(rep)) out.AddByteEdge(e.lo, e.hi, order_id[cls[e.target]]);
    for (auto [call, t] : dfa.calls(rep)) out.call_edges.push_back({call, order_id[cls[t]]});
    out.CloseState();
  }
  return out;
}

namespace {

// The product walk, generic in how b's states are given: `b_edges(y)` returns
// the sorted, disjoint byte edges of b's state y (targets are b state ids, -1
// where b is stuck) and `b_final(y)` whether y accepts.
template <typename BEdges, typename BFinal>
RuleDfa ProductOf(const RuleDfa& a, int32_t b_start, BEdges b_edges, BFinal b_final, ProductKind kind,
                  Budget* budget) {
  // Product states (state of a, state of b or -1 once b is stuck), numbered in
  // the order they are first reached. An intersection never enters a pair where
  // b is stuck: it could not accept, so those bytes simply have no edge.
  const bool difference = kind == ProductKind::kDifference;
  std::vector<std::pair<int32_t, int32_t>> pairs;
  std::unordered_map<uint64_t, int32_t> id_of;
  auto intern = [&](int32_t x, int32_t y) {
    uint64_t key = (uint64_t{static_cast<uint32_t>(x)} << 32) | static_cast<uint32_t>(y);
    auto [it, inserted] = id_of.try_emplace(key, static_cast<int32_t>(pairs.size()));
    if (inserted) {
      pairs.push_back({x, y});
      budget->AddStates(1);
    }
    return it->second;
  };
  RuleDfa product;
  product.start = intern(a.start, b_start);
  for (size_t i = 0; i < pairs.size(); ++i) {
    auto [x, y] = pairs[i];  // a copy: intern() may grow `pairs`
    product.final.push_back(difference ? a.final[x] && (y < 0 || !b_final(y)) : a.final[x] && b_final(y));
    // Both edge lists are sorted and disjoint, so one merge walk splits each of
    // a's ranges into the parts b also reads and the gaps where b is stuck.
    ConstRange<ByteEdge> b_range = y >= 0 ? b_edges(y) : ConstRange<ByteEdge>{nullptr, nullptr};
    const ByteEdge* b_edge = b_range.first;
    const ByteEdge* b_end = b_range.last;
    for (const ByteEdge& a_edge : a.bytes(x)) {
      int lo = a_edge.lo;
      while (lo <= a_edge.hi) {
        while (b_edge != b_end && b_edge->hi < lo) ++b_edge;
        if (b_edge == b_end || b_edge->lo > a_edge.hi) {
          if (difference) product.AddByteEdge(static_cast<uint8_t>(lo), a_edge.hi, intern(a_edge.target, -1));
          break;
        }
        if (b_edge->lo > lo) {
          if (difference) {
            product.AddByteEdge(static_cast<uint8_t>(lo), static_cast<uint8_t>(b_edge->lo - 1),
                                intern(a_edge.target, -1));
          }
          lo = b_edge->lo;
        }
        int hi = std::min<int>(a_edge.hi, b_edge->hi);
        product.AddByteEdge(static_cast<uint8_t>(lo), static_cast<uint8_t>(hi), intern(a_edge.target, b_edge->target));
        lo = hi + 1;
      }
    }
    product.CloseState();
  }
  // Pairs where b has matched a whole string of a's dead end, and the like, can
  // never accept: trimmed here so they are not spliced into the caller's NFA.
  auto no_calls = [](int32_t) { return false; };
  std::vector<uint8_t> live = CanReachFinal(product, no_calls);
  if (!live[product.start]) {
    RuleDfa empty;
    empty.final.push_back(0);
    empty.CloseState();
    return empty;
  }
  return Restrict(product, live, no_calls);
}

}  // namespace

RuleDfa Product(const RuleDfa& a, const RuleDfa& b, ProductKind kind, Budget* budget) {
  return ProductOf(
      a, b.start, [&b](int32_t y) { return b.bytes(y); }, [&b](int32_t y) { return b.final[y] != 0; }, kind,
      budget);
}

bool IsPrefixFreeUnit(const RuleDfa& unit) {
  if (unit.final[unit.start]) return false;
  for (int32_t s = 0; s < unit.size(); ++s) {
    if (!unit.calls(s).empty() || (unit.final[s] && !unit.bytes(s).empty())) return false;
  }
  return true;
}

RuleDfa ProductWithRepeat(const RuleDfa& a, const RuleDfa& unit, int32_t min, int32_t max, ProductKind kind,
                          Budget* budget) {
  // b's state (u, k) is numbered u + k * |unit|: u the unit's state, k the units
  // read so far. Reading a unit's last byte (a final state, which has no edges
  // as the unit is prefix-free) starts the next unit with k + 1; with no upper
  // bound every k >= min behaves alike, so k stops growing there.
  const int64_t width = unit.size();
  const bool unbounded = max < 0;
  const int32_t count_cap = unbounded ? min : max;
  if ((int64_t{count_cap} + 1) * width > INT32_MAX) {
    throw CompileBudgetError("a repetition {" + std::to_string(min) + "," + std::to_string(max) +
                             "} inside '-' or '&' is too large to compile");
  }
  std::vector<ByteEdge> scratch;
  auto edges = [&](int32_t y) {
    const int32_t u = static_cast<int32_t>(y % width);
    const int32_t k = static_cast<int32_t>(y / width);
    scratch.clear();
    for (const ByteEdge& e : unit.bytes(u)) {
      int64_t target = 0;
      if (!unit.final[e.target]) {
        target = e.target + k * width;
      } else if (!unbounded && k + 1 > max) {
        continue;  // one unit too many: b is stuck on these bytes
      } else {
        int32_t next = unbounded ? std::min(k + 1, min) : k + 1;
        target = unit.start + next * width;
      }
      scratch.push_back({e.lo, e.hi, static_cast<int32_t>(target)});
    }
    return ConstRange<ByteEdge>{scratch.data(), scratch.data() + scratch.size()};
  };
  auto final = [&](int32_t y) {
    return y % width == unit.start && y / width >= min;
  };
  return ProductOf(a, unit.start, edges, final, kind, budget);
}

}  // namespace rule_dfa
}  // namespace xgram
