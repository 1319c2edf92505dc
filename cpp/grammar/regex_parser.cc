// Regex front-end (see regex_parser.h). Recursive descent:
//   Alternation -> Sequence ('|' Sequence)*
//   Sequence    -> (Atom Quantifier*)*
//   Atom        -> literal | '.' | class | escape | group | '^' | '$'
// Errors are GrammarError with the pattern quoted and a caret, like EBNF errors.
//
// Anchors anywhere. '^' and '$' are zero-width assertions: '^' holds only at the
// start of the text, '$' only at its end (no multiline flag). The grammar IR has
// no assertions, so the parser pushes them outward: every piece of the regex is
// kept as up to four anchor-free expressions, one per *shape* (did the piece
// assert that it begins at the text's start? that it ends at the text's end?).
// Concatenation combines shapes: when B asserts the start, everything A matched
// before it must be empty (A must be nullable and is dropped); when A asserts the
// end, B must match empty. Alternation unions shapes; `X*` is
// `(X's start-anchored shapes)? X_plain* (X's end-anchored shapes)?`, since every
// iteration before a start-anchored one, or after an end-anchored one, is empty.
// At the top level a full match takes every shape; a search pads the sides that
// are not anchored with `any*`. The result is exact for every placement.
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

// Shape bits of an anchored piece (see the file comment).
constexpr int kAtStart = 2;  // the piece asserted that it begins where the text begins
constexpr int kAtEnd = 1;    // ... that it ends where the text ends
// Unrolling a repetition of an anchored piece copies it this many times at most.
constexpr int32_t kMaxAnchoredUnroll = 16;

// A regex piece as up to four anchor-free expressions, indexed by shape.
struct Anchored {
  ExprId forms[4] = {kNone, kNone, kNone, kNone};
  // No anchor: the one anchor-free form (the common case, kept as plain IR).
  bool Plain() const { return forms[0] != kNone && forms[1] == kNone && forms[2] == kNone && forms[3] == kNone; }
};

class RegexParser {
 public:
  RegexParser(const std::string& pattern, Grammar* grammar) : text_(pattern), g_(grammar) {}

  // Full match: the piece spans the whole text, so every anchor holds wherever
  // its shape says it does, and all shapes count.
  ExprId Parse() {
    Anchored piece = ParseAlternation();
    CheckFinished();
    std::vector<ExprId> bodies;
    for (ExprId form : piece.forms) {
      if (form != kNone) bodies.push_back(form);
    }
    return Union(std::move(bodies));
  }

  // Search semantics (JSON Schema `pattern`): the text contains a match; a side
  // the match did not anchor is padded with `any*`.
  ExprId ParseSearch(const std::vector<CodepointRange>& any_char) {
    search_ = true;
    any_char_ = any_char;
    Anchored piece = ParseAlternation();
    CheckFinished();
    std::vector<ExprId> alternatives;
    for (int shape = 0; shape < 4; ++shape) {
      if (piece.forms[shape] == kNone) continue;
      std::vector<ExprId> parts;
      if (!(shape & kAtStart)) parts.push_back(g_->AddRepeat(g_->AddCharClass(any_char), 0, kUnbounded));
      parts.push_back(piece.forms[shape]);
      if (!(shape & kAtEnd)) parts.push_back(g_->AddRepeat(g_->AddCharClass(any_char), 0, kUnbounded));
      alternatives.push_back(g_->AddSequence(std::move(parts)));
    }
    return Union(std::move(alternatives));
  }

 private:
  [[noreturn]] void Fail(size_t offset, const std::string& message) {
    GrammarError located = MakeLocatedError(text_, offset, message);
    throw GrammarError("in regex: " + std::string(located.what()), located.line(), located.column());
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }

  // --- anchored pieces ---------------------------------------------------------

  // A choice of `bodies`; none: the empty class (see RegexMatchesNothing).
  ExprId Union(std::vector<ExprId> bodies) {
    if (bodies.empty()) return g_->AddCharClass({});
    return bodies.size() == 1 ? bodies[0] : g_->AddChoice(std::move(bodies));
  }

