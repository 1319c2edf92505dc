// EBNF front-end (see ebnf_parser.h for the dialect).
//
// Recursive descent, one function per syntactic level:
//   ParseGrammar -> ParseRule -> ParseAlternatives -> ParseSequence
//   -> ParseDifference (`a - b`) -> ParsePostfix (quantifiers)
//   -> ParseAtom (literal, class, '.', name, group, `Token(id, ...)`).
// Rule references are recorded by name while parsing and resolved at the end, so
// rules may be used before they are defined. The one subtle point is where a rule
// ends: newlines are ordinary whitespace, so a sequence stops before a name that
// is followed by `::=` (the start of the next rule).
#include "ebnf_parser.h"

#include <cctype>
#include <cstdio>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "compile_control.h"
#include "errors.h"
#include "token_marker.h"
#include "utf8.h"

namespace xgram {
namespace {

constexpr int32_t kMaxRepeatBound = 1 << 30;
// Nesting of groups and stacked quantifiers: deeper grammars are refused rather
// than risking the stack of the recursive passes.
constexpr int kMaxNesting = 500;

bool IsNameChar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  // ASCII answers without a locale lookup; other bytes keep isalnum's verdict.
  if (u < 0x80) {
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' ||
           u == '-';
  }
  return std::isalnum(u);
}

class EBNFParser {
 public:
  EBNFParser(const std::string& text, const std::string& root_rule_name)
      : text_(text), root_rule_name_(root_rule_name) {
    // JSON-schema grammars parse to one expression per 4-6 bytes of text;
    // reserving avoids moving every Expr on each growth of the arena.
    grammar_.exprs.reserve(text.size() / 4 + 16);
  }

  Grammar Parse() {
    SkipSpace();
    if (AtEnd()) Fail(pos_, "the grammar is empty: expected a rule such as `root ::= \"a\"`");
    while (!AtEnd()) {
      PollCompileControl();
      ParseRule();
      SkipSpace();
    }
    ResolveReferences();
    auto root = rule_ids_.find(root_rule_name_);
    if (root == rule_ids_.end()) {
      throw GrammarError("the grammar has no rule named '" + root_rule_name_ +
                         "' (the root rule); define it or pass root_rule_name");
    }
    grammar_.root = root->second;
    return std::move(grammar_);
  }

 private:
  struct PendingRef {
    ExprId expr;
    std::string_view name;  // into text_
    size_t offset;
  };

