// See utf8_ranges.h.
#include "utf8_ranges.h"

#include <string>

#include "utf8.h"

namespace xgram {
namespace {

int EncodedLength(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

// Pending pieces; splitting one range never leaves more than a few dozen.
class PieceStack {
 public:
  void push_back(std::pair<uint32_t, uint32_t> piece) {
    if (size_ < kInline) {
      inline_[size_++] = piece;
    } else {
      spill_.push_back(piece);
    }
  }
  bool empty() const { return size_ == 0 && spill_.empty(); }
  std::pair<uint32_t, uint32_t> pop() {
    if (!spill_.empty()) {
      auto piece = spill_.back();
      spill_.pop_back();
      return piece;
    }
    return inline_[--size_];
  }

 private:
  static constexpr int kInline = 32;
  std::pair<uint32_t, uint32_t> inline_[kInline];
  int size_ = 0;
  std::vector<std::pair<uint32_t, uint32_t>> spill_;
};

void SplitRange(uint32_t lo, uint32_t hi, std::vector<Utf8Sequence>* out) {
  PieceStack work;
  work.push_back({lo, hi});
  while (!work.empty()) {
    auto [a, b] = work.pop();
    if (a > b) continue;
    // Surrogates are not encodable.
    if (a <= 0xDFFF && b >= 0xD800) {
      if (a < 0xD800) work.push_back({a, 0xD7FF});
      if (b > 0xDFFF) work.push_back({0xE000, b});
      continue;
    }
    // Pieces must have one encoded length.
    bool split = false;
    for (uint32_t boundary : {0x7Fu, 0x7FFu, 0xFFFFu}) {
      if (a <= boundary && boundary < b) {
        work.push_back({a, boundary});
        work.push_back({boundary + 1, b});
        split = true;
        break;
      }
    }
    if (split) continue;
    // Pieces must vary only in a suffix of whole continuation bytes.
    int n = EncodedLength(a);
    for (int i = 1; i < n && !split; ++i) {
      uint32_t mask = (1u << (6 * i)) - 1;
      if ((a & ~mask) != (b & ~mask)) {
        if ((a & mask) != 0) {
          work.push_back({a, a | mask});
          work.push_back({(a | mask) + 1, b});
          split = true;
        } else if ((b & mask) != mask) {
          work.push_back({a, (b & ~mask) - 1});
          work.push_back({b & ~mask, b});
          split = true;
        }
      }
    }
    if (split) continue;
    std::string ea, eb;
    AppendUtf8(a, &ea);
    AppendUtf8(b, &eb);
    Utf8Sequence seq;
    for (size_t i = 0; i < ea.size(); ++i) {
      seq.ranges[i] = {static_cast<uint8_t>(ea[i]), static_cast<uint8_t>(eb[i])};
    }
    seq.length = static_cast<uint8_t>(ea.size());
    out->push_back(seq);
  }
}

}  // namespace

std::vector<Utf8Sequence> Utf8Sequences(const std::vector<CodepointRange>& ranges) {
  std::vector<Utf8Sequence> out;
  for (const CodepointRange& r : ranges) SplitRange(r.lo, r.hi, &out);
  return out;
}

}  // namespace xgram
