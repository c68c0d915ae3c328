"""Python source for numba from the typed program IR, compiled once and cached on disk.

Every identifier in the generated module is internal (``f3``, ``v12``, ``rt.push``); numbers
are written with ``repr`` of Python numbers. No user text reaches the module, which is written
atomically to a file named by the hash of its source, in the cache directory, and imported from
there, so that numba's ``cache=True`` keeps the machine code between processes.

Value representations: numbers are numba scalars of the exact C++ type (every operator's result
is converted back, as C++ would wrap or round it); a Lorentz vector is a tuple of its four
stored doubles; ``RVec<T>`` is a 1-D array (a variable keeps a buffer and a size, so that
``push_back`` is amortized O(1)); ``RVec<V>`` of vectors is an (n, 4) array; ``RVec<RVec<T>>``
is a (data, row sizes) pair.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import math
import os
import sys
import tempfile
from collections.abc import Iterable

from hepframe.cpp import program as P
from hepframe.expr import ir
from hepframe.expr.types import CType, Scalar

_SYSTEMS = {Scalar.PTETAPHIM: "ptetaphim", Scalar.PTETAPHIE: "ptetaphie", Scalar.PXPYPZE: "pxpypze",
            Scalar.PXPYPZM: "pxpypzm"}  # fmt: skip
_MATH = {"sqrt": "math.sqrt", "exp": "math.exp", "expm1": "math.expm1", "sin": "math.sin", "cos": "math.cos",
         "tan": "math.tan", "asin": "math.asin", "acos": "math.acos", "atan": "math.atan", "sinh": "math.sinh",
         "cosh": "math.cosh", "tanh": "math.tanh", "asinh": "math.asinh", "acosh": "math.acosh",
         "atanh": "math.atanh", "erf": "math.erf", "erfc": "math.erfc", "log": "rt.clog", "log10": "rt.clog10",
         "log2": "rt.clog2", "log1p": "rt.clog1p", "floor": "np.floor", "ceil": "np.ceil", "trunc": "np.trunc",
         "round": "rt.cround", "fabs": "abs", "atan2": "math.atan2", "pow": "math.pow", "hypot": "math.hypot",
         "fmod": "np.fmod"}  # fmt: skip
_SCALAR_VECOPS = {"Max": "rt.vmax", "Min": "rt.vmin", "ArgMax": "rt.argmax", "ArgMin": "rt.argmin", "Any": "rt.vany",
                  "All": "rt.vall"}  # fmt: skip
_RVEC_VECOPS = {"Sort": "rt.vsort", "Argsort": "rt.argsort", "StableArgsort": "rt.argsort", "Reverse": "rt.reverse",
                "Nonzero": "rt.nonzero"}  # fmt: skip
_WRAPPING = {"+", "-", "*", "<<", ">>", "&", "|", "^"}
_JIT = '@numba.njit(cache=True, nogil=True, boundscheck=True, error_model="numpy")'
# inlined where called (element loops, batch bodies): no per-event call, see ModuleWriter.function
_JIT_INLINE = '@numba.njit(cache=True, nogil=True, boundscheck=True, error_model="numpy", forceinline=True)'



def supports(call: ir.Call) -> bool:
    """Whether the generator has code for this call of the canonical function table."""
    fn, args = call.func, call.args
    if fn.startswith(("cpp:", "vec4.", "cpp.")) or fn in ("RVec", "size", "Combinations"):
        return True
    if fn == "RVecOf":
        return call.type.depth == 1
    if fn in _MATH or fn == "abs":
        return all(a.type.depth == 0 for a in args)
    if fn in _SCALAR_VECOPS or fn in _RVEC_VECOPS or fn in ("Sum", "Concatenate", "Where"):
        return all(a.type.depth <= 1 for a in args) and (fn != "Sum" or len(args) == 1)
    if fn == "Take":
        return len(args) == 2 and args[0].type.depth == 1 and args[1].type.depth <= 1
    if fn in ("DeltaPhi", "DeltaR"):
        return all(a.type.depth == 0 for a in args)
    return False


def _dtype(t: CType) -> str:
    return f"np.{t.scalar.dtype.name}"


def _literal(value, t: CType) -> str:
    if t.scalar is Scalar.BOOL:
        return "True" if value else "False"
    if t.scalar.is_float:
        v = float(value)
        text = "math.inf" if v == math.inf else "-math.inf" if v == -math.inf else "math.nan" if v != v else repr(v)
        return text if t.scalar is Scalar.DOUBLE else f"np.float32({text})"
    return f"{_dtype(t)}({int(value)})"


class ModuleWriter:
    """Emit the functions of one program as a Python module for numba."""

    def __init__(self, buffers: set[str], functions: dict[str, P.Function] | None = None):
        self.functions = functions or {}
        self.loops: list[str] = []  # the element loops of Map/Filter/Sort calls (see element_loop)
        self.shared: dict[ir.Expr, str] = {}  # values computed once for several declarations (see declarations)
        self.lines: list[str] = []
        self.buffers = buffers  # ids of the RVec<T> variables held as (buffer, size)
        self.lazy: frozenset[str] = frozenset()  # Combinations variables read by element (see lazy_combinations)
        self.result: str | None = None  # in an entry function, the variable returned (see result_in_scratch)
        self.selections: dict[str, str] = {}  # in an entry function, values in scratch buffers (by variable)
        self.temp = 0

    def captures_of(self, function_id: str) -> tuple[P.Var, ...]:
        """The parameters of a lifted lambda after its own (its captured variables)."""
        fn = self.functions[function_id]
        return fn.params[fn.arity:] if fn.arity is not None else ()

    # -- expressions -------------------------------------------------------------------
    def expr(self, e: ir.Expr) -> str:
        shared = self.shared.get(e)
        if shared is not None:
            return shared
        method = getattr(self, f"expr_{type(e).__name__}")
        return method(e)

    def expr_Literal(self, e: ir.Literal) -> str:
        return _literal(e.value, e.type)

    def expr_Column(self, e: ir.Column) -> str:
        if e.name in self.buffers:
            return f"{e.name}[:{e.name}_n]"
        return e.name

    def expr_Cast(self, e: ir.Cast) -> str:
        x = self.expr(e.operand)
        t = e.type
        if t.depth == 0:
            return f"({x} != 0)" if t.scalar is Scalar.BOOL else f"{_dtype(t)}({x})"
        if t.scalar is Scalar.BOOL:
            operand = e.operand
            if isinstance(operand, ir.Binary) and operand.op in ("<", "<=", ">", ">=", "==", "!="):
                # a mask from a comparison (RVec<int> in C++): the comparison's booleans, without the int copy
                return f"({self.expr(operand.left)} {operand.op} {self.expr(operand.right)})"
            return f"({x} != 0)"
        return f"{x}.astype({_dtype(t)})"

    def expr_Unary(self, e: ir.Unary) -> str:
        x = self.expr(e.operand)
        t = e.type
        if e.op == "!":
            return f"(not {x})" if t.depth == 0 else f"({x} == 0).astype({_dtype(t)})"
        if t.depth:
            return f"({e.op}{x}).astype({_dtype(t)})"
        return f"{_dtype(t)}({e.op}{x})" if t.scalar.is_integral else f"({e.op}{x})"

    def expr_Binary(self, e: ir.Binary) -> str:
        left, right, t, op = self.expr(e.left), self.expr(e.right), e.type, e.op
        if t.scalar.is_vector4:
            system, other = _SYSTEMS[t.scalar], _SYSTEMS[e.right.type.scalar]
            verb = "add" if op == "+" else "sub"
            return f"rt.{system}_{verb}({left}, *rt.{other}_xyzt({right}))"
        if t.depth:
            if op in ("&&", "||"):
                fn = "logical_and" if op == "&&" else "logical_or"
                return f"np.{fn}({left}, {right}).astype({_dtype(t)})"
            if op in ("/", "%") and e.left.type.scalar.is_integral:
                raise NotImplementedError("integer division of RVecs")
            return f"({left} {op} {right}).astype({_dtype(t)})"
        if op in ("&&", "||"):
            return f"({left} {'and' if op == '&&' else 'or'} {right})"
        if op in ("<", "<=", ">", ">=", "==", "!="):
            return f"({left} {op} {right})"
        if t.scalar.is_integral:
            if op == "/":
                return f"{_dtype(t)}(rt.idiv({left}, {right}))"
            if op == "%":
                return f"{_dtype(t)}(rt.imod({left}, {right}))"
            return f"{_dtype(t)}({left} {op} {right})"
        return f"({left} {op} {right})"

    def expr_Ternary(self, e: ir.Ternary) -> str:
        return f"({self.expr(e.then)} if {self.expr(e.cond)} else {self.expr(e.other)})"

    def expr_Index(self, e: ir.Index) -> str:
        inner = e.value
        if isinstance(inner, ir.Index) and isinstance(inner.value, ir.Column) and inner.value.name in self.lazy:
            return f"rt.comb_item({inner.value.name}, {self.expr(inner.index)}, {self.expr(e.index)})"
        if isinstance(inner, ir.Index) and inner.value.type.depth == 2 and not e.type.scalar.is_vector4:
            # m[k][i]: one element of a row, without making the row's view
            return f"rt.item2({self.expr(inner.value)}, {self.expr(inner.index)}, {self.expr(e.index)})"
        value, index = self.expr(e.value), self.expr(e.index)
        vt = e.value.type
        if vt.depth == 2:
            return f"rt.row({value}, {index})"
        if vt.scalar.is_vector4:
            return f"rt.row4({value}, {index})"
        return f"{value}[{index}]"

    def expr_Mask(self, e: ir.Mask) -> str:
        if fused_mask(e):
            return self.select_loop(e)
        return f"{self.expr(e.value)}[{self.expr(e.mask)}]"

    def select_loop(self, e: ir.Mask, scratch: str | None = None) -> str:
        """``v[cond]`` for an element-wise ``cond`` (``eta[pt > 10 && abs(eta) < 2.4]``): one loop, no mask array.

        The condition is written for element ``i`` from the same IR (scalar nodes, each RVec
        operand read at ``[i]``); what is not element-wise (calls, scalars) is computed once by
        the caller and passed in. With ``scratch``, the selection is written there when it fits
        (see :func:`scratch_lets`).
        """
        self.temp += 1
        name = f"h{self.temp}"
        leaves: list[ir.Expr] = []
        index = ir.Column(CType(Scalar.LONG), "i")

        def scalar(node: ir.Expr) -> ir.Expr:
            if isinstance(node, ir.Literal):
                return node
            if node.type.depth == 1 and isinstance(node, (ir.Binary, ir.Unary, ir.Cast)) and node not in self.shared:
                if isinstance(node, ir.Binary):
                    return ir.Binary(node.type.element, node.op, scalar(node.left), scalar(node.right))
                if isinstance(node, ir.Unary):
                    return ir.Unary(node.type.element, node.op, scalar(node.operand))
                return ir.Cast(node.type.element, scalar(node.operand))
            if node not in leaves:
                leaves.append(node)
            leaf = ir.Column(node.type, f"a{leaves.index(node)}")
            return ir.Index(node.type.element, leaf, index) if node.type.depth else leaf

        cond = self.expr(scalar(e.mask))
        arrays = [f"a{k}" for k, leaf in enumerate(leaves) if leaf.type.depth]
        params = ["values", *(f"a{k}" for k in range(len(leaves))), *(["scratch"] if scratch else [])]
        lines = ["", _JIT_INLINE, f"def {name}({', '.join(params)}):", "    n = len(values)"]
        if arrays:
            lines += [f"    if {' or '.join(f'len({a}) != n' for a in arrays)}:",
                      "        raise IndexError('RVec mask and values have different sizes')"]  # fmt: skip
        out = "rt.scratch_or_new(scratch, n)" if scratch else "np.empty(n, values.dtype)"
        lines += [f"    out = {out}", "    m = 0", "    for i in range(n):", f"        if {cond}:",
                  "            out[m] = values[i]", "            m += 1", "    return out[:m]"]  # fmt: skip
        self.loops.extend(lines)
        args = [self.expr(e.value)] + [self.expr(leaf) for leaf in leaves] + ([scratch] if scratch else [])
        return f"{name}({', '.join(args)})"

    def expr_Call(self, e: ir.Call) -> str:
        fn, t = e.func, e.type
        args = [self.expr(a) for a in e.args]
        joined = ", ".join(args)
        if fn.startswith("cpp:"):
            return f"{fn[4:]}({joined})"
        if fn.startswith(("cpp.map:", "cpp.filter:", "cpp.sort:")):
            return f"{self.element_loop(e)}({joined})"
        if fn.startswith("vec4."):
            return self.vector(e, fn[5:], args)
        if fn == "RVec":
            if t.scalar.is_vector4:
                return f"rt.full4({args[0]}, {args[1]})"
            return f"np.full({args[0]}, {args[1]}, {_dtype(t)})"
        if fn == "RVecOf":
            if t.scalar.is_vector4:
                raise NotImplementedError("RVec<V>{...} of Lorentz vectors")
            return f"np.array(({joined},), dtype={_dtype(t)})"
        if fn == "cpp.rows":
            return f"rt.new_rows({args[0]}, {_literal(0, t.element.element)})"
        if fn == "size":
            sized = e.args[0]
            if isinstance(sized, ir.Index) and isinstance(sized.value, ir.Column) and sized.value.name in self.lazy:
                return f"np.uint64(rt.comb_size({sized.value.name}, {self.expr(sized.index)}))"
            if isinstance(sized, ir.Column) and sized.name in self.lazy:
                return f"np.uint64({sized.name}[1])"
            if isinstance(sized, ir.Index) and sized.value.type.depth == 2:  # m[k].size(): the row's size
                return f"np.uint64(rt.row_size({self.expr(sized.value)}, {self.expr(sized.index)}))"
            return f"np.uint64(len({args[0]}[1]))" if sized.type.depth == 2 else f"np.uint64(len({args[0]}))"
        if fn == "Combinations":
            a, b = e.args
            if a.type.depth == 1 and b.type.depth == 0:
                return f"rt.combinations(len({args[0]}), {args[1]})"
            n1 = f"len({args[0]})" if a.type.depth else args[0]
            n2 = f"len({args[1]})" if b.type.depth else args[1]
            return f"rt.combinations2({n1}, {n2})"
        if fn == "abs":
            return f"{_dtype(t)}(abs({joined}))"
        if fn in _MATH:
            return f"{_dtype(t)}({_MATH[fn]}({joined}))"
        if fn == "Sum":
            return f"{_dtype(t)}(rt.vsum({args[0]}, {_literal(0, t)}))"
        if fn in _SCALAR_VECOPS:
            return f"{_SCALAR_VECOPS[fn]}({joined})"
        if fn in _RVEC_VECOPS:
            return f"{_RVEC_VECOPS[fn]}({joined})"
        if fn == "Take":
            return f"rt.take_n({joined})" if e.args[1].type.depth == 0 else f"rt.take({joined})"
        if fn == "Concatenate":
            return f"rt.concatenate({args[0]}, {args[1]})"
        if fn == "Where":
            return f"np.where({args[0]} != 0, {args[1]}, {args[2]}).astype({_dtype(t)})"
        if fn == "DeltaPhi":
            c = args[2] if len(args) > 2 else _literal(math.pi, t)
            return f"{_dtype(t)}(rt.delta_phi({args[0]}, {args[1]}, {c}))"
        if fn == "DeltaR":
            c = args[4] if len(args) > 4 else _literal(math.pi, t)
            return (f"rt.delta_r_{t.scalar.dtype.name}({args[0]}, {args[1]}, {args[2]}, {args[3]}, {c})")
        raise NotImplementedError(fn)

    def element_loop(self, e: ir.Call) -> str:
        """A function calling a lambda once per element (Map, Filter, Sort): its name, defined in ``self.loops``.

        Generated per call, calling the lambda's function by name: passing a compiled function as
        an argument would keep numba from caching the caller.
        """
        kind, target = e.func[4:].split(":")
        n = len(e.args) - len(self.captures_of(target))
        self.temp += 1
        name = f"h{self.temp}"
        rvecs = [f"a{k}" for k in range(n)]
        caps = [f"c{k}" for k in range(len(e.args) - n)]
        rows = e.args[0].type.scalar.is_vector4

        def item(a: str, i: str) -> str:
            return f"({a}[{i}, 0], {a}[{i}, 1], {a}[{i}, 2], {a}[{i}, 3])" if rows else f"{a}[{i}]"

        lines = ["", _JIT_INLINE, f"def {name}({', '.join(rvecs + caps)}):"]
        body: list[str] = []
        if kind == "map":
            zero = "(0.0, 0.0, 0.0, 0.0)" if e.type.scalar.is_vector4 else _literal(0, e.type.element)
            if e.type.scalar.is_vector4:
                raise NotImplementedError("Map to Lorentz vectors")
            for a in rvecs[1:]:
                body += [f"if len({a}) != len(a0):", "    raise ValueError('Map: the RVecs have different sizes')"]
            call = f"{target}({', '.join([item(a, 'i') for a in rvecs] + caps)})"
            body += [f"out = np.full(len(a0), {zero})", "for i in range(len(a0)):", f"    out[i] = {call}", "return out"]
        elif kind == "filter":
            call = f"{target}({', '.join([item('a0', 'i')] + caps)})"
            body += ["keep = np.zeros(len(a0), np.bool_)", "for i in range(len(a0)):", f"    keep[i] = {call}",
                     "return a0[keep]"]  # fmt: skip
        else:  # std::sort(v, less): stable insertion sort with the comparator (RVecs in helpers are short)
            less = f"{target}({', '.join(['x', 'out[j]'] + caps)})"
            body += ["out = a0.copy()", "for i in range(1, len(out)):", "    x = out[i]", "    j = i - 1",
                     f"    while j >= 0 and {less}:", "        out[j + 1] = out[j]", "        j -= 1",
                     "    out[j + 1] = x", "return out"]  # fmt: skip
        self.loops.extend(lines + ["    " + line for line in body])
        return name

    def construct_loop(self, system: str, convert_to: str | None, args: tuple[ir.Expr, ...], scratch: bool = False) -> str:
        """A generated ``Construct<V>(a, b, c, d)`` (then converted to ``convert_to``), one vector per element.

        With ``scratch``, it takes a last argument, the buffer to write the vectors in when they fit.
        """
        self.temp += 1
        name = f"h{self.temp}"
        make = f"rt.{system}_new(a[i], b[i], c[i], d[i])"
        if convert_to is not None:
            make = f"rt.convert_{system}_to_{convert_to}({make})"
        out = "rt.scratch4_or_new(scratch, n)" if scratch else "np.empty((n, 4), np.float64)"
        self.loops.extend(["", _JIT_INLINE,
                           f"def {name}(a, b, c, d{', scratch' if scratch else ''}):", "    n = len(a)",
                           "    if len(b) != n or len(c) != n or len(d) != n:",
                           "        raise ValueError('Construct: the RVecs have different sizes')",
                           f"    out = {out}", "    for i in range(n):",
                           f"        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = {make}", "    return out"])  # fmt: skip
        return name

    def in_scratch(self, value: ir.Expr, scratch: str) -> str:
        """A value of :func:`scratch_lets` written in the batch's buffer ``scratch``."""
        if isinstance(value, ir.Mask):
            return self.select_loop(value, scratch)
        assert isinstance(value, ir.Call)
        target = _SYSTEMS[value.type.scalar]
        if value.func == "vec4.construct":
            loop = self.construct_loop(target, None, value.args, scratch=True)
            return f"{loop}({', '.join(self.expr(a) for a in value.args)}, {scratch})"
        inner = value.args[0]
        assert isinstance(inner, ir.Call)
        loop = self.construct_loop(_SYSTEMS[inner.type.scalar], target, inner.args, scratch=True)
        return f"{loop}({', '.join(self.expr(a) for a in inner.args)}, {scratch})"

    def vector(self, e: ir.Call, name: str, args: list[str]) -> str:
        t = e.type
        if name == "new":
            return f"rt.{_SYSTEMS[t.scalar]}_new({', '.join(args)})"
        if name == "construct":
            return f"{self.construct_loop(_SYSTEMS[t.scalar], None, e.args)}({', '.join(args)})"
        if name == "convert":
            source, target = _SYSTEMS[e.args[0].type.scalar], _SYSTEMS[t.scalar]
            inner = e.args[0]
            if t.depth and isinstance(inner, ir.Call) and inner.func == "vec4.construct" and inner not in self.shared:
                # Construct<V2>(Construct<V1>(pt, eta, phi, m)): both in one pass, one allocation
                return f"{self.construct_loop(source, target, inner.args)}({', '.join(self.expr(a) for a in inner.args)})"
            if t.depth:
                return f"rt.map4(rt.convert_{source}_to_{target}, {args[0]})"
            return f"rt.convert_{source}_to_{target}({args[0]})"
        if name in ("scale", "neg"):
            return f"rt.{_SYSTEMS[t.scalar]}_{name}({', '.join(args)})"
        if name in ("delta_r", "delta_r2", "delta_phi", "invariant_mass"):
            (s1, s2) = (_SYSTEMS[a.type.scalar] for a in e.args)
            if name == "invariant_mass":
                return f"rt.vu_invariant_mass(*rt.{s1}_xyzt({args[0]}), *rt.{s2}_xyzt({args[1]}))"
            if name == "delta_phi":
                return f"rt.vu_delta_phi(rt.{s1}_phi({args[0]}), rt.{s2}_phi({args[1]}))"
            return (f"rt.vu_{name}(rt.{s1}_eta({args[0]}), rt.{s1}_phi({args[0]}), rt.{s2}_eta({args[1]}), "
                    f"rt.{s2}_phi({args[1]}))")  # fmt: skip
        system = _SYSTEMS[e.args[0].type.scalar]
        return f"rt.{system}_{name}({args[0]})"

    # -- statements ------------------------------------------------------------------
    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    def store_rvec(self, indent: int, var_id: str, value: ir.Expr | None, t: CType) -> None:
        if value is None:
            buffer = "rt.empty4(8)" if t.scalar.is_vector4 else f"np.empty(8, {_dtype(t)})"
            self.emit(indent, f"{var_id} = {buffer}")
            self.emit(indent, f"{var_id}_n = 0")
            return
        code = self.expr(value)
        if not self.fresh(value):
            code = f"{code}.copy()"  # C++ copies: the new RVec must not share the other's elements
        self.emit(indent, f"{var_id} = {code}")
        self.emit(indent, f"{var_id}_n = len({var_id})")

    def statements(self, stmts: Iterable[P.Stmt], indent: int) -> None:
        stmts = list(stmts)
        if not stmts:
            self.emit(indent, "pass")
        k = 0
        while k < len(stmts):
            if not isinstance(stmts[k], P.Let):
                self.statement(stmts[k], indent)
                k += 1
                continue
            run = [stmts[k]]
            while k + len(run) < len(stmts) and isinstance(stmts[k + len(run)], P.Let):
                run.append(stmts[k + len(run)])
            self.declarations(run, indent)  # type: ignore[arg-type]
            k += len(run)

    def fresh(self, value: ir.Expr) -> bool:
        """Whether an RVec value is a new array (else a variable that stores it must copy it, as C++ does)."""
        if value in self.shared or isinstance(value, (ir.Column, ir.Index)):
            return False
        if isinstance(value, ir.Ternary):
            return self.fresh(value.then) and self.fresh(value.other)
        return True

    def declarations(self, run: list[P.Let], indent: int) -> None:
        """Consecutive declarations; an RVec computation two of them repeat is computed once, before them.

        ``eta2[pt2 > 10]`` and ``phi2[pt2 > 10]`` share the mask. Declarations change no existing
        variable and calls have no side effects, so the value is the same at each use, provided it
        reads no variable the run declares.
        """
        declared = {s.var.id for s in run}
        seen: dict[ir.Expr, int] = {}
        # a fused selection's condition is computed in its loop (select_loop): sharing it would make the array
        conditions = {c for s in run if s.value is not None for n in s.value.walk()
                      if isinstance(n, ir.Mask) and fused_mask(n) for c in elementwise_nodes(n.mask)}  # fmt: skip
        for s in run:
            if s.value is None:
                continue
            for node in set(s.value.walk()) - conditions:
                if (node.type.depth and isinstance(node, (ir.Binary, ir.Call, ir.Mask, ir.Cast))
                        and not ir.free_columns(node) & declared and node not in self.shared):  # fmt: skip
                    seen[node] = seen.get(node, 0) + 1
        repeated = [node for node, count in seen.items() if count > 1]
        # outermost first: a repeated node inside a repeated node is computed once inside it anyway
        repeated = [n for n in repeated if not any(n is not m and n in set(m.walk()) for m in repeated)]
        added = []
        for node in repeated:
            self.temp += 1
            name = f"k{self.temp}"
            self.emit(indent, f"{name} = {self.expr(node)}")
            self.shared[node] = name
            added.append(node)
        for s in run:
            self.statement(s, indent)
        for node in added:
            del self.shared[node]

    def statement(self, s: P.Stmt, indent: int) -> None:
        if isinstance(s, (P.Let, P.Assign)):
            var, value = s.var, s.value
            if var.id in self.lazy:
                assert isinstance(value, ir.Call)
                a, b = value.args
                if b.type.depth:
                    self.emit(indent, f"{var.id} = rt.comb2(len({self.expr(a)}), len({self.expr(b)}))")
                else:
                    n = f"len({self.expr(a)})" if a.type.depth else self.expr(a)
                    self.emit(indent, f"{var.id} = rt.comb({n}, {self.expr(b)})")
                return
            if var.id == self.result and isinstance(s, P.Let):  # the result's storage: the caller's scratch
                if value is None:
                    self.emit(indent, f"{var.id} = scratch")
                    self.emit(indent, f"{var.id}_n = 0")
                    return
                assert isinstance(value, ir.Call)
                self.emit(indent, f"{var.id} = rt.full_into(scratch, {', '.join(self.expr(a) for a in value.args)})")
                if var.id in self.buffers:
                    self.emit(indent, f"{var.id}_n = len({var.id})")
                return
            if var.id in self.selections:
                assert value is not None
                self.emit(indent, f"{var.id} = {self.in_scratch(value, self.selections[var.id])}")
                return
            if var.id in self.buffers:
                self.store_rvec(indent, var.id, value, var.type.element)
            elif value is None:
                self.emit(indent, f"{var.id} = {self.zero(var.type)}")
            else:
                code = self.expr(value)
                if var.type.depth == 2 and not self.fresh(value):
                    code = f"({code}[0].copy(), {code}[1].copy())"
                elif var.type.depth == 1 and not self.fresh(value):
                    code = f"{code}.copy()"  # C++ copies: the new RVec must not share the other's elements
                self.emit(indent, f"{var.id} = {code}")
        elif isinstance(s, P.SetItem):
            item = s.target
            code = self.expr(s.value)
            if isinstance(item.value, ir.Column) and item.value.type.scalar.is_vector4:
                self.emit(indent, f"rt.set_row4({self.expr(item.value)}, {self.expr(item.index)}, {code})")
            else:
                self.emit(indent, f"{self.expr(item.value)}[{self.expr(item.index)}] = {code}")
        elif isinstance(s, P.Append):
            code = self.expr(s.value)
            if isinstance(s.target, ir.Column):
                vid = s.target.name
                fn = "rt.push4" if s.target.type.scalar.is_vector4 else "rt.push"
                self.emit(indent, f"{vid}, {vid}_n = {fn}({vid}, {vid}_n, {code})")
            else:
                assert isinstance(s.target, ir.Index) and isinstance(s.target.value, ir.Column)
                vid = s.target.value.name
                self.emit(indent, f"{vid} = rt.row_push({vid}, {self.expr(s.target.index)}, {code})")
        elif isinstance(s, P.Resize):
            resized = s.target
            if isinstance(resized, ir.Column) and resized.name in self.buffers:
                vid = resized.name
                self.emit(indent, f"{vid}, {vid}_n = rt.resize({vid}, {vid}_n, {self.expr(s.size)}, {self.expr(s.fill)})")
            elif isinstance(resized, ir.Column) and resized.type.depth == 2:
                self.emit(indent, f"{resized.name} = rt.new_rows(0, {_literal(0, resized.type.element.element)})")
            else:
                raise NotImplementedError("resize of this target")
        elif isinstance(s, P.If):
            self.emit(indent, f"if {self.expr(s.cond)}:")
            self.statements(s.then, indent + 1)
            if s.other:
                self.emit(indent, "else:")
                self.statements(s.other, indent + 1)
        elif isinstance(s, P.Loop):
            self.emit(indent, f"while {self.expr(s.cond)}:")
            self.statements((*s.body, *s.step), indent + 1)
        elif isinstance(s, P.ForEach):
            values = self.expr(s.range)
            if s.var.type.scalar.is_vector4:
                self.temp += 1
                k = f"k{self.temp}"
                self.emit(indent, f"for {k} in range(len({values})):")
                self.emit(indent + 1, f"{s.var.id} = rt.row4({values}, {k})")
            else:
                self.emit(indent, f"for {s.var.id} in {values}:")
            self.statements(s.body, indent + 1)
        elif isinstance(s, P.Break):
            self.emit(indent, "break")
        elif isinstance(s, P.Continue):
            for step in s.step:
                self.statement(step, indent)
            self.emit(indent, "continue")
        elif isinstance(s, P.Return):
            value = s.value
            if self.result == "" and isinstance(value, ir.Call) and value.func == "RVecOf":  # return {a, b, c};
                self.emit(indent, f"return rt.tuple_into(scratch, ({', '.join(self.expr(a) for a in value.args)},))")
            else:
                self.emit(indent, f"return {self.expr(value)}")
        else:  # pragma: no cover - every statement kind is handled above
            raise NotImplementedError(type(s).__name__)

    def zero(self, t: CType) -> str:
        if t.depth == 1:
            return "rt.empty4(0)" if t.scalar.is_vector4 else f"np.empty(0, {_dtype(t)})"
        if t.scalar.is_vector4:
            return "(0.0, 0.0, 0.0, 0.0)"
        if t.depth == 2:
            return f"rt.new_rows(0, {_literal(0, t.element.element)})"
        return _literal(0, t)

    def function(self, fn: P.Function, entry: bool = False) -> None:
        """``fn`` as ``f<k>``, or as ``e<k>``: the per-event body of its batch function.

        ``e<k>`` is inlined into the batch loop (numba inlining): a call per event would pass each
        RVec as an array struct and count its references, which costs more than most helpers'
        work; it may build its result in the batch's scratch buffer (:func:`result_in_scratch`).
        """
        self.lazy = lazy_combinations(fn)
        self.result = result_in_scratch(fn) if entry else None
        lets = scratch_lets(fn) if entry else []
        self.selections = {let.var.id: f"scratch{k + 1}" for k, let in enumerate(lets)}
        copied = [p for p in fn.params if p.id in self.buffers or p.id in fn.copied]
        params = [f"{p.id}_in" if p in copied else p.id for p in fn.params]
        if self.result is not None:
            params.append("scratch")
        params += self.selections.values()
        self.emit(0, "")
        self.emit(0, _JIT_INLINE if entry else _JIT)
        self.emit(0, f"def {'e' + fn.id[1:] if entry else fn.id}({', '.join(params)}):")
        entry_copies = copied
        for p in entry_copies:  # by-value RVec parameters the body changes: a copy, as C++ passes them
            self.emit(1, f"{p.id} = {p.id}_in.copy()")
            if p.id in self.buffers:
                self.emit(1, f"{p.id}_n = len({p.id})")
        self.statements(fn.body, 1)
        self.result, self.selections = None, {}


