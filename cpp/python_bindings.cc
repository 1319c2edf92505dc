// pybind11 bindings: the `xgram._core` extension module.
//
// Only the control path lives here; every call that does real work releases the
// GIL. C++ exceptions are translated into the classes of xgram/errors.py, so
// Python callers get GrammarError (a ValueError) with `line` and `column`.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <cstring>

#include "automaton.h"
#include "batch_fill.h"
#include "builtin_json_grammar.h"
#include "compile_control.h"
#include "compiled_grammar.h"
#include "errors.h"
#include "grammar_handle.h"
#include "grammar_matcher.h"
#include "grammar_passes.h"
#include "json_string_encoding.h"
#include "logits_kernel_cpu.h"
#include "pushdown_matcher.h"
#include "regex_parser.h"
#include "rule_dfa_cache.h"
#include "tokenizer_info.h"
#include "whole_text_match.h"

namespace py = pybind11;
using namespace xgram;

namespace {

std::string AsBytes(const py::object& text) {
  if (py::isinstance<py::bytes>(text)) return text.cast<std::string>();
  if (py::isinstance<py::str>(text)) return text.cast<std::string>();  // UTF-8
  if (py::isinstance<py::bytearray>(text)) return std::string(text.cast<py::bytearray>());
  throw py::type_error("expected str or bytes, got " +
                       std::string(py::str(py::type::of(text).attr("__name__"))));
}

void RaisePython(const char* class_name, py::tuple args) {
  py::object cls = py::module_::import("xgram.errors").attr(class_name);
  PyErr_SetObject(cls.ptr(), args.ptr());
}

std::vector<const Grammar*> GrammarList(const std::vector<GrammarHandlePtr>& handles) {
  std::vector<const Grammar*> out;
  for (const auto& h : handles) out.push_back(&h->grammar());
  return out;
}

// C++ exceptions become the classes of xgram/errors.py.
void RegisterErrorTranslator() {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const GrammarError& e) {
      RaisePython("GrammarError", py::make_tuple(e.what(), e.line(), e.column()));
    } catch (const CompileCancelledError& e) {
      RaisePython("CompileCancelledError", py::make_tuple(e.what()));
    } catch (const CompileBudgetError& e) {
      RaisePython("CompileBudgetError", py::make_tuple(e.what()));
    } catch (const MatchBudgetError& e) {
      RaisePython("MatchBudgetError", py::make_tuple(e.what()));
    } catch (const UsageError& e) {
      RaisePython("UsageError", py::make_tuple(e.what()));
    }
  });
}

// Regex -> JSON string content, for the JSON Schema compiler's `pattern`.
void BindJsonStringEncoding(py::module_& m) {
  m.def(
      "regex_to_json_string",
      [](const std::string& pattern, bool search, bool general_escapes, int64_t min_length,
         int64_t max_length) {
        JsonStringPattern p;
        {
          py::gil_scoped_release release;
          p = RegexToJsonString(pattern, search, general_escapes, min_length, max_length);
        }
        return py::make_tuple(p.ebnf, p.min_length, p.max_length, p.length_applied);
      },
      py::arg("pattern"), py::arg("search"), py::arg("general_escapes") = false,
      py::arg("min_length") = 0, py::arg("max_length") = -1,
      "A regex as an EBNF expression over JSON string content: (ebnf, min_length, max_length, "
      "length_applied); max_length -1 = unbounded, -2 = the length bounds leave no string.");
}

