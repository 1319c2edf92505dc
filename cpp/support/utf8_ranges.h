// Code-point ranges -> UTF-8 byte-range sequences.
//
// A character class like [a-é] matches one code point, but the automaton reads
// bytes. Each code-point range is split into pieces whose UTF-8 encodings share
// their length and all but a suffix of free continuation bytes; each piece is then
// one sequence of byte ranges, e.g. U+0080..U+07FF -> [C2-DF][80-BF]. This is the
// construction used by RE2 and Rust's regex-syntax. Surrogates (U+D800..U+DFFF)
// have no UTF-8 encoding and are left out.
#ifndef XGRAM_UTF8_RANGES_H_
#define XGRAM_UTF8_RANGES_H_

#include <cstdint>
#include <vector>

#include "grammar_ir.h"

namespace xgram {

struct ByteRange {
  uint8_t lo;
  uint8_t hi;
};

// One to four byte ranges, held inline so a class's sequences are one vector.
struct Utf8Sequence {
  ByteRange ranges[4];
  uint8_t length = 0;
  size_t size() const { return length; }
  const ByteRange& operator[](size_t i) const { return ranges[i]; }
};

std::vector<Utf8Sequence> Utf8Sequences(const std::vector<CodepointRange>& ranges);

}  // namespace xgram

#endif  // XGRAM_UTF8_RANGES_H_