def batch_function(fn: P.Function) -> list[str]:
    """``b<id>``: ``fn`` over a batch of events, its arguments gathered per event.

    Scalars arrive as one array per argument, RVecs as (values, offsets), RVec<RVec<T>> as (values,
    inner offsets, outer offsets). A number result fills ``out``; an RVec result fills ``offsets``
    and returns the values (a buffer doubled when full); an RVec<RVec<T>> result also fills the
    inner sizes. Generated, not a generic loop: explicit arguments compile to a tight loop, and
    the module's disk cache keeps it.
    """
    params: list[str] = []
    args: list[str] = []
    checks: list[str] = []  # the offsets of the event's RVecs lie in their columns (see rt.event_view)
    for k, p in enumerate(fn.params):
        if p.type.depth == 2:
            params += [f"p{k}", f"p{k}_in", f"p{k}_out"]
            args.append(f"rt.event_rows(p{k}, p{k}_in, p{k}_out, i)")
        elif p.type.depth == 1:
            params += [f"p{k}", f"p{k}_off"]
            args.append(f"rt.event_view(p{k}, p{k}_off[i], p{k}_off[i + 1])")
            checks.append(f"p{k}_off[i] < 0 or p{k}_off[i + 1] < p{k}_off[i] or p{k}_off[i + 1] > len(p{k})")
        else:
            params.append(f"p{k}")
            args.append(f"p{k}[i]")
    scratch = result_in_scratch(fn) is not None
    if scratch:
        args.append("scratch")
    selections = scratch_lets(fn)
    args += [f"scratch{k + 1}" for k in range(len(selections))]
    call = f"e{fn.id[1:]}({', '.join(args)})"
    depth = fn.returns.depth
    outputs = {0: ["out"], 1: ["offsets", "values"], 2: ["outer", "counts", "values"]}[depth]
    # the flags of the inlined e<k> are the batch function's: bounds checks and C++ division as in f<k>
    lines = ["", _JIT, f"def b{fn.id[1:]}(n, {', '.join(params + outputs)}):"]
    loop = [f"    scratch{k + 1} = np.empty({'(64, 4)' if let.var.type.scalar.is_vector4 else 64}, "
            f"{'np.float64' if let.var.type.scalar.is_vector4 else _dtype(let.var.type)})" for k, let in enumerate(selections)]
    loop += ["    for i in range(n):"]
    if checks:
        loop += [f"        if {' or '.join(checks)}:", "            raise ValueError('RVec offsets outside their column')"]
    if depth == 0:
        return lines + [*loop, f"        out[i] = {call}"]
    grow = ["            if pos + m > len(values):",
            "                grown = np.empty(max(2 * len(values), pos + m), values.dtype)",
            "                for k in range(pos):",
            "                    grown[k] = values[k]",
            "                values = grown"]  # fmt: skip
    if depth == 1:
        buffer = ["    scratch = np.empty(64, values.dtype)"] if scratch else []
        return lines + [*buffer, "    pos = 0", *loop, f"        r = {call}", "        m = len(r)",
                        *[g[4:] for g in grow], "        for k in range(m):", "            values[pos + k] = r[k]",
                        "        pos += m", "        offsets[i + 1] = pos", "    return values[:pos]"]  # fmt: skip
    return lines + ["    rows = 0", "    pos = 0", *loop, f"        data, sizes = {call}",
                    "        for r in range(len(sizes)):", "            if rows == len(counts):",
                    "                grown_counts = np.empty(2 * len(counts), np.int64)",
                    "                grown_counts[:rows] = counts[:rows]", "                counts = grown_counts",
                    "            m = sizes[r]", *grow, "            for k in range(m):",
                    "                values[pos + k] = data[r, k]", "            counts[rows] = m", "            rows += 1",
                    "            pos += m", "        outer[i + 1] = rows", "    return counts[:rows], values[:pos]"]  # fmt: skip