  [[noreturn]] void Fail(size_t offset, const std::string& message) {
    throw MakeLocatedError(text_, offset, message);
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  // Whitespace (including newlines) and `#` comments.
  void SkipSpace() {
    while (!AtEnd()) {
      char c = Peek();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else if (c == '#') {
        while (!AtEnd() && Peek() != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  std::string DescribeHere() const {
    if (AtEnd()) return "the end of the grammar";
    uint32_t cp;
    int len = DecodeUtf8(text_, pos_, &cp);
    std::string ch = len > 0 ? text_.substr(pos_, len) : std::string(1, text_[pos_]);
    if (ch == "\n") return "a line break";
    if (ch.size() == 1 && (static_cast<unsigned char>(ch[0]) < 0x20 || ch[0] == 0x7F)) {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "'\\x%02X'", static_cast<unsigned char>(ch[0]));
      return buf;
    }
    return "'" + ch + "'";
  }

  std::string ParseName() {
    size_t start = pos_;
    while (!AtEnd() && IsNameChar(Peek())) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  // True when the text at `pos_` is `name ::=`, i.e. the next rule starts here.
  bool AtRuleStart() const {
    size_t p = pos_;
    if (p >= text_.size() || !IsNameChar(text_[p])) return false;
    while (p < text_.size() && IsNameChar(text_[p])) ++p;
    while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
    return text_.compare(p, 3, "::=") == 0;
  }

  void ParseRule() {
    size_t name_offset = pos_;
    if (!IsNameChar(Peek())) {
      Fail(pos_, "expected a rule name at the start of a rule, found " + DescribeHere());
    }
    std::string name = ParseName();
    while (Peek() == ' ' || Peek() == '\t') ++pos_;
    if (text_.compare(pos_, 3, "::=") != 0) {
      Fail(pos_, "expected '::=' after the rule name '" + name + "', found " + DescribeHere());
    }
    pos_ += 3;
    // The key views the name in text_; the id is the one AddRule gives below.
    auto [it, inserted] = rule_ids_.try_emplace(std::string_view(text_).substr(name_offset, name.size()),
                                                static_cast<RuleId>(grammar_.rules.size()));
    if (!inserted) {
      Fail(name_offset, "rule '" + name + "' is defined twice (first definition at " +
                            LineColumn(grammar_.rules[it->second].source_offset) + ")");
    }
    SkipSpace();
    ExprId body = ParseAlternatives(/*nested=*/false);
    if (Peek() == ')') Fail(pos_, "unmatched ')' (no '(' is open here)");
    ExprId lookahead = kNone;
    if (Peek() == '(' && PeekAfterSpace(1) == '=') {
      size_t la_offset = pos_;
      ++pos_;
      SkipSpace();
      ++pos_;  // '='
      SkipSpace();
      lookahead = ParseAlternatives(/*nested=*/true);
      ExpectClose(la_offset, "lookahead assertion '(='");
      SkipSpace();
      if (!AtEnd() && !AtRuleStart()) {
        Fail(pos_, "a lookahead assertion '(= ...)' must end its rule; found " + DescribeHere() +
                       " after it");
      }
    }
    RuleId id = grammar_.AddRule(std::move(name), body, lookahead);
    grammar_.rules[id].source_offset = static_cast<int32_t>(name_offset);
  }

  char PeekAfterSpace(size_t ahead) const {
    size_t p = pos_ + ahead;
    while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
    return p < text_.size() ? text_[p] : '\0';
  }

  void ExpectClose(size_t open_offset, const std::string& what) {
    if (Peek() != ')') {
      Fail(pos_, "expected ')' to close the " + what + " opened at " + LineColumn(open_offset) +
                     ", found " + DescribeHere());
    }
    ++pos_;
  }

  std::string LineColumn(size_t offset) const {
    int line = 1, column = 1;
    for (size_t i = 0; i < offset && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) {
        ++column;
      }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
  }

  // Pops items_[base..] into a new sequence or choice expression.
  ExprId AddNode(ExprKind kind, size_t base, size_t offset) {
    Expr& e = grammar_.exprs.emplace_back();
    e.kind = kind;
    e.children.assign(items_.data() + base, items_.data() + items_.size());
    e.source_offset = static_cast<int32_t>(offset);
    items_.resize(base);
    return static_cast<ExprId>(grammar_.exprs.size() - 1);
  }

  // Alternatives and sequence elements collect on one shared stack (`items_`):
  // nested groups push above their parent's items and pop back before returning.
  ExprId ParseAlternatives(bool nested) {
    size_t offset = pos_;
    size_t base = items_.size();
    ExprId first = ParseSequence(nested);
    if (Peek() != '|') return first;
    items_.push_back(first);
    while (Peek() == '|') {
      PollCompileControl();  // a 10^6-way alternative is one rule
      ++pos_;
      SkipSpace();
      ExprId next = ParseSequence(nested);
      items_.push_back(next);
    }
    return AddNode(ExprKind::kChoice, base, offset);
  }

  ExprId ParseSequence(bool nested) {
    size_t offset = pos_;
    size_t base = items_.size();
    while (true) {
      SkipSpace();
      if (AtEnd() || Peek() == '|' || Peek() == ')') break;
      if (Peek() == '(' && PeekAfterSpace(1) == '=') break;  // lookahead ends the body
      if (!nested && AtRuleStart()) break;
      if (nested && AtRuleStart()) {
        Fail(pos_, "expected ')' before the next rule definition");
      }
      ExprId element = ParseDifference();
      items_.push_back(element);
    }
    SkipSpace();
    size_t count = items_.size() - base;
    if (count == 1) {
      ExprId only = items_[base];
      items_.resize(base);
      return only;
    }
    if (count == 0) return grammar_.AddEmpty();
    return AddNode(ExprKind::kSequence, base, offset);
  }

  // `a - b & c`: difference and intersection, one level, left-associative,
  // binding tighter than a sequence and looser than a quantifier. The '-' is a
  // lone '-' with whitespace after it: names may contain (and even start with)
  // '-', so `a -b` stays a sequence. '&' means nothing else in EBNF.
  ExprId ParseDifference() {
    size_t offset = pos_;
    ExprId expr = ParsePostfix();
    while (true) {
      size_t before_space = pos_;
      SkipSpace();
      bool minus = Peek() == '-' && pos_ + 1 < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_ + 1]));
      if (!minus && Peek() != '&') {
        pos_ = before_space;
        return expr;
      }
      size_t operator_offset = pos_;
      ++pos_;
      SkipSpace();
      if (AtEnd() || Peek() == '|' || Peek() == ')' || AtRuleStart()) {
        Fail(operator_offset, minus ? "'-' needs an expression after it (the strings to take away)"
                                    : "'&' needs an expression after it (the strings to intersect with)");
      }
      ExprId operand = ParsePostfix();
      expr = minus ? grammar_.AddDifference(expr, operand) : grammar_.AddIntersection(expr, operand);
      grammar_.exprs[expr].source_offset = static_cast<int32_t>(offset);
    }
  }

  ExprId ParsePostfix() {
    size_t offset = pos_;
    ExprId expr = ParseAtom();
    int stacked = 0;
    while (true) {
      // GBNF allows space between an element and its quantifier: `"a" *`.
      size_t before_space = pos_;
      SkipSpace();
      char c = Peek();
      if (c != '*' && c != '+' && c != '?' && c != '{') {
        pos_ = before_space;
        break;
      }
      int32_t min, max;
      if (c == '*') {
        min = 0, max = kUnbounded, ++pos_;
      } else if (c == '+') {
        min = 1, max = kUnbounded, ++pos_;
      } else if (c == '?') {
        min = 0, max = 1, ++pos_;
      } else if (c == '{') {
        ParseBraces(&min, &max);
      } else {
        break;
      }
      if (++stacked > kMaxNesting) Fail(before_space, "too many stacked quantifiers");
      expr = grammar_.AddRepeat(expr, min, max);
      grammar_.exprs[expr].source_offset = static_cast<int32_t>(offset);
    }
    return expr;
  }

  int32_t ParseNumber(const char* what) {
    SkipInlineSpace();
    if (!std::isdigit(static_cast<unsigned char>(Peek()))) {
      Fail(pos_, std::string("expected ") + what + " in the repetition braces, found " +
                     DescribeHere());
    }
    size_t start = pos_;
    int64_t value = 0;
    while (std::isdigit(static_cast<unsigned char>(Peek()))) {
      value = value * 10 + (Peek() - '0');
      if (value > kMaxRepeatBound) {
        Fail(start, "repetition bound is too large (at most " + std::to_string(kMaxRepeatBound) +
                        ")");
      }
      ++pos_;
    }
    SkipInlineSpace();
    return static_cast<int32_t>(value);
  }

  void SkipInlineSpace() {
    while (Peek() == ' ' || Peek() == '\t') ++pos_;
  }

  void ParseBraces(int32_t* min, int32_t* max) {
    size_t open = pos_;
    ++pos_;
    *min = ParseNumber("a lower bound (a number)");
    if (Peek() == '}') {
      *max = *min;
    } else if (Peek() == ',') {
      ++pos_;
      SkipInlineSpace();
      if (Peek() == '}') {
        *max = kUnbounded;
      } else {
        size_t max_offset = pos_;
        *max = ParseNumber("an upper bound (a number) or '}'");
        if (*max < *min) {
          Fail(max_offset, "the upper bound " + std::to_string(*max) +
                               " is smaller than the lower bound " + std::to_string(*min));
        }
      }
    } else {
      Fail(pos_, "expected ',' or '}' in the repetition braces, found " + DescribeHere());
    }
    if (Peek() != '}') {
      Fail(pos_, "expected '}' to close the repetition opened at " + LineColumn(open) +
                     ", found " + DescribeHere());
    }
    ++pos_;
  }

  ExprId ParseAtom() {
    size_t offset = pos_;
    char c = Peek();
    ExprId id;
    if (c == '"') {
      id = ParseString();
    } else if (c == '[') {
      id = ParseCharClass();
    } else if (c == '.') {
      ++pos_;
      id = grammar_.AddCharClass({{0, kMaxCodepoint}});
    } else if (c == '(') {
      if (++depth_ > kMaxNesting) {
        Fail(pos_, "groups are nested too deeply (more than " + std::to_string(kMaxNesting) + " levels)");
      }
      ++pos_;
      SkipSpace();
      id = ParseAlternatives(/*nested=*/true);
      ExpectClose(offset, "group '('");
      --depth_;
      return id;
    } else if (text_.compare(pos_, 6, "Token(") == 0) {
      id = ParseTokenElement();
    } else if (IsNameChar(c)) {
      while (!AtEnd() && IsNameChar(Peek())) ++pos_;
      id = grammar_.AddRuleRef(kNone);
      pending_refs_.push_back({id, std::string_view(text_).substr(offset, pos_ - offset), offset});
    } else if (c == '*' || c == '+' || c == '?' || c == '{') {
      Fail(pos_, std::string("quantifier '") + c + "' has nothing to repeat");
    } else if (c == '\'') {
      Fail(pos_, "string literals use double quotes: expected '\"', found \"'\"");
    } else if (text_.compare(pos_, 3, "::=") == 0) {
      Fail(pos_, "unexpected '::=': a rule definition needs a name before it");
    } else {
      Fail(pos_, "expected an element (a string, a character class, '.', a rule name or '('), "
                 "found " + DescribeHere());
    }
    grammar_.exprs[id].source_offset = static_cast<int32_t>(offset);
    return id;
  }

  uint32_t ParseHex(int digits, size_t escape_offset) {
    uint32_t value = 0;
    for (int i = 0; i < digits; ++i) {
      char h = Peek();
      int v;
      if (h >= '0' && h <= '9') {
        v = h - '0';
      } else if (h >= 'a' && h <= 'f') {
        v = h - 'a' + 10;
      } else if (h >= 'A' && h <= 'F') {
        v = h - 'A' + 10;
      } else {
        Fail(pos_, "expected " + std::to_string(digits) + " hex digits in the escape, found " +
                       DescribeHere());
      }
      value = value * 16 + static_cast<uint32_t>(v);
      ++pos_;
    }
    if (value > kMaxCodepoint || (value >= 0xD800 && value <= 0xDFFF)) {
      Fail(escape_offset, "escape denotes an invalid code point (a surrogate or above U+10FFFF)");
    }
    return value;
  }

  // One code point of a string or class: raw UTF-8 or an escape. `in_class`
  // allows the regex metacharacter escapes of character classes.
  uint32_t ParseCodepoint(bool in_class) {
    size_t offset = pos_;
    if (Peek() == '\\') {
      ++pos_;
      char e = Peek();
      if (AtEnd()) Fail(offset, "unfinished escape at the end of the grammar");
      ++pos_;
      switch (e) {
        case 'n': return '\n';
        case 'r': return '\r';
        case 't': return '\t';
        case 'b': return '\b';
        case 'f': return '\f';
        case 'v': return '\v';
        case 'a': return '\a';
        case 'e': return 0x1B;
        case '0': return 0;
        case 'x': return ParseHex(2, offset);
        case 'u': return ParseHex(4, offset);
        case 'U': return ParseHex(8, offset);
        case '\\': case '"': case '\'': case '[': case ']': case '/': case '?':
        case '-': case '^': case '.': case '*': case '+': case '(': case ')':
        case '{': case '}': case '|': case '$': case ' ':
          return static_cast<unsigned char>(e);
        default:
          (void)in_class;
          if (static_cast<unsigned char>(e) >= 0x80) {
            // Only the character's first byte is at hand: the message must stay valid UTF-8.
            Fail(offset, "unknown escape: '\\' before a non-ASCII character (write the character itself, "
                         "or \\uHHHH)");
          }
          Fail(offset, std::string("unknown escape '\\") + e +
                           "' (known: \\n \\r \\t \\\\ \\\" \\' \\[ \\] \\xHH \\uHHHH "
                           "\\UHHHHHHHH and escaped punctuation)");
      }
    }
    uint32_t cp;
    int len = DecodeUtf8(text_, pos_, &cp);
    if (len == 0) Fail(pos_, "the grammar text is not valid UTF-8 here");
    pos_ += len;
    return cp;
  }

  // `Token(id, ...)`: one of these vocabulary tokens, matched by id rather than by
  // text (token_marker.h). Written with no space before '(', so a rule named
  // `Token` followed by a group still parses as before.
  ExprId ParseTokenElement() {
    size_t open = pos_ + 5;
    pos_ += 6;
    std::vector<ExprId> tokens;
    while (true) {
      SkipSpace();
      size_t at = pos_;
      int64_t id = 0;
      while (!AtEnd() && std::isdigit(static_cast<unsigned char>(Peek())) && id <= kMaxMarkedTokenId) {
        id = id * 10 + (Peek() - '0');
        ++pos_;
      }
      if (pos_ == at) Fail(at, "expected a token id (a non-negative integer) in Token(...), found " + DescribeHere());
      if (id > kMaxMarkedTokenId) Fail(at, "token id is too large for Token(...)");
      tokens.push_back(grammar_.AddBytes(TokenMarker(static_cast<int32_t>(id))));
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      ExpectClose(open, "'Token('");
      break;
    }
    return tokens.size() == 1 ? tokens[0] : grammar_.AddChoice(std::move(tokens));
  }

  ExprId ParseString() {
    size_t open = pos_;
    ++pos_;
    std::string bytes;
    while (true) {
      if (AtEnd() || Peek() == '\n' || Peek() == '\r') {
        Fail(open, "unterminated string literal (a string ends with '\"' on the same line)");
      }
      if (Peek() == '"') break;
      // A run of plain ASCII is its own UTF-8; copy it in one step.
      size_t run = pos_;
      while (run < text_.size() && static_cast<unsigned char>(text_[run]) < 0x80 && text_[run] != '"' &&
             text_[run] != '\\' && text_[run] != '\n' && text_[run] != '\r') {
        ++run;
      }
      if (run > pos_) {
        bytes.append(text_, pos_, run - pos_);
        pos_ = run;
        continue;
      }
      AppendUtf8(ParseCodepoint(/*in_class=*/false), &bytes);
    }
    ++pos_;
    return grammar_.AddBytes(std::move(bytes));
  }

  // Where the class opened at `open` would end (the offset of its ']') if it
  // parses, or npos. Only escapes can hide a ']', and each covers two bytes.
  size_t ScanCharClassEnd(size_t open) const {
    for (size_t p = open + 1; p < text_.size();) {
      char c = text_[p];
      if (c == ']') return p;
      if (c == '\n' || c == '\r') return std::string::npos;
      p += c == '\\' ? 2 : 1;
    }
    return std::string::npos;
  }

  // Schema-derived grammars repeat a few classes (whitespace, string characters,
  // digits) thousands of times; identical class text always yields the same
  // ranges, so each distinct text is decoded and normalised once.
  ExprId ParseCharClass() {
    size_t open = pos_;
    size_t end = ScanCharClassEnd(open);
    if (end != std::string::npos) {
      auto it = class_cache_.find(std::string_view(text_).substr(open, end + 1 - open));
      if (it != class_cache_.end()) {
        pos_ = end + 1;
        Expr& e = grammar_.exprs.emplace_back();
        e.kind = ExprKind::kCharClass;
        e.ranges = it->second;
        return static_cast<ExprId>(grammar_.exprs.size() - 1);
      }
    }
    ExprId id = DecodeCharClass();
    if (end != std::string::npos && pos_ == end + 1) {
      class_cache_.emplace(std::string_view(text_).substr(open, pos_ - open), grammar_.exprs[id].ranges);
    }
    return id;
  }

  ExprId DecodeCharClass() {
    size_t open = pos_;
    ++pos_;
    bool negated = false;
    if (Peek() == '^') {
      negated = true;
      ++pos_;
    }
    std::vector<CodepointRange> ranges;
    while (true) {
      if (AtEnd() || Peek() == '\n' || Peek() == '\r') {
        Fail(open, "unterminated character class (expected ']' on the same line)");
      }
      if (Peek() == ']') break;
      size_t item_offset = pos_;
      uint32_t lo = ParseCodepoint(/*in_class=*/true);
      uint32_t hi = lo;
      if (Peek() == '-' && Peek(1) != ']' && pos_ + 1 < text_.size()) {
        ++pos_;
        if (AtEnd() || Peek() == '\n') {
          Fail(open, "unterminated character class (expected ']' on the same line)");
        }
        hi = ParseCodepoint(/*in_class=*/true);
        if (hi < lo) Fail(item_offset, "character range is out of order (its end is before its start)");
      }
      ranges.push_back({lo, hi});
    }
    ++pos_;
    if (ranges.empty() && !negated) {
      Fail(open, "empty character class '[]' matches nothing (use '[^]' for any character)");
    }
    ranges = NormalizeRanges(std::move(ranges));
    if (negated) ranges = ComplementRanges(ranges);
    if (ranges.empty()) Fail(open, "character class matches no character");
    return grammar_.AddCharClass(std::move(ranges));
  }

  void ResolveReferences() {
    for (const PendingRef& ref : pending_refs_) {
      auto it = rule_ids_.find(ref.name);
      if (it == rule_ids_.end()) Fail(ref.offset, "rule '" + std::string(ref.name) + "' is not defined");
      grammar_.exprs[ref.expr].rule = it->second;
    }
  }

  const std::string& text_;
  std::string root_rule_name_;
  size_t pos_ = 0;
  int depth_ = 0;
  Grammar grammar_;
  std::vector<PendingRef> pending_refs_;
  std::vector<ExprId> items_;
  std::unordered_map<std::string_view, RangeList> class_cache_;  // keys view text_
  std::unordered_map<std::string_view, RuleId> rule_ids_;  // keys view text_
};

}  // namespace

Grammar ParseEBNF(const std::string& text, const std::string& root_rule_name) {
  return EBNFParser(text, root_rule_name).Parse();
}

}  // namespace xgram