  static Anchored PlainPiece(ExprId e) {
    Anchored a;
    a.forms[0] = e;
    return a;
  }

  // Whether an anchor-free expression of the regex parser matches "".
  bool Nullable(ExprId id) const {
    const Expr& e = g_->exprs[id];
    switch (e.kind) {
      case ExprKind::kEmpty: return true;
      case ExprKind::kBytes: return e.bytes.empty();
      case ExprKind::kSequence:
        for (ExprId c : e.children) {
          if (!Nullable(c)) return false;
        }
        return true;
      case ExprKind::kChoice:
        for (ExprId c : e.children) {
          if (Nullable(c)) return true;
        }
        return false;
      case ExprKind::kRepeat: return e.min == 0 || Nullable(e.children[0]);
      default: return false;
    }
  }

  // Whether an anchor-free expression matches "" and nothing else.
  bool OnlyEmpty(ExprId id) const {
    const Expr& e = g_->exprs[id];
    switch (e.kind) {
      case ExprKind::kEmpty: return true;
      case ExprKind::kBytes: return e.bytes.empty();
      case ExprKind::kSequence:
      case ExprKind::kChoice:
        for (ExprId c : e.children) {
          if (!OnlyEmpty(c)) return false;
        }
        return true;
      case ExprKind::kRepeat: return e.max == 0 || OnlyEmpty(e.children[0]);
      default: return false;
    }
  }

  void AddForm(Anchored* into, int shape, ExprId body) {
    ExprId& slot = into->forms[shape];
    slot = slot == kNone ? body : g_->AddChoice({slot, body});
  }

  Anchored UnionPieces(const Anchored& a, const Anchored& b) {
    Anchored out = a;
    for (int shape = 0; shape < 4; ++shape) {
      if (b.forms[shape] != kNone) AddForm(&out, shape, b.forms[shape]);
    }
    return out;
  }

  // `a b` over shapes: an anchor between them forces the other side to be empty.
  Anchored Concat(const Anchored& a, const Anchored& b) {
    if (a.Plain() && b.Plain()) return PlainPiece(g_->AddSequence({a.forms[0], b.forms[0]}));
    Anchored out;
    for (int sa = 0; sa < 4; ++sa) {
      if (a.forms[sa] == kNone) continue;
      for (int sb = 0; sb < 4; ++sb) {
        if (b.forms[sb] == kNone) continue;
        ExprId x = a.forms[sa], y = b.forms[sb];
        int shape = (sa & kAtStart) | (sb & kAtEnd);
        if (sb & kAtStart) {  // b begins at the text's start: a matched "" there
          if (!Nullable(x)) continue;
          x = g_->AddEmpty();
          shape |= kAtStart;
        }
        if (sa & kAtEnd) {  // a ends at the text's end: b matches "" there
          if (!Nullable(y)) continue;
          y = g_->AddEmpty();
          shape |= kAtEnd;
        }
        AddForm(&out, shape, g_->AddSequence({x, y}));
      }
    }
    return out;
  }

  // The shapes of `a` whose bits include `bit`, as an optional piece.
  Anchored OptionalShapes(const Anchored& a, int bit) {
    Anchored out = PlainPiece(g_->AddEmpty());
    for (int shape = 0; shape < 4; ++shape) {
      if ((shape & bit) && a.forms[shape] != kNone) AddForm(&out, shape, a.forms[shape]);
    }
    return out;
  }