def fused_mask(e: ir.Mask) -> bool:
    """Whether ``v[cond]`` is generated as one loop (:meth:`ModuleWriter.select_loop`): ``cond`` is element-wise."""
    return (e.type.depth == 1 and not e.type.scalar.is_vector4 and e.mask.type.depth == 1
            and isinstance(e.mask, (ir.Binary, ir.Unary, ir.Cast)))  # fmt: skip


def elementwise_nodes(e: ir.Expr) -> Iterable[ir.Expr]:
    """The RVec operators of ``e`` that :meth:`ModuleWriter.select_loop` writes element by element."""
    if e.type.depth == 1 and isinstance(e, (ir.Binary, ir.Unary, ir.Cast)):
        yield e
        for child in e.children():
            yield from elementwise_nodes(child)


def lazy_combinations(fn: P.Function) -> frozenset[str]:
    """Ids of the variables declared as ``Combinations(...)`` and only read as ``c[r][i]``, ``c[r].size()``, ``c.size()``.

    They hold (n, k, count, ...) instead of the index arrays (:func:`hepframe.cpp.runtime.comb`): an
    event's helper call then allocates nothing for them. Any other use (a row ``c[0]``, a copy, a
    write, an argument, a capture) keeps the arrays.
    """
    candidates: set[str] = set()
    written: set[str] = set()

    def visit(stmts):
        for s in stmts:
            if isinstance(s, P.Let) and isinstance(s.value, ir.Call) and s.value.func == "Combinations":
                candidates.add(s.var.id)
            if isinstance(s, P.Assign):
                written.add(s.var.id)
            if isinstance(s, (P.SetItem, P.Append, P.Resize)):
                written.update(ir.free_columns(s.target))
            for name in ("then", "other", "body", "step"):
                visit(getattr(s, name, ()))

    visit(fn.body)
    candidates -= written
    if not candidates:
        return frozenset()
    uses: dict[str, int] = {}
    element_reads: dict[str, int] = {}
    for top in P.walk_exprs(fn.body):
        for node in top.walk():
            if isinstance(node, ir.Column) and node.name in candidates:
                uses[node.name] = uses.get(node.name, 0) + 1
            read = None
            if isinstance(node, ir.Index) and isinstance(node.value, ir.Index):
                read = node.value.value  # c[r][i]
            elif isinstance(node, ir.Call) and node.func == "size":
                sized = node.args[0]
                read = sized.value if isinstance(sized, ir.Index) else sized  # c[r].size(), c.size()
            if isinstance(read, ir.Column) and read.name in candidates:
                element_reads[read.name] = element_reads.get(read.name, 0) + 1
    return frozenset(c for c in candidates if uses.get(c, 0) == element_reads.get(c, 0))


