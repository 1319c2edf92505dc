// JSON string encoding (see json_string_encoding.h).
//
// \uXXXX spellings of a code-point range are built like numeric-range regexes:
// the range [lo, hi] over four hex digits splits on the leading digit into a
// partial first digit, a run of full digits followed by any hex, and a partial
// last digit, recursively. Characters above U+FFFF split the same way on their
// high surrogate. Hex digits accept both cases.
#include "json_string_encoding.h"

#include <algorithm>

#include "regex_parser.h"
#include "grammar_printer.h"
#include "utf8.h"

namespace xgram {
namespace {


std::vector<CodepointRange> HexDigitClass(uint32_t lo, uint32_t hi) {
  std::vector<CodepointRange> ranges;
  if (lo <= 9) ranges.push_back({'0' + lo, '0' + std::min<uint32_t>(hi, 9)});
  if (hi >= 10) {
    uint32_t a = std::max<uint32_t>(lo, 10) - 10, b = hi - 10;
    ranges.push_back({'A' + a, 'A' + b});
    ranges.push_back({'a' + a, 'a' + b});
  }
  return NormalizeRanges(std::move(ranges));
}

// `digits` hex digits whose value lies in [lo, hi].
ExprId HexRange(Grammar* g, uint32_t lo, uint32_t hi, int digits) {
  if (digits == 0) return g->AddEmpty();
  uint32_t base = 1u << (4 * (digits - 1));
  uint32_t full = base * 16 - 1;
  if (lo == 0 && hi == full) return g->AddRepeat(g->AddCharClass(HexDigitClass(0, 15)), digits, digits);
  uint32_t lo_digit = lo / base, hi_digit = hi / base;
  auto digit_then = [&](uint32_t d_lo, uint32_t d_hi, uint32_t rest_lo, uint32_t rest_hi) {
    ExprId digit = g->AddCharClass(HexDigitClass(d_lo, d_hi));
    if (digits == 1) return digit;
    return g->AddSequence({digit, HexRange(g, rest_lo, rest_hi, digits - 1)});
  };
  if (lo_digit == hi_digit) return digit_then(lo_digit, lo_digit, lo % base, hi % base);
  std::vector<ExprId> alternatives;
  uint32_t first_full = lo_digit, last_full = hi_digit;
  if (lo % base != 0) {
    alternatives.push_back(digit_then(lo_digit, lo_digit, lo % base, base - 1));
    ++first_full;
  }
  bool last_partial = hi % base != base - 1;
  if (last_partial) --last_full;
  if (first_full <= last_full && last_full != UINT32_MAX) {
    alternatives.push_back(digit_then(first_full, last_full, 0, base - 1));
  }
  if (last_partial) alternatives.push_back(digit_then(hi_digit, hi_digit, 0, hi % base));
  return alternatives.size() == 1 ? alternatives[0] : g->AddChoice(std::move(alternatives));
}

ExprId UnicodeEscape(Grammar* g, uint32_t lo, uint32_t hi) {
  return g->AddSequence({g->AddBytes("\\u"), HexRange(g, lo, hi, 4)});
}

// \uD8xx\uDCxx spellings of the supplementary code points in [lo, hi].
void SurrogatePairs(Grammar* g, uint32_t lo, uint32_t hi, std::vector<ExprId>* out) {
  uint32_t a = lo - 0x10000, b = hi - 0x10000;
  uint32_t high_lo = a >> 10, high_hi = b >> 10;
  auto pair = [&](uint32_t h_lo, uint32_t h_hi, uint32_t l_lo, uint32_t l_hi) {
    out->push_back(g->AddSequence({UnicodeEscape(g, 0xD800 + h_lo, 0xD800 + h_hi),
                                   UnicodeEscape(g, 0xDC00 + l_lo, 0xDC00 + l_hi)}));
  };
  if (high_lo == high_hi) return pair(high_lo, high_lo, a & 0x3FF, b & 0x3FF);
  uint32_t first_full = high_lo, last_full = high_hi;
  if ((a & 0x3FF) != 0) pair(high_lo, high_lo, a & 0x3FF, 0x3FF), ++first_full;
  bool last_partial = (b & 0x3FF) != 0x3FF;
  if (last_partial) --last_full;
  if (first_full <= last_full) pair(first_full, last_full, 0, 0x3FF);
  if (last_partial) pair(high_hi, high_hi, 0, b & 0x3FF);
}

bool Contains(const std::vector<CodepointRange>& ranges, uint32_t cp) {
  for (const CodepointRange& r : ranges) {
    if (cp >= r.lo && cp <= r.hi) return true;
  }
  return false;
}

std::vector<CodepointRange> Intersect(const std::vector<CodepointRange>& a,
                                      const std::vector<CodepointRange>& b) {
  std::vector<CodepointRange> out;
  for (const CodepointRange& x : a) {
    for (const CodepointRange& y : b) {
      uint32_t lo = std::max(x.lo, y.lo), hi = std::min(x.hi, y.hi);
      if (lo <= hi) out.push_back({lo, hi});
    }
  }
  return NormalizeRanges(std::move(out));
}

// Characters JSON requires to be escaped inside a string.
const std::vector<CodepointRange>& MustEscape() {
  static const std::vector<CodepointRange> ranges = NormalizeRanges({{0, 0x1F}, {'"', '"'}, {'\\', '\\'}});
  return ranges;
}

// Whether `cp` is written only raw (its whole encoding is its UTF-8 bytes).
bool RawOnly(uint32_t cp, bool general_escapes) {
  return !general_escapes && !Contains(MustEscape(), cp) && cp != '/';
}

struct Interval {
  int64_t lo = 0;
  int64_t hi = 0;  // -1: unbounded
};

int64_t AddBound(int64_t a, int64_t b) { return a < 0 || b < 0 ? -1 : a + b; }

Interval LengthOf(const Grammar& g, ExprId e) {
  const Expr& x = g.exprs[e];
  switch (x.kind) {
    case ExprKind::kEmpty: return {0, 0};
    case ExprKind::kBytes: {
      int64_t n = 0;
      for (unsigned char c : x.bytes) n += (c & 0xC0) != 0x80;
      return {n, n};
    }
    case ExprKind::kCharClass: return {1, 1};
    case ExprKind::kSequence: {
      Interval total;
      for (ExprId c : x.children) {
        Interval part = LengthOf(g, c);
        total.lo += part.lo;
        total.hi = AddBound(total.hi, part.hi);
      }
      return total;
    }
    case ExprKind::kChoice: {
      Interval out{INT64_MAX, 0};
      for (ExprId c : x.children) {
        Interval part = LengthOf(g, c);
        out.lo = std::min(out.lo, part.lo);
        out.hi = out.hi < 0 || part.hi < 0 ? -1 : std::max(out.hi, part.hi);
      }
      return out;
    }
    case ExprKind::kRepeat: {
      Interval child = LengthOf(g, x.children[0]);
      int64_t hi = x.max == kUnbounded ? (child.hi == 0 ? 0 : -1)
                                       : (child.hi < 0 ? (x.max == 0 ? 0 : -1) : child.hi * x.max);
      return {child.lo * x.min, hi};
    }
    case ExprKind::kRuleRef: return {0, -1};
    // A difference matches some of its first operand's strings.
    case ExprKind::kDifference: return LengthOf(g, x.children[0]);
    case ExprKind::kIntersection: {
      Interval a = LengthOf(g, x.children[0]), b = LengthOf(g, x.children[1]);
      int64_t hi = a.hi < 0 ? b.hi : (b.hi < 0 ? a.hi : std::min(a.hi, b.hi));
      return {std::max(a.lo, b.lo), hi};
    }
  }
  return {0, -1};
}

bool Within(Interval length, int64_t lo, int64_t hi) {
  return length.lo >= lo && (hi < 0 || (length.hi >= 0 && length.hi <= hi));
}

// Narrows `e` to strings of [lo, hi] code points, or returns kNone when that needs
// more than adjusting repeat counts. Sets *empty when no string is left.
ExprId FoldLength(Grammar* g, ExprId e, int64_t lo, int64_t hi, bool* empty) {
  if (hi >= 0 && lo > hi) {
    *empty = true;
    return kNone;
  }
  Interval length = LengthOf(*g, e);
  if (Within(length, lo, hi)) return e;
  if ((length.hi >= 0 && length.hi < lo) || (hi >= 0 && length.lo > hi)) {
    *empty = true;
    return kNone;
  }
  Expr x = g->exprs[e];
  if (x.kind == ExprKind::kRepeat) {
    Interval child = LengthOf(*g, x.children[0]);
    if (child.lo != 1 || child.hi != 1) return kNone;
    int64_t new_min = std::max<int64_t>(x.min, lo);
    int64_t new_max = x.max == kUnbounded ? hi : (hi < 0 ? x.max : std::min<int64_t>(x.max, hi));
    if (new_max >= 0 && new_min > new_max) {
      *empty = true;
      return kNone;
    }
    if (new_min > (1 << 20) || new_max > (1 << 20)) return kNone;
    return g->AddRepeat(x.children[0], static_cast<int32_t>(new_min),
                        new_max < 0 ? kUnbounded : static_cast<int32_t>(new_max));
  }
  if (x.kind == ExprKind::kChoice) {
    std::vector<ExprId> kept;
    for (ExprId c : x.children) {
      bool child_empty = false;
      ExprId folded = FoldLength(g, c, lo, hi, &child_empty);
      if (child_empty) continue;
      if (folded == kNone) return kNone;
      kept.push_back(folded);
    }
    if (kept.empty()) {
      *empty = true;
      return kNone;
    }
    return kept.size() == 1 ? kept[0] : g->AddChoice(std::move(kept));
  }
  if (x.kind == ExprKind::kSequence) {
    int variable = -1;
    int64_t fixed = 0;
    for (size_t i = 0; i < x.children.size(); ++i) {
      Interval part = LengthOf(*g, x.children[i]);
      if (part.lo == part.hi) {
        fixed += part.lo;
      } else if (variable >= 0) {
        return kNone;
      } else {
        variable = static_cast<int>(i);
      }
    }
    if (variable < 0) return kNone;
    if (hi >= 0 && hi < fixed) {  // the fixed part alone is too long
      *empty = true;
      return kNone;
    }
    ExprId folded = FoldLength(g, x.children[variable], std::max<int64_t>(0, lo - fixed),
                               hi < 0 ? -1 : hi - fixed, empty);
    if (folded == kNone) return kNone;
    x.children[variable] = folded;
    return g->AddSequence(x.children.ToVector());
  }
  return kNone;
}

}  // namespace

ExprId JsonEncodeClass(Grammar* g, const std::vector<CodepointRange>& class_ranges,
                       bool general_escapes) {
  // Lone surrogates are not characters; `.` and negated escapes may still carry them.
  std::vector<CodepointRange> ranges =
      Intersect(class_ranges, ComplementRanges(NormalizeRanges({{0xD800, 0xDFFF}})));
  bool all_forms = general_escapes;
  std::vector<ExprId> alternatives;
  std::vector<CodepointRange> raw = Intersect(ranges, ComplementRanges(MustEscape()));
  if (!raw.empty()) alternatives.push_back(g->AddCharClass(raw));
  static const std::pair<uint32_t, const char*> kShortEscapes[] = {
      {'"', "\\\""}, {'\\', "\\\\"}, {'/', "\\/"}, {'\b', "\\b"},
      {'\f', "\\f"}, {'\n', "\\n"},  {'\r', "\\r"}, {'\t', "\\t"}};
  for (const auto& [cp, spelling] : kShortEscapes) {
    if (Contains(ranges, cp)) alternatives.push_back(g->AddBytes(spelling));
  }
  std::vector<CodepointRange> hex_forms =
      all_forms ? ranges : Intersect(ranges, NormalizeRanges({{0, 0x1F}, {'"', '"'}, {'/', '/'}, {'\\', '\\'}}));
  for (const CodepointRange& r : hex_forms) {
    if (r.lo <= 0xFFFF) alternatives.push_back(UnicodeEscape(g, r.lo, std::min<uint32_t>(r.hi, 0xFFFF)));
    if (r.hi >= 0x10000) SurrogatePairs(g, std::max<uint32_t>(r.lo, 0x10000), r.hi, &alternatives);
  }
  if (alternatives.empty()) return g->AddCharClass({});  // matches nothing; the caller reports it
  return alternatives.size() == 1 ? alternatives[0] : g->AddChoice(std::move(alternatives));
}

ExprId JsonEncodeExpr(Grammar* g, ExprId decoded, bool general_escapes) {
  Expr x = g->exprs[decoded];
  switch (x.kind) {
    case ExprKind::kEmpty:
    case ExprKind::kRuleRef:
      return decoded;
    case ExprKind::kCharClass:
      return JsonEncodeClass(g, x.ranges.ToVector(), general_escapes);
    case ExprKind::kBytes: {
      // Runs of characters with a single (raw) spelling stay one literal.
      std::vector<ExprId> parts;
      std::string run;
      size_t pos = 0;
      while (pos < x.bytes.size()) {
        uint32_t cp;
        int len = DecodeUtf8(x.bytes, pos, &cp);
        if (len == 0) cp = static_cast<unsigned char>(x.bytes[pos]), len = 1;
        if (RawOnly(cp, general_escapes)) {
          run.append(x.bytes, pos, len);
        } else {
          if (!run.empty()) parts.push_back(g->AddBytes(std::move(run))), run.clear();
          parts.push_back(JsonEncodeClass(g, {{cp, cp}}, general_escapes));
        }
        pos += len;
      }
      if (!run.empty()) parts.push_back(g->AddBytes(std::move(run)));
      if (parts.empty()) return g->AddEmpty();
      return parts.size() == 1 ? parts[0] : g->AddSequence(std::move(parts));
    }
    case ExprKind::kSequence:
    case ExprKind::kChoice: {
      std::vector<ExprId> children;
      for (ExprId c : x.children) children.push_back(JsonEncodeExpr(g, c, general_escapes));
      return x.kind == ExprKind::kSequence ? g->AddSequence(std::move(children))
                                           : g->AddChoice(std::move(children));
    }
    case ExprKind::kRepeat:
      return g->AddRepeat(JsonEncodeExpr(g, x.children[0], general_escapes), x.min, x.max);
    case ExprKind::kDifference:
      // Spellings decode to one string each, so the spellings of A - B are
      // those of A less those of B.
      return g->AddDifference(JsonEncodeExpr(g, x.children[0], general_escapes),
                              JsonEncodeExpr(g, x.children[1], general_escapes));
    case ExprKind::kIntersection:  // likewise: the spellings of strings in both
      return g->AddIntersection(JsonEncodeExpr(g, x.children[0], general_escapes),
                                JsonEncodeExpr(g, x.children[1], general_escapes));
  }
  return decoded;
}

JsonStringPattern RegexToJsonString(const std::string& pattern, bool search, bool general_escapes,
                                    int64_t min_length, int64_t max_length) {
  Grammar g;
  std::vector<CodepointRange> any_char = ComplementRanges(NormalizeRanges({{0xD800, 0xDFFF}}));
  ExprId decoded = search ? ParseRegexSearchInto(pattern, any_char, &g) : ParseRegexInto(pattern, &g);
  JsonStringPattern out;
  if (RegexMatchesNothing(g, decoded)) {
    out.max_length = -2;  // no string at all
    return out;
  }
  if (min_length > 0 || max_length >= 0) {
    bool empty = false;
    ExprId folded = FoldLength(&g, decoded, std::max<int64_t>(min_length, 0), max_length, &empty);
    if (empty) {
      out.length_applied = true;
      out.min_length = 0;
      out.max_length = -2;  // no string at all
      return out;
    }
    if (folded == kNone) {
      // No single repeated class to count: intersect with "any min..max characters"
      // (the product of the two DFAs, built by the automaton builder under its budget).
      constexpr int64_t kLargestBound = int64_t{1} << 20;  // the EBNF parser's limit
      int32_t hi = max_length < 0 ? kUnbounded : static_cast<int32_t>(std::min(max_length, kLargestBound));
      int32_t lo = static_cast<int32_t>(std::min(std::max<int64_t>(min_length, 0), kLargestBound));
      decoded = g.AddIntersection(decoded, g.AddRepeat(g.AddCharClass(any_char), lo, hi));
    } else {
      decoded = folded;
    }
  }
  Interval length = LengthOf(g, decoded);
  out.min_length = length.lo;
  out.max_length = length.hi;
  out.ebnf = PrintExpr(g, JsonEncodeExpr(&g, decoded, general_escapes));
  return out;
}

}  // namespace xgram