// Grammar: construction, printing, automaton statistics and whole-text matching.
void BindGrammar(py::module_& m) {
  py::class_<GrammarHandle, GrammarHandlePtr>(m, "Grammar")
      .def_static(
          "from_ebnf",
          [](const std::string& text, const std::string& root, bool normalize) {
            py::gil_scoped_release release;
            return GrammarHandle::FromEBNF(text, root, normalize);
          },
          py::arg("text"), py::arg("root_rule_name") = "root", py::arg("normalize") = true)
      .def_static(
          "from_regex",
          [](const std::string& pattern) {
            py::gil_scoped_release release;
            return std::make_shared<GrammarHandle>(NormalizeGrammar(GrammarFromRegex(pattern)));
          },
          py::arg("pattern"))
      .def_static("builtin_json", [] {
        py::gil_scoped_release release;
        return BuiltinJSONGrammar();
      })
      .def_static("union", [](const std::vector<GrammarHandlePtr>& gs) {
        py::gil_scoped_release release;
        return std::make_shared<GrammarHandle>(UnionGrammars(GrammarList(gs)));
      })
      .def_static("concat", [](const std::vector<GrammarHandlePtr>& gs) {
        py::gil_scoped_release release;
        return std::make_shared<GrammarHandle>(ConcatGrammars(GrammarList(gs)));
      })
      .def("to_string", &GrammarHandle::ToString)
      .def("rule_names",
           [](const GrammarHandle& h) {
             std::vector<std::string> names;
             for (const Rule& r : h.grammar().rules) names.push_back(r.name);
             return names;
           })
      .def("root_rule_name",
           [](const GrammarHandle& h) { return h.grammar().rules[h.grammar().root].name; })
      .def("automaton_stats",
           [](const GrammarHandle& h) {
             AutomatonPtr a;
             {
               py::gil_scoped_release release;
               a = h.automaton();
             }
             py::dict stats;
             stats["states"] = a->num_states();
             stats["byte_edges"] = a->byte_edges.size();
             stats["call_edges"] = a->call_edges.size();
             stats["rules"] = a->rules.size();
             stats["lookahead_states"] = a->lookahead_final.size();
             return stats;
           })
      .def("match", [](const GrammarHandle& h, const py::object& text) {
        std::string bytes = AsBytes(text);
        MatchResult r;
        {
          py::gil_scoped_release release;
          r = MatchWholeText(h, bytes);
        }
        return py::make_tuple(static_cast<int>(r.status), r.offset);
      });
}

// The byte-level matcher, for tests and tools that work below tokens, with the
// token matcher's guard: a call while another thread is inside the same matcher
// raises UsageError instead of racing (`advance` releases the GIL, and a
// free-threaded interpreter has none).
struct GuardedPushdownMatcher {
  explicit GuardedPushdownMatcher(PushdownMatcher m) : matcher(std::move(m)) {}
  PushdownMatcher matcher;
  std::atomic<bool> in_use{false};
};

// `method` of the matcher, called under its guard.
template <typename Method>
auto Guarded(const char* what, Method method) {
  return [what, method](GuardedPushdownMatcher& g) {
    GrammarMatcher::ExclusiveUse use(g.in_use, what);
    return (g.matcher.*method)();
  };
}

void BindPushdownMatcher(py::module_& m) {
  py::class_<GuardedPushdownMatcher>(m, "PushdownMatcher")
      .def(py::init([](const GrammarHandle& h, int64_t max_rollback_steps) {
             py::gil_scoped_release release;
             return new GuardedPushdownMatcher(PushdownMatcher(h.automaton(), max_rollback_steps));
           }),
           py::arg("grammar"), py::arg("max_rollback_steps") = -1)
      .def("advance",
           [](GuardedPushdownMatcher& g, const py::object& text) {
             std::string bytes = AsBytes(text);
             GrammarMatcher::ExclusiveUse use(g.in_use, "advance");
             py::gil_scoped_release release;
             return g.matcher.AdvanceBytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
           })
      .def("can_end", Guarded("can_end", &PushdownMatcher::CanEnd))
      .def("is_alive", Guarded("is_alive", &PushdownMatcher::IsAlive))
      .def("rollback",
           [](GuardedPushdownMatcher& g, int64_t steps) {
             GrammarMatcher::ExclusiveUse use(g.in_use, "rollback");
             g.matcher.Rollback(steps);
           },
           py::arg("steps"))
      .def("reset", Guarded("reset", &PushdownMatcher::Reset))
      .def("fork",
           [](GuardedPushdownMatcher& g) {
             GrammarMatcher::ExclusiveUse use(g.in_use, "fork");
             return new GuardedPushdownMatcher(g.matcher);
           })
      .def_property_readonly("num_steps", Guarded("num_steps", &PushdownMatcher::NumSteps))
      .def_property_readonly("num_rollbackable_steps",
                             Guarded("num_rollbackable_steps", &PushdownMatcher::NumRollbackableSteps))
      .def_property_readonly("num_live_nodes", Guarded("num_live_nodes", &PushdownMatcher::NumLiveNodes))
      .def_property_readonly("num_items", Guarded("num_items", &PushdownMatcher::NumCurrentItems));
}