def result_in_scratch(fn: P.Function) -> str | None:
    """How the batch's entry function ``e<k>`` can build ``fn``'s RVec result in the batch's scratch buffer.

    The batch function copies each event's result out before the next call, so the result may live
    in one buffer reused for every event instead of a new array per event. Returns the variable
    every ``return`` returns when it is declared once, at the top of the body, empty or as
    ``RVec<T>(n, value)``; ``""`` when every ``return`` is a brace list; None otherwise (no entry
    function: the batch calls ``f<k>``). A result larger than the buffer is allocated as before.
    """
    t = fn.returns
    if t.depth != 1 or t.scalar.is_vector4:
        return None
    returns: list[ir.Expr] = []

    def visit(stmts):
        for s in stmts:
            if isinstance(s, P.Return):
                returns.append(s.value)
            for name in ("then", "other", "body", "step"):
                visit(getattr(s, name, ()))

    visit(fn.body)
    if returns and all(isinstance(r, ir.Call) and r.func == "RVecOf" for r in returns):
        return ""
    names = {r.name for r in returns if isinstance(r, ir.Column)}
    if len(names) != 1 or len(returns) != sum(isinstance(r, ir.Column) for r in returns):
        return None
    (name,) = names
    for s in fn.body:
        if isinstance(s, P.Let) and s.var.id == name and s.var.type == t:
            if s.value is None or (isinstance(s.value, ir.Call) and s.value.func == "RVec" and len(s.value.args) == 2):
                return name
    return None