  // `a{min,max}` (see the file comment for `X*`). Counted repetitions of an
  // anchored piece are unrolled, up to kMaxAnchoredUnroll copies.
  Anchored Repeat(const Anchored& a, int32_t min, int32_t max, size_t at) {
    if (a.Plain()) return PlainPiece(g_->AddRepeat(a.forms[0], min, max));
    bool dead = a.forms[0] == kNone && a.forms[1] == kNone && a.forms[2] == kNone && a.forms[3] == kNone;
    if (dead) return min == 0 ? PlainPiece(g_->AddEmpty()) : Anchored{};
    int32_t copies = max == kUnbounded ? min : max;
    if (copies > kMaxAnchoredUnroll) {
      Fail(at, "a repetition of more than " + std::to_string(kMaxAnchoredUnroll) +
                   " copies of a group containing '^' or '$' is not supported");
    }
    Anchored out = PlainPiece(g_->AddEmpty());
    for (int32_t i = 0; i < min; ++i) out = Concat(out, a);
    if (max == kUnbounded) {
      ExprId plain = a.forms[0] == kNone ? g_->AddEmpty() : g_->AddRepeat(a.forms[0], 0, kUnbounded);
      Anchored star = Concat(Concat(OptionalShapes(a, kAtStart), PlainPiece(plain)), OptionalShapes(a, kAtEnd));
      return Concat(out, star);
    }
    Anchored optional = UnionPieces(a, PlainPiece(g_->AddEmpty()));
    for (int32_t i = min; i < max; ++i) out = Concat(out, optional);
    return out;
  }

  // --- recursive descent ------------------------------------------------------

  Anchored ParseAlternation() {
    Anchored out = ParseSequence();
    if (Peek() != '|') return out;
    if (out.Plain()) {  // the common case: one choice node, no pairwise unions
      std::vector<ExprId> plain{out.forms[0]};
      Anchored rest;
      while (Peek() == '|') {
        ++pos_;
        Anchored next = ParseSequence();
        if (next.Plain()) {
          plain.push_back(next.forms[0]);
        } else {
          rest = UnionPieces(rest, next);
        }
      }
      Anchored merged = PlainPiece(plain.size() == 1 ? plain[0] : g_->AddChoice(std::move(plain)));
      return UnionPieces(merged, rest);
    }
    while (Peek() == '|') {
      ++pos_;
      out = UnionPieces(out, ParseSequence());
    }
    return out;
  }

  Anchored ParseSequence() {
    std::vector<ExprId> items;  // plain items not yet folded into `out`
    Anchored out;
    bool anchored = false;
    auto fold = [&]() {
      ExprId run = items.empty() ? g_->AddEmpty()
                                 : items.size() == 1 ? items[0] : g_->AddSequence(std::move(items));
      items.clear();
      return run;
    };
    while (!AtEnd() && Peek() != '|' && Peek() != ')') {
      size_t atom_offset = pos_;
      Anchored piece;
      if (depth_ == 0 && Peek() == '(' && Peek(1) == '?' && (Peek(2) == '=' || Peek(2) == '!')) {
        // A lookahead constrains the rest of the text: it takes the rest of
        // this top-level sequence with it (see ParseTopLevelLookahead).
        bool at_start = anchored && items.empty() && out.forms[kAtStart] != kNone &&
                        out.forms[0] == kNone && out.forms[1] == kNone && out.forms[3] == kNone &&
                        OnlyEmpty(out.forms[kAtStart]);
        Anchored head = anchored ? Concat(out, PlainPiece(fold())) : PlainPiece(fold());
        return Concat(head, ParseTopLevelLookahead(at_start));
      }
      if (Peek() == '^' || Peek() == '$') {
        piece.forms[Peek() == '^' ? kAtStart : kAtEnd] = g_->AddEmpty();
        ++pos_;
        if (Peek() == '*' || Peek() == '+' || Peek() == '?') {
          Fail(pos_, "nothing to repeat (an anchor cannot be quantified)");
        }
      } else {
        piece = ParseQuantifiers(ParseAtom(), atom_offset);
      }
      if (piece.Plain() && !anchored) {
        items.push_back(piece.forms[0]);
        continue;
      }
      Anchored head = anchored ? Concat(out, PlainPiece(fold())) : PlainPiece(fold());
      out = Concat(head, piece);
      anchored = true;
    }
    if (!anchored) return PlainPiece(fold());
    return items.empty() ? out : Concat(out, PlainPiece(fold()));
  }

