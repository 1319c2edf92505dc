// Regex front-end (see regex_parser.h). Recursive descent:
//   Alternation -> Sequence ('|' Sequence)*
//   Sequence    -> (Atom Quantifier*)*
//   Atom        -> literal | '.' | class | escape | group
// Errors are GrammarError with the pattern quoted and a caret, like EBNF errors.
#include "regex_parser.h"

#include <cctype>

#include "errors.h"
#include "utf8.h"

namespace xgram {
namespace {

constexpr int32_t kMaxRepeat = 1 << 20;

// ECMA-262 classes (ASCII \d and \w; \s is the full WhiteSpace + LineTerminator set).
std::vector<CodepointRange> DigitRanges() { return {{'0', '9'}}; }
std::vector<CodepointRange> WordRanges() { return {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}; }
std::vector<CodepointRange> SpaceRanges() {
  return {{'\t', '\r'}, {' ', ' '}, {0xA0, 0xA0}, {0x1680, 0x1680}, {0x2000, 0x200A},
          {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
}
std::vector<CodepointRange> LineTerminators() { return {{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}; }

class RegexParser {
 public:
  RegexParser(const std::string& pattern, Grammar* grammar) : text_(pattern), g_(grammar) {}

  ExprId Parse() {
    if (Peek() == '^') ++pos_;  // the match is always anchored
    ExprId expr = ParseAlternation();
    CheckFinished();
    return expr;
  }

  // Search semantics (JSON Schema `pattern`): each top-level alternative may start
  // with '^' and end with '$'; a side without its anchor is padded with `any*`.
  ExprId ParseSearch(const std::vector<CodepointRange>& any_char) {
    search_ = true;
    std::vector<ExprId> alternatives;
    while (true) {
      bool start_anchored = Peek() == '^';
      if (start_anchored) ++pos_;
      end_anchored_ = false;
      ExprId body = ParseSequence();
      std::vector<ExprId> parts;
      if (!start_anchored) parts.push_back(g_->AddRepeat(g_->AddCharClass(any_char), 0, kUnbounded));
      parts.push_back(body);
      if (!end_anchored_) parts.push_back(g_->AddRepeat(g_->AddCharClass(any_char), 0, kUnbounded));
      alternatives.push_back(g_->AddSequence(std::move(parts)));
      if (Peek() != '|') break;
      ++pos_;
    }
    CheckFinished();
    return alternatives.size() == 1 ? alternatives[0] : g_->AddChoice(std::move(alternatives));
  }

 private:
  [[noreturn]] void Fail(size_t offset, const std::string& message) {
    GrammarError located = MakeLocatedError(text_, offset, message);
    throw GrammarError("in regex: " + std::string(located.what()), located.line(), located.column());
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }

  ExprId ParseAlternation() {
    std::vector<ExprId> alternatives{ParseSequence()};
    while (Peek() == '|') {
      ++pos_;
      alternatives.push_back(ParseSequence());
    }
    return alternatives.size() == 1 ? alternatives[0] : g_->AddChoice(std::move(alternatives));
  }

  ExprId ParseSequence() {
    std::vector<ExprId> items;
    while (!AtEnd() && Peek() != '|' && Peek() != ')') {
      if (Peek() == '$') {
        size_t at = pos_++;
        // `$` may only end the whole pattern (possibly inside closing groups), or in
        // search mode a top-level alternative. Inside groups it anchors the whole
        // pattern's end, which can only narrow the language (never widen it).
        size_t p = pos_;
        while (p < text_.size() && text_[p] == ')') ++p;
        bool ends_alternative = search_ && depth_ == 0 && (p == text_.size() || text_[p] == '|');
        if (p != text_.size() && !ends_alternative) {
          Fail(at, "'$' is only supported at the end of the pattern");
        }
        end_anchored_ = true;
        continue;
      }
      if (Peek() == '^') Fail(pos_, "'^' is only supported at the start of the pattern");
      size_t atom_offset = pos_;
      ExprId atom = ParseAtom();
      items.push_back(ParseQuantifiers(atom, atom_offset));
    }
    if (items.empty()) return g_->AddEmpty();
    return items.size() == 1 ? items[0] : g_->AddSequence(std::move(items));
  }

  ExprId ParseQuantifiers(ExprId atom, size_t atom_offset) {
    bool quantified = false;
    while (true) {
      char c = Peek();
      int32_t min, max;
      size_t at = pos_;
      if (c == '*') {
        min = 0, max = kUnbounded, ++pos_;
      } else if (c == '+') {
        min = 1, max = kUnbounded, ++pos_;
      } else if (c == '?') {
        min = 0, max = 1, ++pos_;
      } else if (c == '{' && ParseBraces(&min, &max)) {
      } else {
        break;
      }
      if (quantified) Fail(at, "nothing to repeat (a quantifier cannot follow another)");
      quantified = true;
      if (Peek() == '?') ++pos_;       // lazy: same language
      else if (Peek() == '+') Fail(pos_, "possessive quantifiers are not supported");
      atom = g_->AddRepeat(atom, min, max);
      g_->exprs[atom].source_offset = static_cast<int32_t>(atom_offset);
    }
    return atom;
  }

  // `{m}`, `{m,}`, `{m,n}`; anything else is a literal '{' (as in ECMA-262 Annex B
  // and Python), so returns false without consuming.
  bool ParseBraces(int32_t* min, int32_t* max) {
    size_t p = pos_ + 1;
    auto number = [&](int64_t* out) {
      size_t start = p;
      int64_t value = 0;
      while (p < text_.size() && std::isdigit(static_cast<unsigned char>(text_[p]))) {
        value = std::min<int64_t>(value * 10 + (text_[p] - '0'), int64_t{1} << 40);
        ++p;
      }
      *out = value;
      return p > start;
    };
    int64_t lo, hi = -1;
    if (p < text_.size() && text_[p] == ',' && p + 1 < text_.size() &&
        std::isdigit(static_cast<unsigned char>(text_[p + 1]))) {
      // Python reads `{,n}` as {0,n}; ECMA-262 as the literal text. Refuse to guess.
      Fail(pos_, "ambiguous quantifier '{,n}': write {0,n} (or \\{ for a literal brace)");
    }
    if (!number(&lo)) return false;
    if (p < text_.size() && text_[p] == ',') {
      ++p;
      if (!number(&hi)) hi = -1;
    } else {
      hi = lo;
    }
    if (p >= text_.size() || text_[p] != '}') return false;
    if (lo > kMaxRepeat || hi > kMaxRepeat) Fail(pos_, "repetition bound is too large (at most 1048576)");
    if (hi >= 0 && hi < lo) Fail(pos_, "numbers out of order in {} quantifier");
    *min = static_cast<int32_t>(lo);
    *max = hi < 0 ? kUnbounded : static_cast<int32_t>(hi);
    pos_ = p + 1;
    return true;
  }

  ExprId Literal(uint32_t cp) {
    std::string bytes;
    AppendUtf8(cp, &bytes);
    return g_->AddBytes(std::move(bytes));
  }

  ExprId ParseAtom() {
    size_t at = pos_;
    char c = Peek();
    switch (c) {
      case '(':
        return ParseGroup();
      case '[':
        return ParseClass();
      case '.':
        ++pos_;
        return g_->AddCharClass(ComplementRanges(NormalizeRanges(LineTerminators())));
      case '\\': {
        std::vector<CodepointRange> ranges;
        uint32_t cp;
        if (ParseEscape(/*in_class=*/false, &cp, &ranges)) return Literal(cp);
        return g_->AddCharClass(std::move(ranges));
      }
      case '*':
      case '+':
      case '?':
        Fail(at, "nothing to repeat");
      case '{': {
        int32_t min, max;
        size_t save = pos_;
        if (ParseBraces(&min, &max)) Fail(save, "nothing to repeat");
        ++pos_;
        return Literal('{');
      }
      default: {
        uint32_t cp;
        int len = DecodeUtf8(text_, pos_, &cp);
        if (len == 0) Fail(pos_, "the pattern is not valid UTF-8 here");
        pos_ += len;
        return Literal(cp);
      }
    }
  }

  ExprId ParseGroup() {
    size_t open = pos_;
    if (++depth_ > 500) Fail(open, "groups are nested too deeply (more than 500 levels)");
    ++pos_;
    if (Peek() == '?') {
      char kind = Peek(1);
      if (kind == ':') {
        pos_ += 2;
      } else if (kind == '=' || kind == '!') {
        Fail(open, "lookahead assertions are not supported in regexes");
      } else if (kind == '<' && (Peek(2) == '=' || Peek(2) == '!')) {
        Fail(open, "lookbehind assertions are not supported in regexes");
      } else if (kind == '<' || (kind == 'P' && Peek(2) == '<')) {
        pos_ += kind == 'P' ? 3 : 2;
        size_t name_start = pos_;
        while (!AtEnd() && (std::isalnum(static_cast<unsigned char>(Peek())) || Peek() == '_')) ++pos_;
        if (pos_ == name_start || Peek() != '>') Fail(pos_, "expected a group name and '>'");
        ++pos_;
      } else if (kind == 'P' && Peek(2) == '=') {
        Fail(open, "backreferences are not supported in regexes");
      } else {
        Fail(open, "inline flags and other '(?' groups are not supported");
      }
    }
    ExprId inner = ParseAlternation();
    if (Peek() != ')') Fail(open, "missing ')' for this group");
    ++pos_;
    --depth_;
    return inner;
  }

  // Parses an escape after '\'. Returns true with `*cp` for a single character,
  // false with `*ranges` for a class escape (\d \w \s and negations).
  bool ParseEscape(bool in_class, uint32_t* cp, std::vector<CodepointRange>* ranges) {
    size_t at = pos_;
    ++pos_;
    if (AtEnd()) Fail(at, "the pattern ends with a lone backslash");
    char e = Peek();
    ++pos_;
    switch (e) {
      case 'd': *ranges = DigitRanges(); return false;
      case 'w': *ranges = WordRanges(); return false;
      case 's': *ranges = SpaceRanges(); return false;
      case 'D': *ranges = ComplementRanges(NormalizeRanges(DigitRanges())); return false;
      case 'W': *ranges = ComplementRanges(NormalizeRanges(WordRanges())); return false;
      case 'S': *ranges = ComplementRanges(NormalizeRanges(SpaceRanges())); return false;
      case 'n': *cp = '\n'; return true;
      case 'r': *cp = '\r'; return true;
      case 't': *cp = '\t'; return true;
      case 'f': *cp = '\f'; return true;
      case 'v': *cp = '\v'; return true;
      case '0':
        if (std::isdigit(static_cast<unsigned char>(Peek()))) Fail(at, "octal escapes are not supported");
        *cp = 0;
        return true;
      case 'x': *cp = Hex(2, at); return true;
      case 'u':
        if (Peek() == '{') {
          ++pos_;
          size_t start = pos_;
          uint32_t value = 0;
          while (std::isxdigit(static_cast<unsigned char>(Peek())) && pos_ - start < 8) {
            value = value * 16 + HexValue(Peek());
            ++pos_;
          }
          if (pos_ == start || Peek() != '}') Fail(at, "expected hex digits and '}' in \\u{...}");
          ++pos_;
          CheckCodepoint(value, at);
          *cp = value;
          return true;
        }
        *cp = Hex(4, at);
        // A UTF-16 surrogate pair written as two escapes is one code point.
        if (*cp >= 0xD800 && *cp <= 0xDBFF && Peek() == '\\' && Peek(1) == 'u') {
          size_t save = pos_;
          pos_ += 2;
          bool ok = true;
          uint32_t low = 0;
          for (int i = 0; i < 4 && ok; ++i) {
            ok = std::isxdigit(static_cast<unsigned char>(Peek())) != 0;
            if (ok) low = low * 16 + HexValue(Peek()), ++pos_;
          }
          if (ok && low >= 0xDC00 && low <= 0xDFFF) {
            *cp = 0x10000 + ((*cp - 0xD800) << 10) + (low - 0xDC00);
            return true;
          }
          pos_ = save;
        }
        CheckCodepoint(*cp, at);
        return true;
      case 'b':
        if (in_class) {
          *cp = '\b';
          return true;
        }
        Fail(at, "word boundaries (\\b) are not supported");
      case 'B': Fail(at, "word boundaries (\\B) are not supported");
      case 'k': Fail(at, "backreferences are not supported in regexes");
      case 'p':
      case 'P': Fail(at, "Unicode property escapes (\\p{...}) are not supported");
      case 'c': Fail(at, "control escapes (\\cX) are not supported");
      default:
        if (std::isdigit(static_cast<unsigned char>(e))) Fail(at, "backreferences are not supported in regexes");
        if (std::isalnum(static_cast<unsigned char>(e))) {
          Fail(at, std::string("unknown escape '\\") + e + "'");
        }
        // Escaped punctuation (or any non-ASCII character) stands for itself.
        --pos_;
        int len = DecodeUtf8(text_, pos_, cp);
        if (len == 0) Fail(pos_, "the pattern is not valid UTF-8 here");
        pos_ += len;
        return true;
    }
  }

  static uint32_t HexValue(char h) {
    return (h >= '0' && h <= '9') ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : h - 'A' + 10;
  }

  uint32_t Hex(int digits, size_t at) {
    uint32_t value = 0;
    for (int i = 0; i < digits; ++i) {
      if (!std::isxdigit(static_cast<unsigned char>(Peek()))) {
        Fail(at, "expected " + std::to_string(digits) + " hex digits after the escape");
      }
      value = value * 16 + HexValue(Peek());
      ++pos_;
    }
    return value;
  }

  void CheckCodepoint(uint32_t cp, size_t at) {
    if (cp > kMaxCodepoint) Fail(at, "code point above U+10FFFF");
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      Fail(at, "a lone surrogate escape matches no UTF-8 text");
    }
  }

  ExprId ParseClass() {
    size_t open = pos_;
    ++pos_;
    bool negated = false;
    if (Peek() == '^') negated = true, ++pos_;
    std::vector<CodepointRange> ranges;
    bool first = true;
    while (true) {
      if (AtEnd()) Fail(open, "missing ']' for this character class");
      if (Peek() == ']' && !first) break;
      if (Peek() == ']' && first) {
        // `[]` matches nothing and `[^]` everything in ECMA-262.
        break;
      }
      first = false;
      uint32_t lo;
      std::vector<CodepointRange> set;
      bool single = ClassAtom(&lo, &set);
      if (!single) {
        ranges.insert(ranges.end(), set.begin(), set.end());
        if (Peek() == '-' && Peek(1) != ']' && Peek(1) != '\0') {
          Fail(pos_, "a class escape cannot start a range");
        }
        continue;
      }
      if (Peek() == '-' && Peek(1) != ']' && Peek(1) != '\0') {
        size_t dash = pos_;
        ++pos_;
        uint32_t hi;
        std::vector<CodepointRange> hi_set;
        if (!ClassAtom(&hi, &hi_set)) Fail(dash, "a class escape cannot end a range");
        if (hi < lo) Fail(dash, "range out of order in character class");
        ranges.push_back({lo, hi});
      } else {
        ranges.push_back({lo, lo});
      }
    }
    ++pos_;
    ranges = NormalizeRanges(std::move(ranges));
    if (negated) ranges = ComplementRanges(ranges);
    // Surrogates are not characters of UTF-8 text.
    std::vector<CodepointRange> without_surrogates;
    for (const CodepointRange& r : ranges) {
      if (r.hi < 0xD800 || r.lo > 0xDFFF) {
        without_surrogates.push_back(r);
        continue;
      }
      if (r.lo < 0xD800) without_surrogates.push_back({r.lo, 0xD7FF});
      if (r.hi > 0xDFFF) without_surrogates.push_back({0xE000, r.hi});
    }
    if (without_surrogates.empty()) Fail(open, "this character class matches no character");
    return g_->AddCharClass(std::move(without_surrogates));
  }

  bool ClassAtom(uint32_t* cp, std::vector<CodepointRange>* set) {
    if (Peek() == '\\') return ParseEscape(/*in_class=*/true, cp, set);
    if (Peek() == '[' && (Peek(1) == ':' || Peek(1) == '=' || Peek(1) == '.')) {
      Fail(pos_, "POSIX classes like [:alpha:] are not supported");
    }
    int len = DecodeUtf8(text_, pos_, cp);
    if (len == 0) Fail(pos_, "the pattern is not valid UTF-8 here");
    pos_ += len;
    return true;
  }

  void CheckFinished() {
    if (pos_ < text_.size()) {
      if (Peek() == ')') Fail(pos_, "unmatched ')'");
      Fail(pos_, "unexpected character");
    }
  }

  const std::string& text_;
  Grammar* g_;
  size_t pos_ = 0;
  int depth_ = 0;
  bool search_ = false;
  bool end_anchored_ = false;
};

}  // namespace

ExprId ParseRegexInto(const std::string& pattern, Grammar* grammar) {
  return RegexParser(pattern, grammar).Parse();
}

ExprId ParseRegexSearchInto(const std::string& pattern, const std::vector<CodepointRange>& any_char,
                            Grammar* grammar) {
  return RegexParser(pattern, grammar).ParseSearch(any_char);
}

Grammar GrammarFromRegex(const std::string& pattern) {
  Grammar g;
  ExprId body = ParseRegexInto(pattern, &g);
  g.root = g.AddRule("root", body);
  return g;
}

}  // namespace xgram
