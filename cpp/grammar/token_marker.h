// Token markers: how a grammar names one token of the vocabulary rather than text.
//
// Grammars are byte-level: a literal matches bytes, and a token is allowed when
// its bytes are. Some outputs are defined by token ids instead (a model's
// `<tool_call>` control token, "any tokens but these"). Such an element is
// written `Token(id)` in EBNF and stored as an ordinary byte literal holding the
// token's *marker*: the byte 0xFF followed by the id in four bytes of six bits
// each (0x80 | bits). 0xFF never occurs in UTF-8, and character classes match
// whole code points, so no text can spell a marker: a marker byte is reached only
// through `Token(id)`, and everything else in the pipeline (passes, automata,
// the mask cache) treats it as one more literal.
//
// A compiled grammar that mentions markers matches those tokens by their marker
// alone: the matcher advances by the marker when such a token is accepted, and
// allows the token exactly when its marker can be read next (grammar_matcher.cc).
#ifndef XGRAM_TOKEN_MARKER_H_
#define XGRAM_TOKEN_MARKER_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace xgram {

constexpr uint8_t kTokenMarkerLead = 0xFF;
constexpr size_t kTokenMarkerBytes = 5;
constexpr int32_t kMaxMarkedTokenId = (1 << 24) - 1;

// The marker bytes of token `id` (0 <= id <= kMaxMarkedTokenId).
inline std::string TokenMarker(int32_t id) {
  std::string out(1, static_cast<char>(kTokenMarkerLead));
  for (int shift = 18; shift >= 0; shift -= 6) {
    out.push_back(static_cast<char>(0x80 | ((id >> shift) & 0x3F)));
  }
  return out;
}

// The token id of the marker starting at bytes[pos], or -1 if none starts there.
inline int32_t ReadTokenMarker(const std::string& bytes, size_t pos) {
  if (pos + kTokenMarkerBytes > bytes.size() ||
      static_cast<uint8_t>(bytes[pos]) != kTokenMarkerLead) {
    return -1;
  }
  int32_t id = 0;
  for (size_t i = 1; i < kTokenMarkerBytes; ++i) {
    uint8_t b = static_cast<uint8_t>(bytes[pos + i]);
    if ((b & 0xC0) != 0x80) return -1;
    id = (id << 6) | (b & 0x3F);
  }
  return id;
}

}  // namespace xgram

#endif  // XGRAM_TOKEN_MARKER_H_