def scratch_lets(fn: P.Function) -> list[P.Let]:
    """The declarations whose value the batch's entry function writes in scratch buffers.

    Declarations at the top of the body (each runs once per event, so one buffer per
    declaration, reused for every event) of element-wise selections ``auto x = v[cond];``
    (:func:`fused_mask`) and of ``Construct<V>(...)`` of four RVecs, for variables that are never
    changed: the value dies with the call, and a copy (assignment, return) copies it out, as
    C++ copies.
    """
    changed = buffer_vars([fn])
    for s in P.walk_stmts(fn.body):
        if isinstance(s, P.Assign):
            changed.add(s.var.id)
        elif isinstance(s, (P.SetItem, P.Append, P.Resize)):
            changed.update(ir.free_columns(s.target))

    def in_scratch(value: ir.Expr | None) -> bool:
        if isinstance(value, ir.Mask):
            return fused_mask(value)
        if isinstance(value, ir.Call) and value.type.depth == 1 and value.func == "vec4.construct":
            return len(value.args) == 4
        return (isinstance(value, ir.Call) and value.type.depth == 1 and value.func == "vec4.convert"
                and isinstance(value.args[0], ir.Call) and value.args[0].func == "vec4.construct"
                and len(value.args[0].args) == 4)  # fmt: skip

    return [s for s in fn.body if isinstance(s, P.Let) and in_scratch(s.value) and s.var.id not in changed
            and s.value is not None and s.var.type == s.value.type]  # fmt: skip


