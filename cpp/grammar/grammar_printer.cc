// Grammar IR -> EBNF text that ParseEBNF reads back to an equivalent grammar.
//
// Precedence, from loosest to tightest: choice, sequence, difference (`a - b`),
// repetition, atom. A child is parenthesised only when it binds looser than its
// context requires.
#include "grammar_printer.h"

#include <cstdio>
#include <vector>

#include "token_marker.h"
#include "utf8.h"

namespace xgram {
namespace {

enum Precedence { kChoicePrec = 0, kSequencePrec = 1, kDifferencePrec = 2, kRepeatPrec = 3, kAtomPrec = 4 };

std::string EscapeCodepoint(uint32_t cp, bool in_class) {
  switch (cp) {
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\\': return "\\\\";
    case '"': return in_class ? "\"" : "\\\"";
    default: break;
  }
  if (in_class && (cp == ']' || cp == '-' || cp == '^' || cp == '[')) {
    return std::string("\\") + static_cast<char>(cp);
  }
  char buf[16];
  if (cp < 0x20 || cp == 0x7F) {
    std::snprintf(buf, sizeof(buf), "\\x%02X", cp);
    return buf;
  }
  if (cp >= 0x80 && (cp < 0xA0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF ||
                     (cp >= 0xE000 && cp <= 0xF8FF) || cp >= 0xF0000)) {
    // Invisible or private-use code points are spelled out.
    if (cp <= 0xFFFF) {
      std::snprintf(buf, sizeof(buf), "\\u%04X", cp);
    } else {
      std::snprintf(buf, sizeof(buf), "\\U%08X", cp);
    }
    return buf;
  }
  std::string out;
  AppendUtf8(cp, &out);
  return out;
}

class Printer {
 public:
  explicit Printer(const Grammar& g) : g_(g) {}

  std::string PrintExpr(ExprId id, int context) {
    const Expr& e = g_.exprs[id];
    int own;
    std::string out;
    switch (e.kind) {
      case ExprKind::kEmpty:
        return "\"\"";
      case ExprKind::kBytes:
        return PrintLiteral(e.bytes);
      case ExprKind::kCharClass:
        return PrintClass(e.ranges.ToVector());
      case ExprKind::kRuleRef:
        return g_.rules[e.rule].name;
      case ExprKind::kSequence:
        own = kSequencePrec;
        for (size_t i = 0; i < e.children.size(); ++i) {
          if (i) out += ' ';
          out += PrintExpr(e.children[i], kSequencePrec + 1);
        }
        break;
      case ExprKind::kChoice:
        own = kChoicePrec;
        for (size_t i = 0; i < e.children.size(); ++i) {
          if (i) out += " | ";
          out += PrintExpr(e.children[i], kChoicePrec + 1);
        }
        break;
      case ExprKind::kRepeat:
        own = kRepeatPrec;
        out = PrintExpr(e.children[0], kAtomPrec) + Quantifier(e.min, e.max);
        break;
      case ExprKind::kDifference:
        // Left-associative: `a - b - c` is `(a - b) - c`.
        own = kDifferencePrec;
        out = PrintExpr(e.children[0], kDifferencePrec) + " - " + PrintExpr(e.children[1], kRepeatPrec);
        break;
      case ExprKind::kIntersection:
        // Same level and associativity as '-': `a & b - c` is `(a & b) - c`.
        own = kDifferencePrec;
        out = PrintExpr(e.children[0], kDifferencePrec) + " & " + PrintExpr(e.children[1], kRepeatPrec);
        break;
      default:
        return "\"\"";
    }
    return own < context ? "(" + out + ")" : out;
  }

  std::string PrintRule(RuleId id) {
    const Rule& r = g_.rules[id];
    std::string out = r.name + " ::= " + PrintExpr(r.body, kChoicePrec);
    if (r.lookahead != kNone) out += " (= " + PrintExpr(r.lookahead, kChoicePrec) + ")";
    return out;
  }

 private:
  static std::string Quantifier(int32_t min, int32_t max) {
    if (min == 0 && max == kUnbounded) return "*";
    if (min == 1 && max == kUnbounded) return "+";
    if (min == 0 && max == 1) return "?";
    if (max == kUnbounded) return "{" + std::to_string(min) + ",}";
    if (min == max) return "{" + std::to_string(min) + "}";
    return "{" + std::to_string(min) + "," + std::to_string(max) + "}";
  }

