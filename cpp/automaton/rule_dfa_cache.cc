// See rule_dfa_cache.h.
#include "rule_dfa_cache.h"

namespace xgram {
namespace rule_dfa {
namespace {

// The hash-map node of an entry, beyond the key's characters and the rule: the
// link to the next node, the key's std::string, the shared_ptr and the cached
// hash (8 + 32 + 16 + 8 bytes with libstdc++ on a 64-bit target).
constexpr size_t kMapNodeBytes = 64;

size_t DfaBytes(const RuleDfa& d) {
  return d.byte_edges.size() * sizeof(ByteEdge) + d.call_edges.size() * sizeof(d.call_edges[0]) +
         (d.byte_begin.size() + d.call_begin.size()) * sizeof(int32_t) + d.final.size();
}

}  // namespace

size_t CachedRule::MemoryBytes() const {
  return sizeof(*this) + DfaBytes(determinized) + DfaBytes(minimized) + calls.size() * sizeof(LocalCall);
}

RuleCache& RuleCache::Global() {
  static RuleCache* cache = new RuleCache();  // never destroyed: used until exit
  return *cache;
}

std::shared_ptr<const CachedRule> RuleCache::Find(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  return it->second;
}

void RuleCache::Insert(std::string key, std::shared_ptr<const CachedRule> rule) {
  size_t bytes = key.size() + rule->MemoryBytes() + kMapNodeBytes;
  std::lock_guard<std::mutex> lock(mutex_);
  if (bytes > capacity_) return;
  if (bytes_ + bytes > capacity_) {
    entries_.clear();
    bytes_ = 0;
  }
  if (entries_.emplace(std::move(key), std::move(rule)).second) bytes_ += bytes;
}

void RuleCache::Clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
  bytes_ = 0;
  hits_ = misses_ = 0;
}

void RuleCache::SetCapacity(size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  capacity_ = bytes;
  if (bytes_ > capacity_) {
    entries_.clear();
    bytes_ = 0;
  }
}

size_t RuleCache::capacity() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return capacity_;
}

RuleCache::Stats RuleCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {entries_.size(), bytes_, hits_, misses_};
}

}  // namespace rule_dfa
}  // namespace xgram
