"""The state of declared C++ (what ROOT's interpreter keeps between ``Declare`` calls).

:meth:`Interpreter.declare` parses a piece of code, types every function and constant, generates
and compiles one module, and registers each function as a per-event UDF callable by name in
expression strings. A declaration that fails changes nothing: aliases, functions and constants
are restored, and nothing is registered (nothing is half-compiled).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from dataclasses import dataclass, field

from hepframe.cpp import program as P
from hepframe.cpp import syntax as C
from hepframe.cpp.binder import Declared, FunctionCompiler
from hepframe.cpp.parser import CppParser, Scope, parse_unit
from hepframe.expr import ir
from hepframe.expr import syntax as S

_DEFINE = "define:"  # a history entry of a Define string: the path field holds its parameters


@dataclass
class Interpreter:
    scope: Scope = field(default_factory=Scope)
    functions: dict[str, dict[int, Declared]] = field(default_factory=dict)  # qualified name -> arity -> function
    by_id: dict[str, P.Function] = field(default_factory=dict)
    constants: dict[str, P.Constant] = field(default_factory=dict)
    lifted: dict[str, tuple[P.Var, ...]] = field(default_factory=dict)  # lambda instance -> captured outer vars
    history: list[tuple[str, str | None]] = field(default_factory=list)  # (code, path) of each Declare, in order
    udfs: dict[tuple[str, int], object] = field(default_factory=dict)  # (name, arity) -> its CppUDF
    _ids: itertools.count = field(default_factory=itertools.count)

    # -- identifiers and lookups (used by the binder) ---------------------------------
    def new_var_id(self) -> str:
        return f"v{next(self._ids)}"

    def new_function_id(self) -> str:
        return f"f{next(self._ids)}"

    def _candidates(self, name: str, namespace: str) -> list[str]:
        name = name.removeprefix("::")
        parts = namespace.split("::") if namespace else []
        return ["::".join([*parts[:k], name]) for k in range(len(parts), -1, -1)]

    def find_function(self, name: str, arity: int | None, namespace: str) -> Declared | None:
        for candidate in self._candidates(name, namespace):
            overloads = self.functions.get(candidate)
            if overloads:
                if arity is None:
                    return next(iter(overloads.values()))
                if arity in overloads:
                    return overloads[arity]
        return None

    def arities(self, name: str, namespace: str) -> list[int]:
        for candidate in self._candidates(name, namespace):
            if candidate in self.functions:
                return sorted(self.functions[candidate])
        return []

    def find_constant(self, name: str, namespace: str) -> P.Var | None:
        for candidate in self._candidates(name, namespace):
            if candidate in self.constants:
                return self.constants[candidate].var
        return None

    def add_lifted(self, fn: P.Function, captured: tuple[P.Var, ...]) -> None:
        self.by_id[fn.id] = fn
        self.lifted[fn.id] = captured

    def lifted_captures(self, fn_id: str) -> tuple[P.Var, ...]:
        return self.lifted[fn_id]

    # -- declaring ----------------------------------------------------------------------
    def declare(self, code: str, path: str | None = None) -> list[P.Function]:
        """Compile ``code``; returns the functions it defines (each registered by name)."""
        saved = (copy.deepcopy(self.scope), {k: dict(v) for k, v in self.functions.items()}, dict(self.by_id),
                 dict(self.constants), dict(self.lifted))  # fmt: skip
        self.history.append((code, path))
        try:
            return self._declare(code, path)
        except BaseException:
            self.scope, self.functions, self.by_id, self.constants, self.lifted = saved
            self.history.pop()
            raise

    def history_snapshot(self) -> tuple[tuple[str, str | None], ...]:
        return tuple(self.history)

    def replay(self, code: str, path: str | None) -> None:
        """One entry of another interpreter's history (a Spark task rebuilding the driver's functions)."""
        if path is not None and path.startswith(_DEFINE):
            params = [tuple(p.split(":", 1)) for p in path[len(_DEFINE) :].split(";") if p]
            self.declare_define(code, [(name, type_name) for name, type_name in params])
        else:
            self.declare(code, path)

    def declare_define(self, text: str, params: list[tuple[str, str]]) -> P.Function:
        """A Define or Filter string compiled as the body of a function of the columns it names.

        As ROOT does with every expression: ``auto f(columns...) { return text; }`` (or the text
        itself when it has statements). ``params`` are (column, canonical C++ type) pairs; errors
        point into ``text``.
        """
        name = "__define_" + hashlib.sha256(repr((text, params)).encode()).hexdigest()[:16]
        if name in self.functions:
            return next(iter(self.functions[name].values())).function
        signature = ";".join(f"{n}:{t}" for n, t in params)
        self.history.append((text, _DEFINE + signature))
        try:
            body = CppParser(text, self.scope).function_body()
            fdef = C.FunctionDef(0, name, tuple(C.Param(0, S.TypeSpec(t, const=True, reference="&" if t.startswith("RVec") else ""), n)
                                                for n, t in params), S.TypeSpec("auto"), body, text)  # fmt: skip
            fn = FunctionCompiler(self, name, text, "").function(fdef)
            self.functions.setdefault(name, {})[len(params)] = Declared(fn)
            self.by_id[fn.id] = fn
            from hepframe.cpp.registry import compile_and_register

            compile_and_register(self, [fn])
        except BaseException:
            self.functions.pop(name, None)
            self.history.pop()
            raise
        return fn

    def _declare(self, code: str, path: str | None) -> list[P.Function]:
        defined: list[P.Function] = []
        for node in parse_unit(code, self.scope, path):
            namespace = "::".join(node.name.split("::")[:-1])
            if isinstance(node, C.GlobalConst):
                self._constant(node, namespace)
                continue
            compiler = FunctionCompiler(self, node.name, node.source, namespace)
            fn = compiler.function(node)
            arity = len(node.params)
            if arity in self.functions.get(node.name, {}):
                raise compiler.binder.error(f"{node.name} with {arity} parameters is already declared "
                                            "(hepframe cannot redefine a function, as ROOT's interpreter)", node)  # fmt: skip
            self.functions.setdefault(node.name, {})[arity] = Declared(fn)
            self.by_id[fn.id] = fn
            defined.append(fn)
        if defined:
            from hepframe.cpp.registry import compile_and_register

            compile_and_register(self, defined)
        return defined

    def _constant(self, node: C.GlobalConst, namespace: str) -> None:
        compiler = FunctionCompiler(self, node.name, node.source, namespace)
        value = compiler.binder.bind(node.value)
        declared = compiler.type_of(node.type, node)
        if declared is not None:
            value = compiler.binder.convert(value, declared, node, f"the value of {node.name!r}")
        for sub in value.walk():
            if isinstance(sub, ir.Call) and (sub.func.startswith("cpp:") or sub.type.is_rvec):
                raise compiler.binder.unsupported("a constant computed by a function call or holding an RVec", node)
        if value.type.is_rvec or node.name in self.constants:
            raise compiler.binder.error(f"constant {node.name!r} is already declared or is not a number", node)
        var = P.Var(f"g{next(self._ids)}", value.type, node.name, const=True)
        self.constants[node.name] = P.Constant(var, value)

    # -- what a module needs -------------------------------------------------------------
    def closure(self, roots: list[P.Function]) -> tuple[list[P.Function], list[P.Constant]]:
        """The functions ``roots`` call (callees first) and the constants they all read."""
        order: list[P.Function] = []
        seen: set[str] = set()

        def visit(fn: P.Function) -> None:
            if fn.id in seen:
                return
            seen.add(fn.id)
            for callee in sorted(fn.calls):
                visit(self.by_id[callee])
            order.append(fn)

        for fn in roots:
            visit(fn)
        used = {e.name for fn in order for top in P.walk_exprs(fn.body) for e in top.walk() if isinstance(e, ir.Column)}
        constants = [c for c in self.constants.values() if c.var.id in used]
        more = {e.name for c in constants for e in c.value.walk() if isinstance(e, ir.Column)}
        constants = [c for c in self.constants.values() if c.var.id in used | more]
        return order, constants
