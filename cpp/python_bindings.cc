// pybind11 bindings: the `xgram._core` extension module.
//
// Only the control path lives here; every call that does real work releases the
// GIL. C++ exceptions are translated into the classes of xgram/errors.py, so
// Python callers get GrammarError (a ValueError) with `line` and `column`.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "automaton.h"
#include "errors.h"
#include "grammar_handle.h"
#include "grammar_passes.h"
#include "pushdown_matcher.h"

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

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "xgram C++ core";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const GrammarError& e) {
      RaisePython("GrammarError", py::make_tuple(e.what(), e.line(), e.column()));
    } catch (const CompileBudgetError& e) {
      RaisePython("CompileBudgetError", py::make_tuple(e.what()));
    } catch (const UsageError& e) {
      RaisePython("UsageError", py::make_tuple(e.what()));
    }
  });

  py::class_<GrammarHandle, GrammarHandlePtr>(m, "Grammar")
      .def_static(
          "from_ebnf",
          [](const std::string& text, const std::string& root) {
            py::gil_scoped_release release;
            return GrammarHandle::FromEBNF(text, root);
          },
          py::arg("text"), py::arg("root_rule_name") = "root")
      .def_static("builtin_json", [] {
        py::gil_scoped_release release;
        return GrammarHandle::BuiltinJSON();
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
      .def("build_automaton",
           [](const GrammarHandle& h) {
             py::gil_scoped_release release;
             h.automaton();
           })
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
          r = h.Match(bytes);
        }
        return py::make_tuple(static_cast<int>(r.status), r.offset);
      });

  py::class_<PushdownMatcher>(m, "PushdownMatcher")
      .def(py::init([](const GrammarHandle& h, int64_t max_rollback_steps) {
             py::gil_scoped_release release;
             return new PushdownMatcher(h.automaton(), max_rollback_steps);
           }),
           py::arg("grammar"), py::arg("max_rollback_steps") = -1)
      .def("advance",
           [](PushdownMatcher& m, const py::object& text) {
             std::string bytes = AsBytes(text);
             py::gil_scoped_release release;
             return m.AdvanceBytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
           })
      .def("can_end", &PushdownMatcher::CanEnd)
      .def("is_alive", &PushdownMatcher::IsAlive)
      .def("rollback", &PushdownMatcher::Rollback, py::arg("steps"))
      .def("reset", &PushdownMatcher::Reset)
      .def("fork", [](const PushdownMatcher& m) { return PushdownMatcher(m); })
      .def_property_readonly("num_steps", &PushdownMatcher::NumSteps)
      .def_property_readonly("num_rollbackable_steps", &PushdownMatcher::NumRollbackableSteps)
      .def_property_readonly("num_live_nodes", &PushdownMatcher::NumLiveNodes)
      .def_property_readonly("num_items", &PushdownMatcher::NumCurrentItems);
}
