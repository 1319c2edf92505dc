// Formatting of located errors: the line, a caret, and 1-based line/column.
#include "errors.h"

#include <algorithm>

namespace xgram {

GrammarError MakeLocatedError(const std::string& source, size_t offset, const std::string& message) {
  offset = std::min(offset, source.size());
  size_t line_start = source.rfind('\n', offset == 0 ? std::string::npos : offset - 1);
  line_start = (line_start == std::string::npos) ? 0 : line_start + 1;
  if (offset > 0 && offset <= source.size() && source[offset - 1] == '\n' && offset == source.size()) {
    // An error at the very end after a trailing newline points past the last line.
    line_start = offset;
  }
  size_t line_end = source.find('\n', line_start);
  if (line_end == std::string::npos) line_end = source.size();
  int line = 1 + static_cast<int>(std::count(source.begin(), source.begin() + line_start, '\n'));
  // Columns count code points, not bytes, so the caret lines up under UTF-8 text.
  int column = 1;
  for (size_t i = line_start; i < offset; ++i) {
    if ((static_cast<unsigned char>(source[i]) & 0xC0) != 0x80) ++column;
  }
  std::string text = source.substr(line_start, line_end - line_start);
  std::string caret_pad;
  for (size_t i = line_start; i < offset; ++i) {
    unsigned char c = static_cast<unsigned char>(source[i]);
    if ((c & 0xC0) == 0x80) continue;
    caret_pad += (c == '\t') ? '\t' : ' ';
  }
  std::string full = "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " +
                     message + "\n  " + text + "\n  " + caret_pad + "^";
  return GrammarError(full, line, column);
}

}  // namespace xgram