def buffer_vars(functions: Iterable[P.Function]) -> set[str]:
    """Ids of the RVec<T> variables that grow or shrink (push_back, resize): held as (buffer, size) pairs.

    Every other RVec variable is a plain array: its reads need no slicing.
    """
    out: set[str] = set()

    def visit(stmts):
        for s in stmts:
            if isinstance(s, (P.Append, P.Resize)) and isinstance(s.target, ir.Column) and s.target.type.depth == 1:
                out.add(s.target.name)
            for name in ("then", "other", "body", "step"):
                visit(getattr(s, name, ()))

    for fn in functions:
        visit(fn.body)
    return out


def module_source(functions: list[P.Function], constants: list[P.Constant], exported: Iterable[P.Function] = ()) -> str:
    """The Python module defining ``functions`` (callees first) and the constants they read.

    Each ``exported`` function also gets its batch function (``b<id>``, :func:`batch_function`).
    """
    writer = ModuleWriter(buffer_vars(functions), {fn.id: fn for fn in functions})
    writer.emit(0, "# Generated by hepframe.cpp from the typed IR of declared C++ functions. Do not edit.")
    # numba's cache does not see changes in the functions a cached one calls: naming the runtime's
    # version here gives a new module (and a fresh cache) whenever the runtime changes.
    writer.emit(0, f"# runtime {runtime_version()}")
    writer.emit(0, "import math")
    writer.emit(0, "import numba")
    writer.emit(0, "import numpy as np")
    writer.emit(0, "from hepframe.cpp import runtime as rt")
    writer.emit(0, "")
    for c in constants:
        writer.emit(0, f"{c.var.id} = {writer.expr(c.value)}")
    for fn in functions:
        writer.function(fn)
    for fn in exported:
        writer.function(fn, entry=True)
    batches = [line for fn in exported for line in batch_function(fn)]
    return "\n".join(writer.lines + writer.loops + batches) + "\n"


@functools.cache
def runtime_version() -> str:
    """A hash of the sources the generated code calls into (runtime, GenVector and kinematics ports)."""
    from hepframe.cpp import runtime
    from hepframe.udfs import genvector, kinematics

    digest = hashlib.sha256()
    for module in (runtime, genvector, kinematics):
        with open(module.__file__, "rb") as f:  # type: ignore[arg-type]
            digest.update(f.read())
    return digest.hexdigest()[:16]


def _module_dir() -> str:
    from hepframe.connectors.cache import default_directory

    path = os.path.join(str(default_directory()), "cpp")
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return path
    except OSError:  # a read-only cache: compile in a private directory (no reuse between processes)
        private = os.path.join(tempfile.gettempdir(), f"hepframe-cpp-{os.getuid()}")
        os.makedirs(private, mode=0o700, exist_ok=True)
        return private


def load_module(source: str):
    """Import the generated ``source`` from a file named by its hash (written once, atomically)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:24]
    name = f"hepframe_cpp_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    directory = _module_dir()
    path = os.path.join(directory, f"{name}.py")
    if not os.path.exists(path) or open(path, encoding="utf-8").read() != source:
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(source)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