void BindTokenizerInfo(py::module_& m) {
  py::class_<TokenizerInfo, std::shared_ptr<TokenizerInfo>>(m, "TokenizerInfo")
      .def(py::init([](const std::vector<py::object>& encoded_vocab, int vocab_type, int32_t vocab_size,
                       std::vector<int32_t> stop_token_ids, std::vector<int32_t> special_token_ids,
                       bool add_prefix_space) {
             std::vector<std::string> vocab;
             vocab.reserve(encoded_vocab.size());
             for (const py::object& t : encoded_vocab) vocab.push_back(AsBytes(t));
             if (vocab_type < 0 || vocab_type > 2) throw UsageError("vocab_type must be 0, 1 or 2");
             py::gil_scoped_release release;
             return std::make_shared<TokenizerInfo>(vocab, static_cast<VocabType>(vocab_type), vocab_size,
                                                    std::move(stop_token_ids),
                                                    std::move(special_token_ids), add_prefix_space);
           }),
           py::arg("encoded_vocab"), py::arg("vocab_type"), py::arg("vocab_size"),
           py::arg("stop_token_ids"), py::arg("special_token_ids"), py::arg("add_prefix_space"))
      .def_property_readonly("vocab_size", &TokenizerInfo::vocab_size)
      .def_property_readonly("vocab_type", [](const TokenizerInfo& t) { return static_cast<int>(t.vocab_type()); })
      .def_property_readonly("add_prefix_space", &TokenizerInfo::add_prefix_space)
      .def_property_readonly("stop_token_ids", &TokenizerInfo::stop_token_ids)
      .def_property_readonly("special_token_ids", &TokenizerInfo::special_token_ids)
      .def_property_readonly("fingerprint", &TokenizerInfo::Fingerprint)
      .def("decoded_vocab", [](const TokenizerInfo& t) {
        py::list out;
        for (const std::string& s : t.decoded_vocab()) out.append(py::bytes(s));
        return out;
      })
      .def("memory_size_bytes", &TokenizerInfo::MemoryBytes);
}

// A grammar compiled for a tokenizer, with its mask cache (and its serialization).
void BindCompiledGrammar(py::module_& m) {
  py::class_<CompiledGrammar, std::shared_ptr<CompiledGrammar>>(m, "CompiledGrammar")
      .def(py::init([](GrammarHandlePtr g, std::shared_ptr<TokenizerInfo> t) {
             py::gil_scoped_release release;
             return std::make_shared<CompiledGrammar>(std::move(g), std::move(t));
           }),
           py::arg("grammar"), py::arg("tokenizer_info"))
      .def("precompute",
           [](CompiledGrammar& c, int threads) {
             py::gil_scoped_release release;
             c.cache().ComputeAll(threads);
           },
           py::arg("num_threads") = 1)
      .def_property_readonly("grammar", &CompiledGrammar::grammar)
      .def_property_readonly("tokenizer_info", [](const CompiledGrammar& c) {
        return std::const_pointer_cast<TokenizerInfo>(c.tokenizer());
      })
      .def_property_readonly("memory_size_bytes", &CompiledGrammar::MemoryBytes)
      .def_property_readonly("num_cached_states", [](const CompiledGrammar& c) { return c.cache().NumComputed(); })
      .def_property_readonly("num_states", [](const CompiledGrammar& c) { return c.automaton()->num_states(); })
      .def_property_readonly("automaton_fingerprint", [](const CompiledGrammar& c) { return c.automaton()->Fingerprint(); })
      .def("export_entries", [](const CompiledGrammar& c) {
        std::vector<int32_t> blob = c.cache().ExportEntries();
        return py::bytes(reinterpret_cast<const char*>(blob.data()), blob.size() * sizeof(int32_t));
      })
      .def("import_entries", [](CompiledGrammar& c, const py::bytes& data) {
        std::string raw = data;
        if (raw.size() % sizeof(int32_t)) throw UsageError("serialized mask cache has a partial word");
        std::vector<int32_t> blob(raw.size() / sizeof(int32_t));
        if (!raw.empty()) std::memcpy(blob.data(), raw.data(), raw.size());  // an empty blob: data() may be null
        py::gil_scoped_release release;
        c.cache().ImportEntries(blob);
      });
}

