// Structural hashes of automata: the whole-automaton fingerprint (serialisation
// checks) and the per-state structural hash (the key of the token-mask entries
// shared across grammars, token_mask_cache.cc).
#include <algorithm>
#include <array>
#include <unordered_map>

#include "automaton.h"
#include "flat_set.h"

namespace xgram {
namespace {

uint64_t Mix(uint64_t h, uint64_t v) { return MixHash(h ^ (v + 0x9E3779B97F4A7C15ULL + (h << 6))); }

// Hash of the lookahead DFA reachable from `start` (states numbered by first visit).
uint64_t LookaheadHash(const Automaton& a, StateId start) {
  if (start == kNone) return 0x1234567ULL;
  std::vector<StateId> order{start};
  std::unordered_map<StateId, int32_t> local{{start, 0}};
  uint64_t h = 0xABCDEF;
  for (size_t i = 0; i < order.size(); ++i) {
    StateId s = order[i];
    h = Mix(h, a.lookahead_final[s]);
    for (int32_t e = a.lookahead_edge_begin[s]; e < a.lookahead_edge_begin[s + 1]; ++e) {
      const ByteEdge& edge = a.lookahead_edges[e];
      auto [it, inserted] = local.emplace(edge.target, static_cast<int32_t>(order.size()));
      if (inserted) order.push_back(edge.target);
      h = Mix(h, (uint64_t{edge.lo} << 40) | (uint64_t{edge.hi} << 32) | uint32_t(it->second));
    }
  }
  return h;
}

// Exact structural hashes, bottom-up over the call graph: a rule's hash covers
// its own DFA (already numbered canonically from its start), its lookahead and
// the hashes of the rules it calls. A rule that can reach recursion has no finite
// structure to hash this way; it gets a hash salted with this automaton's
// fingerprint, so it is never shared with another grammar (sharing it would need
// graph canonisation, and a wrong share would be a wrong mask).
}  // namespace

void ComputeStateHashes(Automaton* automaton) {
  Automaton& a = *automaton;
  size_t num_rules = a.rules.size();
  std::vector<int32_t> first_state(num_rules, INT32_MAX);
  for (StateId s = 0; s < a.num_states(); ++s) {
    first_state[a.state_rule[s]] = std::min(first_state[a.state_rule[s]], s);
  }
  std::vector<std::vector<RuleId>> callees(num_rules);
  for (StateId s = 0; s < a.num_states(); ++s) {
    for (int32_t e = a.call_edge_begin[s]; e < a.call_edge_begin[s + 1]; ++e) {
      callees[a.state_rule[s]].push_back(a.call_edges[e].rule);
    }
  }
  // 0 unvisited, 1 on the DFS stack, 2 done; recursive_closure from cycles upward.
  std::vector<uint8_t> mark(num_rules, 0), recursive(num_rules, 0);
  std::vector<uint64_t> hash(num_rules, 0);
  uint64_t salt = a.Fingerprint();
  std::vector<std::pair<RuleId, size_t>> stack;
  std::vector<std::array<uint64_t, 3>> calls;  // one state's call edges, reused
  for (size_t root = 0; root < num_rules; ++root) {
    if (mark[root]) continue;
    stack.push_back({static_cast<RuleId>(root), 0});
    mark[root] = 1;
    while (!stack.empty()) {
      auto& [r, next] = stack.back();
      if (next < callees[r].size()) {
        RuleId c = callees[r][next++];
        if (mark[c] == 1) {
          // A cycle: every rule on the stack from c up is recursive.
          for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
            recursive[it->first] = 1;
            if (it->first == c) break;
          }
        } else if (mark[c] == 0) {
          mark[c] = 1;
          stack.push_back({c, 0});
        }
        continue;
      }
      RuleId done = r;
      stack.pop_back();
      mark[done] = 2;
      for (RuleId c : callees[done]) recursive[done] |= recursive[c];
      if (recursive[done]) {
        hash[done] = Mix(salt, static_cast<uint64_t>(done));
        continue;
      }
      uint64_t h = Mix(LookaheadHash(a, a.rules[done].lookahead_start), a.rules[done].start - first_state[done]);
      for (StateId s = first_state[done]; s < a.num_states() && a.state_rule[s] == done; ++s) {
        h = Mix(h, 0x5151 + a.is_final[s]);
        for (int32_t e = a.byte_edge_begin[s]; e < a.byte_edge_begin[s + 1]; ++e) {
          const ByteEdge& edge = a.byte_edges[e];
          h = Mix(h, (uint64_t{edge.lo} << 40) | (uint64_t{edge.hi} << 32) |
                         uint32_t(edge.target - first_state[done]));
        }
        // Call edges are stored by rule id, which differs between grammars.
        calls.clear();
        for (int32_t e = a.call_edge_begin[s]; e < a.call_edge_begin[s + 1]; ++e) {
          const CallEdge& call = a.call_edges[e];
          calls.push_back({hash[call.rule],
                           (uint64_t(uint32_t(call.min_calls)) << 32) | uint32_t(call.max_calls),
                           uint32_t(call.target - first_state[done])});
        }
        std::sort(calls.begin(), calls.end());
        for (const auto& c : calls) h = Mix(Mix(Mix(h, c[0]), c[1]), c[2]);
      }
      hash[done] = h;
    }
  }
  a.state_hash.resize(a.num_states());
  for (StateId s = 0; s < a.num_states(); ++s) {
    RuleId r = a.state_rule[s];
    a.state_hash[s] = Mix(hash[r], uint32_t(s - first_state[r]));
  }
}

uint64_t Automaton::Fingerprint() const {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint64_t v) { h = (h ^ v) * 1099511628211ull; };
  for (int32_t s = 0; s < num_states(); ++s) {
    mix(is_final[s]);
    mix(state_rule[s]);
    for (int32_t e = byte_edge_begin[s]; e < byte_edge_begin[s + 1]; ++e) {
      mix((uint64_t{byte_edges[e].lo} << 40) | (uint64_t{byte_edges[e].hi} << 32) |
          static_cast<uint32_t>(byte_edges[e].target));
    }
    for (int32_t e = call_edge_begin[s]; e < call_edge_begin[s + 1]; ++e) {
      const CallEdge& c = call_edges[e];
      mix((uint64_t(uint32_t(c.rule)) << 32) | uint32_t(c.target));
      mix((uint64_t(uint32_t(c.min_calls)) << 32) | uint32_t(c.max_calls));
    }
  }
  for (const AutomatonRule& r : rules) mix((uint64_t(uint32_t(r.start)) << 32) | uint32_t(r.lookahead_start));
  for (const ByteEdge& e : lookahead_edges) mix((uint64_t{e.lo} << 40) | (uint64_t{e.hi} << 32) | uint32_t(e.target));
  for (uint8_t f : lookahead_final) mix(f);
  mix(static_cast<uint64_t>(root));
  return h;
}

}  // namespace xgram
