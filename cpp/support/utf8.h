// UTF-8 encoding and decoding of single code points (RFC 3629: no surrogates,
// nothing above U+10FFFF, shortest form only).
#ifndef XGRAM_UTF8_H_
#define XGRAM_UTF8_H_

#include <cstdint>
#include <string>

namespace xgram {

inline void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes one code point starting at text[pos]; returns its byte length, or 0 when
// the bytes there are not valid UTF-8.
inline int DecodeUtf8(const std::string& text, size_t pos, uint32_t* cp) {
  auto byte = [&](size_t i) -> uint32_t { return static_cast<unsigned char>(text[i]); };
  if (pos >= text.size()) return 0;
  uint32_t b0 = byte(pos);
  int len;
  uint32_t value;
  uint32_t min_value;
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, value = b0 & 0x1F, min_value = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, value = b0 & 0x0F, min_value = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, value = b0 & 0x07, min_value = 0x10000;
  } else {
    return 0;
  }
  if (pos + len > text.size()) return 0;
  for (int i = 1; i < len; ++i) {
    uint32_t b = byte(pos + i);
    if ((b & 0xC0) != 0x80) return 0;
    value = (value << 6) | (b & 0x3F);
  }
  if (value < min_value || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  *cp = value;
  return len;
}

}  // namespace xgram

#endif  // XGRAM_UTF8_H_