// A fill usually takes microseconds (a cached mask, a reused one), and then
// releasing the GIL and taking it back costs more than the fill, and makes many
// Python threads that each drive their own matchers queue up on the GIL. So a
// fill keeps the GIL when this matcher's previous fill was quick, and releases
// it otherwise (a state's first fill can take milliseconds).
std::atomic<int64_t> quick_fill_nanoseconds{50000};  // settable for measurements

bool FillHoldingTheGilWhenQuick(GrammarMatcher& m, uint32_t* words, int64_t num_words) {
  GrammarMatcher::ExclusiveUse use(m, "fill_next_token_bitmask");
  auto start = std::chrono::steady_clock::now();
  bool result;
  if (m.last_fill_nanoseconds() <= quick_fill_nanoseconds.load(std::memory_order_relaxed)) {
    result = m.FillNextTokenBitmask(words, num_words);
  } else {
    py::gil_scoped_release release;
    result = m.FillNextTokenBitmask(words, num_words);
  }
  m.set_last_fill_nanoseconds(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
  return result;
}

// Row `index` of `bitmask` when it is a writable, C-contiguous, native-endian
// int32 numpy array of 1 or 2 dimensions (null otherwise: the Python layer then
// takes other bitmasks, such as torch tensors, and explains what is wrong).
// Reading the array here costs a few proxy loads; finding the address from
// Python (numpy's `ctypes.data`) cost more than a warm fill itself.
uint32_t* NumpyBitmaskRow(py::handle bitmask, int64_t index, int64_t* num_words) {
  if (!py::isinstance<py::array>(bitmask)) return nullptr;
  auto array = py::reinterpret_borrow<py::array>(bitmask);
  static const int int32_num = py::dtype::of<int32_t>().num();
  static const char native_order = [] {
    const uint16_t probe = 1;
    return *reinterpret_cast<const uint8_t*>(&probe) == 1 ? '<' : '>';
  }();
  py::dtype dtype = array.dtype();
  const char order = dtype.byteorder();
  const bool native = order == '=' || order == '|' || order == native_order;
  const int flags = array.flags();
  if (dtype.num() != int32_num || !native || !(flags & py::array::c_style) ||
      !(flags & py::detail::npy_api::NPY_ARRAY_WRITEABLE_) || (array.ndim() != 1 && array.ndim() != 2)) {
    return nullptr;
  }
  const int64_t rows = array.ndim() == 2 ? array.shape(0) : 1;
  *num_words = array.ndim() == 2 ? array.shape(1) : array.shape(0);
  if (index < 0 || index >= rows) return nullptr;
  return static_cast<uint32_t*>(array.mutable_data()) + index * *num_words;
}

void BindGrammarMatcher(py::module_& m) {
  py::class_<GrammarMatcher>(m, "GrammarMatcher")
      .def(py::init([](std::shared_ptr<CompiledGrammar> c, py::object override_stop_tokens,
                       bool terminate_without_stop_token, int32_t max_rollback_tokens) {
             std::vector<int32_t> stops;
             bool use_override = !override_stop_tokens.is_none();
             if (use_override) stops = override_stop_tokens.cast<std::vector<int32_t>>();
             py::gil_scoped_release release;
             return new GrammarMatcher(std::move(c), std::move(stops), use_override,
                                       terminate_without_stop_token, max_rollback_tokens);
           }),
           py::arg("compiled_grammar"), py::arg("override_stop_tokens") = py::none(),
           py::arg("terminate_without_stop_token") = false, py::arg("max_rollback_tokens") = -1)
      // An accepted token is a few microseconds of work: less than releasing
      // and retaking the GIL costs when other Python threads want it too.
      .def("accept_token",
           [](GrammarMatcher& m, int32_t token_id) {
             GrammarMatcher::ExclusiveUse use(m, "accept_token");
             return m.AcceptToken(token_id);
           },
           py::arg("token_id"))
      .def("accept_string", [](GrammarMatcher& m, const py::object& text) {
             std::string bytes = AsBytes(text);
             GrammarMatcher::ExclusiveUse use(m, "accept_string");
             py::gil_scoped_release release;
             return m.AcceptString(bytes);
           })
      .def("fill_next_token_bitmask_ptr",
           [](GrammarMatcher& m, uintptr_t data, int64_t num_words) {
             return FillHoldingTheGilWhenQuick(m, reinterpret_cast<uint32_t*>(data), num_words);
           })
      // None when the bitmask is not a plain int32 numpy array or the row is out
      // of range: the caller then takes the general path.
      .def("fill_next_token_bitmask_numpy",
           [](GrammarMatcher& m, py::handle bitmask, int64_t index) -> py::object {
             int64_t num_words = 0;
             uint32_t* row = NumpyBitmaskRow(bitmask, index, &num_words);
             if (row == nullptr) return py::none();
             return py::bool_(FillHoldingTheGilWhenQuick(m, row, num_words));
           })
      .def("find_jump_forward_string", [](GrammarMatcher& m) {
             std::string s;
             {
               GrammarMatcher::ExclusiveUse use(m, "find_jump_forward_string");
               py::gil_scoped_release release;
               s = m.FindJumpForwardString();
             }
             return py::bytes(s);
           })
      .def("validate_tokens",
           [](GrammarMatcher& m, const std::vector<int32_t>& ids) {
             GrammarMatcher::ExclusiveUse use(m, "validate_tokens");
             return m.ValidateTokens(ids);
           },
           py::arg("token_ids"))
      // A linear draft (GrammarMatcher::TraverseDraftChain) into a plain int32
      // numpy bitmask of one row per position; None when the bitmask is anything
      // else (the caller then checks it and passes its address).
      .def("traverse_draft_chain_numpy",
           [](GrammarMatcher& m, const std::vector<int32_t>& draft, py::handle bitmask) -> py::object {
             int64_t num_words = 0;
             uint32_t* rows = NumpyBitmaskRow(bitmask, 0, &num_words);
             if (rows == nullptr) return py::none();
             auto array = py::reinterpret_borrow<py::array>(bitmask);
             if (array.ndim() != 2 || array.shape(0) != static_cast<int64_t>(draft.size()) + 1) return py::none();
             int32_t allowed;
             {
               GrammarMatcher::ExclusiveUse use(m, "traverse_draft_chain");
               py::gil_scoped_release release;
               allowed = m.TraverseDraftChain(draft, rows, num_words, num_words);
             }
             return py::int_(allowed);
           })
      .def("traverse_draft_chain_ptr",
           [](GrammarMatcher& m, const std::vector<int32_t>& draft, uintptr_t rows, int64_t row_stride,
              int64_t num_words) {
             GrammarMatcher::ExclusiveUse use(m, "traverse_draft_chain");
             py::gil_scoped_release release;
             return m.TraverseDraftChain(draft, reinterpret_cast<uint32_t*>(rows), row_stride, num_words);
           })
      .def("traverse_draft_tree_ptr",
           [](GrammarMatcher& m, const py::bytes& first_child_bytes, const py::bytes& next_sibling_bytes,
              const py::bytes& token_bytes, uintptr_t rows, int64_t row_stride, int64_t num_words,
              double deadline_seconds) {
             // The tree comes as int32 arrays' bytes (numpy tobytes): converting
             // Python lists element by element cost more than the walk.
             auto int32s = [](const py::bytes& b) {
               std::string raw = b;
               std::vector<int32_t> out(raw.size() / sizeof(int32_t));
               std::memcpy(out.data(), raw.data(), out.size() * sizeof(int32_t));
               return out;
             };
             std::vector<int32_t> first_child = int32s(first_child_bytes);
             std::vector<int32_t> next_sibling = int32s(next_sibling_bytes);
             std::vector<int32_t> tokens = int32s(token_bytes);
             if (next_sibling.size() != first_child.size() || tokens.size() != first_child.size()) {
               throw UsageError("the draft tree's arrays differ in length");
             }
             std::vector<uint8_t> filled;
             bool complete;
             {
               GrammarMatcher::ExclusiveUse use(m, "traverse_draft_tree");
               py::gil_scoped_release release;
               complete = m.TraverseDraftTree(first_child, next_sibling, tokens, reinterpret_cast<uint32_t*>(rows),
                                              row_stride, num_words, deadline_seconds, &filled);
             }
             return py::make_tuple(complete, py::bytes(reinterpret_cast<const char*>(filled.data()), filled.size()));
           })
      .def("rollback",
           [](GrammarMatcher& m, int32_t num_tokens) {
             GrammarMatcher::ExclusiveUse use(m, "rollback");
             py::gil_scoped_release release;
             m.Rollback(num_tokens);
           },
           py::arg("num_tokens") = 1)
      .def("reset",
           [](GrammarMatcher& m) {
             GrammarMatcher::ExclusiveUse use(m, "reset");
             py::gil_scoped_release release;
             m.Reset();
           })
      .def("fork",
           [](const GrammarMatcher& m) {
             GrammarMatcher::ExclusiveUse use(m, "fork");
             return GrammarMatcher(m);
           })
      .def("is_terminated",
           [](const GrammarMatcher& m) {
             GrammarMatcher::ExclusiveUse use(m, "is_terminated");
             return m.IsTerminated();
           })
      .def("is_completed", [](const GrammarMatcher& m) {
        GrammarMatcher::ExclusiveUse use(m, "is_completed");
        return m.IsCompleted();
      })
      .def_property_readonly("stop_token_ids", &GrammarMatcher::stop_token_ids)
      .def_property_readonly("num_rollbackable_tokens", &GrammarMatcher::NumRollbackableTokens)
      .def("last_fill_stats", [](const GrammarMatcher& m) {
        const auto& s = m.last_fill_stats();
        return py::make_tuple(s.threads, s.states, s.candidates);
      });
}

// Process-wide compile limits, and the rule and mask caches shared between grammars.
// Batches of matchers: the rows are filled on the worker pool with the GIL
// released; per row, whether the mask must be applied and an error ("" if none).
void BindBatch(py::module_& m) {
  m.def("batch_fill_next_token_bitmask_ptr",
        [](const std::vector<GrammarMatcher*>& matchers, const std::vector<uintptr_t>& rows, int64_t num_words,
           int num_threads) {
          if (rows.size() != matchers.size()) throw UsageError("one bitmask row per matcher");
          std::vector<uint32_t*> row_words;
          row_words.reserve(rows.size());
          for (uintptr_t address : rows) row_words.push_back(reinterpret_cast<uint32_t*>(address));
          BatchFillResult result;
          {
            py::gil_scoped_release release;
            result = BatchFillNextTokenBitmask(matchers, row_words, num_words, num_threads);
          }
          return py::make_tuple(result.needs_apply, result.errors);
        },
        py::arg("matchers"), py::arg("rows"), py::arg("num_words"), py::arg("num_threads"));
  // Accepts and rollbacks: per row, the answer and an error ("" if none).
  m.def("batch_accept_token",
        [](const std::vector<GrammarMatcher*>& matchers, const std::vector<int32_t>& tokens, int num_threads) {
          if (tokens.size() != matchers.size()) throw UsageError("one token per matcher");
          BatchRowsResult result;
          {
            py::gil_scoped_release release;
            result = BatchAcceptToken(matchers, tokens, num_threads);
          }
          return py::make_tuple(result.values, result.errors);
        });
  m.def("batch_accept_string",
        [](const std::vector<GrammarMatcher*>& matchers, const py::list& texts, int num_threads) {
          if (texts.size() != matchers.size()) throw UsageError("one string per matcher");
          std::vector<std::string> strings;
          strings.reserve(texts.size());
          for (const py::handle& text : texts) strings.push_back(AsBytes(py::reinterpret_borrow<py::object>(text)));
          BatchRowsResult result;
          {
            py::gil_scoped_release release;
            result = BatchAcceptString(matchers, strings, num_threads);
          }
          return py::make_tuple(result.values, result.errors);
        });
  m.def("batch_rollback",
        [](const std::vector<GrammarMatcher*>& matchers, const std::vector<int32_t>& counts, int num_threads) {
          if (counts.size() != matchers.size()) throw UsageError("one count per matcher");
          BatchRowsResult result;
          {
            py::gil_scoped_release release;
            result = BatchRollback(matchers, counts, num_threads);
          }
          return result.errors;
        });
}

void BindLimitsAndCaches(py::module_& m) {
  // How long a matcher's last fill may have taken for its next fill to keep the
  // GIL (nanoseconds; < 0: always release it). For benchmarks/bench_threads.py.
  m.def("_set_quick_fill_nanoseconds", [](int64_t ns) { quick_fill_nanoseconds.store(ns); });
  m.def("get_compile_limits", [] {
    CompileLimits l = DefaultCompileLimits();
    return py::make_tuple(l.max_states, l.max_seconds);
  });
  m.def("set_compile_limits", [](int64_t max_states, double max_seconds) {
    if (max_states < 1 || !(max_seconds > 0)) throw UsageError("compile limits must be positive");
    CompileLimits l = DefaultCompileLimits();
    l.max_states = max_states;
    l.max_seconds = max_seconds;
    SetDefaultCompileLimits(l);
  });

  m.def("get_match_work_limits", [] { return py::make_tuple(DefaultStepWorkLimit(), DefaultFillWorkLimit()); });
  m.def("set_match_work_limits", [](int64_t step, int64_t fill) {
    if (step < 1 || fill < 1) throw UsageError("match work limits must be >= 1");
    SetDefaultStepWorkLimit(step);
    SetDefaultFillWorkLimit(fill);
  });

  m.def("clear_rule_cache", [] { rule_dfa::RuleCache::Global().Clear(); });
  m.def("set_rule_cache_capacity", [](int64_t bytes) {
    if (bytes < 0) throw UsageError("the rule cache capacity must be >= 0 bytes, got " + std::to_string(bytes));
    rule_dfa::RuleCache::Global().SetCapacity(static_cast<size_t>(bytes));
  });
  m.def("rule_cache_stats", [] {
    rule_dfa::RuleCache& cache = rule_dfa::RuleCache::Global();
    rule_dfa::RuleCache::Stats s = cache.stats();
    return py::make_tuple(s.entries, s.bytes, s.hits, s.misses, cache.capacity());
  });
  m.def("clear_shared_mask_cache", [] { ClearSharedMaskCache(); });
  m.def("shared_mask_cache_stats", [] {
    return py::make_tuple(SharedMaskCacheSize(), SharedMaskCacheBytes(), SharedMaskCacheLimit());
  });
  m.def("set_shared_mask_cache_limit", [](int64_t bytes) {
    if (bytes < 0) throw UsageError("the shared mask cache limit must be >= 0 bytes, got " + std::to_string(bytes));
    SetSharedMaskCacheLimit(static_cast<size_t>(bytes));
  });
}

// A compile's deadline and cancel flag (compile_control.h). xgram/_compile_scope.py
// enters a control around each compile; the converter polls it from Python.
struct PyCompileControl {
  CompileControl control;
  const CompileControl* previous = nullptr;
  bool entered = false;
};

void BindCompileControl(py::module_& m) {
  py::class_<CancelFlag, CancelFlagPtr>(m, "CancelFlag")
      .def(py::init<>())
      .def("cancel", &CancelFlag::Cancel)
      .def_property_readonly("cancelled", &CancelFlag::cancelled);
  py::class_<PyCompileControl>(m, "CompileControl")
      .def(py::init([](double max_seconds, CancelFlagPtr cancel) {
             // Nested in whatever this thread runs now; enter() checks it is still that.
             return new PyCompileControl{CompileControl(max_seconds, std::move(cancel), CurrentCompileControl())};
           }),
           py::arg("max_seconds"), py::arg("cancel") = nullptr)
      .def("enter",
           [](PyCompileControl& c) {
             if (c.entered) throw UsageError("this compile control is already entered");
             if (CurrentCompileControl() != c.control.outer()) {
               throw UsageError("a compile control must be entered on the thread, and in the scope, that made it");
             }
             c.previous = ExchangeCompileControl(&c.control);
             c.entered = true;
           })
      .def("exit",
           [](PyCompileControl& c) {
             if (!c.entered || CurrentCompileControl() != &c.control) {
               throw UsageError("this compile control is not the current one on this thread");
             }
             ExchangeCompileControl(c.previous);
             c.entered = false;
           })
      .def("check", [](const PyCompileControl& c) { c.control.Check(); })
      .def_property_readonly("remaining_seconds", [](const PyCompileControl& c) { return c.control.RemainingSeconds(); });
  // The converter's poll: the current control of this thread, if any.
  m.def("check_compile_control", [] { CheckCompileControl(); });
}

// The CPU kernel applying bitmasks to logits (pointers come from the Python side).
void BindLogitsKernel(py::module_& m) {
  m.def("apply_token_bitmask_ptr",
        [](uintptr_t logits, int dtype, int64_t num_rows, int64_t row_stride, int64_t num_columns,
           uintptr_t bitmask, int64_t bitmask_row_stride, py::object indices) {
          std::vector<int32_t> idx;
          bool has_indices = !indices.is_none();
          if (has_indices) idx = indices.cast<std::vector<int32_t>>();
          py::gil_scoped_release release;
          ApplyTokenBitmask(reinterpret_cast<void*>(logits), dtype, num_rows, row_stride, num_columns,
                            reinterpret_cast<const int32_t*>(bitmask), bitmask_row_stride,
                            has_indices ? idx.data() : nullptr, static_cast<int64_t>(idx.size()));
        });
}

}  // namespace

// The module declares that it does not need the GIL: on a free-threaded
// interpreter (3.13t, 3.14t) importing it then leaves the GIL off, and Python
// threads run their matchers in parallel. That is safe because nothing here
// leans on the GIL for exclusion: a matcher refuses a second caller at once
// (GrammarMatcher::ExclusiveUse), shared compiled grammars and caches lock
// inside, and the process-wide settings are atomics or locked. With the GIL
// on, the flag is ignored.
PYBIND11_MODULE(_core, m, py::mod_gil_not_used()) {
  m.doc() = "xgram C++ core";
  RegisterErrorTranslator();
  BindJsonStringEncoding(m);
  BindGrammar(m);
  BindPushdownMatcher(m);
  BindTokenizerInfo(m);
  BindCompiledGrammar(m);
  BindBatch(m);
  BindGrammarMatcher(m);
  BindLimitsAndCaches(m);
  BindCompileControl(m);
  BindLogitsKernel(m);
}