  // `(?=X) R` / `(?!X) R` where R is the rest of a top-level sequence: the text
  // from here on (R's match and, in a search, whatever follows it) must / must
  // not start with X. Both are regular: the rest of the text is R padded with
  // `any*`, intersected with or less `X any*`. The padding is inside the piece,
  // so its shapes all end at the text's end. X's own '^' holds only when the
  // lookahead sits at the text's start (`^(?!^a)`); elsewhere those shapes of X
  // match nothing. Lookaheads inside groups or repetitions are refused.
  Anchored ParseTopLevelLookahead(bool at_start) {
    size_t open = pos_;
    bool negative = Peek(2) == '!';
    pos_ += 3;
    ++depth_;
    Anchored ahead = ParseAlternation();
    if (Peek() != ')') Fail(open, "missing ')' for this lookahead");
    ++pos_;
    --depth_;
    ExprId any = g_->AddRepeat(g_->AddCharClass(any_char_), 0, kUnbounded);
    std::vector<ExprId> prefixes;  // the texts (from here) that start with X
    for (int shape = 0; shape < 4; ++shape) {
      if (ahead.forms[shape] == kNone || ((shape & kAtStart) && !at_start)) continue;
      prefixes.push_back(shape & kAtEnd ? ahead.forms[shape] : g_->AddSequence({ahead.forms[shape], any}));
    }
    Anchored rest = ParseSequence();
    Anchored out;
    for (int shape = 0; shape < 4; ++shape) {
      if (rest.forms[shape] == kNone) continue;
      ExprId text = rest.forms[shape];
      if (search_ && !(shape & kAtEnd)) text = g_->AddSequence({text, any});
      ExprId constrained;
      if (prefixes.empty()) {
        constrained = negative ? text : kNone;  // X matches nothing here
      } else {
        ExprId starts_with_x = Union(prefixes);
        constrained = negative ? g_->AddDifference(text, starts_with_x) : g_->AddIntersection(text, starts_with_x);
      }
      if (constrained != kNone) AddForm(&out, (shape & kAtStart) | kAtEnd, constrained);
    }
    return out;
  }

  Anchored ParseQuantifiers(Anchored atom, size_t atom_offset) {
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
      atom = Repeat(atom, min, max, at);
      if (atom.Plain()) g_->exprs[atom.forms[0]].source_offset = static_cast<int32_t>(atom_offset);
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

  // One atom; only a group can carry anchors.
  Anchored ParseAtom() {
    if (Peek() == '(') return ParseGroup();
    return PlainPiece(ParseCharacterAtom());
  }

  ExprId ParseCharacterAtom() {
    size_t at = pos_;
    char c = Peek();
    switch (c) {
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

  Anchored ParseGroup() {
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
    Anchored inner = ParseAlternation();
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
  // What `any*` means for lookahead padding: every code point but surrogates.
  std::vector<CodepointRange> any_char_ = ComplementRanges(NormalizeRanges({{0xD800, 0xDFFF}}));
};

}  // namespace

ExprId ParseRegexInto(const std::string& pattern, Grammar* grammar) {
  return RegexParser(pattern, grammar).Parse();
}

ExprId ParseRegexSearchInto(const std::string& pattern, const std::vector<CodepointRange>& any_char,
                            Grammar* grammar) {
  return RegexParser(pattern, grammar).ParseSearch(any_char);
}

bool RegexMatchesNothing(const Grammar& grammar, ExprId expr) {
  const Expr& e = grammar.exprs[expr];
  return e.kind == ExprKind::kCharClass && e.ranges.empty();
}

Grammar GrammarFromRegex(const std::string& pattern) {
  Grammar g;
  ExprId body = ParseRegexInto(pattern, &g);
  if (RegexMatchesNothing(g, body)) {
    throw GrammarError("in regex: '" + pattern + "' matches no string (its anchors can never hold)", 1, 1);
  }
  g.root = g.AddRule("root", body);
  return g;
}

}  // namespace xgram