  // A literal, with any token markers in it written as `Token(id)` between the
  // text parts; a literal of several parts is parenthesised, so it stays an atom.
  static std::string PrintLiteral(const std::string& bytes) {
    if (bytes.find(static_cast<char>(kTokenMarkerLead)) == std::string::npos) return PrintBytes(bytes);
    std::vector<std::string> parts;
    size_t text_start = 0;
    for (size_t pos = 0; pos < bytes.size();) {
      int32_t id = ReadTokenMarker(bytes, pos);
      if (id < 0) {
        ++pos;
        continue;
      }
      if (pos > text_start) parts.push_back(PrintBytes(bytes.substr(text_start, pos - text_start)));
      parts.push_back("Token(" + std::to_string(id) + ")");
      pos += kTokenMarkerBytes;
      text_start = pos;
    }
    if (text_start < bytes.size()) parts.push_back(PrintBytes(bytes.substr(text_start)));
    if (parts.size() == 1) return parts[0];
    std::string out = "(";
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? " " : "") + parts[i];
    return out + ")";
  }

  static std::string PrintBytes(const std::string& bytes) {
    std::string out = "\"";
    size_t pos = 0;
    while (pos < bytes.size()) {
      uint32_t cp;
      int len = DecodeUtf8(bytes, pos, &cp);
      if (len == 0) {
        // Literals are UTF-8 by construction; keep a stray byte printable anyway.
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\x%02X", static_cast<unsigned char>(bytes[pos]));
        out += buf;
        ++pos;
        continue;
      }
      out += EscapeCodepoint(cp, false);
      pos += len;
    }
    return out + "\"";
  }

  static std::string PrintClass(const std::vector<CodepointRange>& ranges) {
    // Surrogates never occur in UTF-8 text and cannot be written, so the class is
    // printed with them added (for the complement) or cut out (for the ranges).
    std::vector<CodepointRange> with_surrogates = ranges;
    with_surrogates.push_back({0xD800, 0xDFFF});
    with_surrogates = NormalizeRanges(std::move(with_surrogates));
    if (with_surrogates.size() == 1 && with_surrogates[0].lo == 0 &&
        with_surrogates[0].hi == kMaxCodepoint) {
      return "[^]";
    }
    std::vector<CodepointRange> positive;
    for (const CodepointRange& r : ranges) {
      if (r.hi < 0xD800 || r.lo > 0xDFFF) {
        positive.push_back(r);
        continue;
      }
      if (r.lo < 0xD800) positive.push_back({r.lo, 0xD7FF});
      if (r.hi > 0xDFFF) positive.push_back({0xE000, r.hi});
    }
    std::vector<CodepointRange> complement = ComplementRanges(with_surrogates);
    bool negate = complement.size() < positive.size() ||
                  (complement.size() == positive.size() && !positive.empty() &&
                   positive.back().hi == kMaxCodepoint);
    const std::vector<CodepointRange>& shown = negate ? complement : positive;
    std::string out = negate ? "[^" : "[";
    for (const CodepointRange& r : shown) {
      out += EscapeCodepoint(r.lo, true);
      if (r.hi != r.lo) {
        if (r.hi > r.lo + 1) out += '-';
        out += EscapeCodepoint(r.hi, true);
      }
    }
    return out + "]";
  }

  const Grammar& g_;
};

}  // namespace

std::string PrintGrammar(const Grammar& grammar) {
  Printer printer(grammar);
  std::string out;
  if (grammar.root != kNone) out += printer.PrintRule(grammar.root) + "\n";
  for (size_t i = 0; i < grammar.rules.size(); ++i) {
    if (static_cast<RuleId>(i) == grammar.root) continue;
    out += printer.PrintRule(static_cast<RuleId>(i)) + "\n";
  }
  return out;
}

std::string PrintExpr(const Grammar& grammar, ExprId expr) {
  return Printer(grammar).PrintExpr(expr, kChoicePrec);
}

}  // namespace xgram
