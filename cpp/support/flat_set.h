// Open-addressing hash set of small plain keys, cleared in O(1).
//
// The matcher dedupes items, stack nodes and stack edges once per input byte;
// clearing a std::unordered_set that often would allocate and free memory on the
// per-token path. Here `Clear()` only bumps a generation number: a slot is live
// when its stamp equals the current generation. Capacity only grows.
#ifndef XGRAM_FLAT_SET_H_
#define XGRAM_FLAT_SET_H_

#include <cstdint>
#include <vector>

namespace xgram {

// Key must be trivially copyable, have operator== and a `Hash()` member.
template <typename Key, typename Value = int32_t>
class FlatMap {
 public:
  FlatMap() { slots_.resize(64); }

  void Clear() {
    if (++generation_ == 0) {  // wrapped: stale stamps could look live
      for (Slot& s : slots_) s.generation = 0;
      generation_ = 1;
    }
    size_ = 0;
  }

  // Returns the value for `key`, inserting `value` first if absent; `*inserted`
  // tells which happened.
  Value& FindOrInsert(const Key& key, Value value, bool* inserted) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    size_t mask = slots_.size() - 1;
    for (size_t i = key.Hash() & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.generation != generation_) {
        s.generation = generation_;
        s.key = key;
        s.value = value;
        ++size_;
        *inserted = true;
        return s.value;
      }
      if (s.key == key) {
        *inserted = false;
        return s.value;
      }
    }
  }

  bool Insert(const Key& key) {
    bool inserted;
    FindOrInsert(key, Value{}, &inserted);
    return inserted;
  }

  size_t size() const { return size_; }

 private:
  struct Slot {
    Key key{};
    Value value{};
    uint32_t generation = 0;
  };

  void Grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.resize(old.size() * 2);
    for (Slot& s : slots_) s.generation = 0;
    uint32_t live = generation_;
    generation_ = 1;
    size_ = 0;
    size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.generation != live) continue;
      for (size_t i = s.key.Hash() & mask;; i = (i + 1) & mask) {
        if (slots_[i].generation != generation_) {
          slots_[i] = s;
          slots_[i].generation = generation_;
          ++size_;
          break;
        }
      }
    }
  }

  std::vector<Slot> slots_;
  uint32_t generation_ = 1;
  size_t size_ = 0;
};

inline uint64_t MixHash(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

}  // namespace xgram

#endif  // XGRAM_FLAT_SET_H_
