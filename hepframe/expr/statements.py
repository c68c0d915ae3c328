"""C++ statement blocks (a ``Define`` or ``Filter`` body with ``return``) lowered to one expression.

:class:`StatementLowering` runs a block symbolically, once, binding each expression in it with
the :class:`~hepframe.expr.binder.Binder` that dispatched the block; docs/expressions.md
("Statement blocks") describes what users may write. The rules:

- A local holds the IR of its current value and a use of the local is that IR (let-inlining);
  declarations and assignments convert with explicit ``Cast`` nodes, as C++ does.
- An ``if`` that does not return merges each local it changes into ``cond ? then : else``; an
  ``if`` that returns becomes ``cond ? (its branch, then the rest) : (the rest)``. The IR's
  Ternary evaluates only the taken branch, as C++ does.
- Every path must return, all returns must have one type, and nothing may follow a return.
- A loop runs its body once on a scalar placeholder for the loop variable. Outer locals the
  body changes are accumulators: it may only add to them (``+=``, ``-=``, ``++``, ``--``) and
  never read them. Each addend is vectorized into an RVec over the iterations (element-wise
  operators, ``Where``, ``Take``) and summed from the accumulator's value bit for bit as C++'s
  loop (:meth:`Binder.fold_sum <hepframe.expr.binder.Binder.fold_sum>`).
- Whatever no expression reproduces exactly is refused with an ``UnsupportedSyntaxError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from hepframe.errors import UnknownColumnError, UnsupportedSyntaxError, did_you_mean
from hepframe.expr import ir
from hepframe.expr import syntax as S
from hepframe.expr.binder import (
    _COMPARISONS,
    _LOGICAL,
    ENTRY_COLUMN,
    SLOT_COLUMN,
    Binder,
    convert_literal,
    template_ctype,
)
from hepframe.expr.parser import MAX_HEIGHT, MAX_TOKENS
from hepframe.expr.types import BOOL, INT, SIZE_T, CType, Scalar, common_scalar


@dataclass(frozen=True)
class Local:
    """A local variable of a statement block: its declared type and current value (let-inlining)."""

    type: CType
    value: ir.Expr | None  # None: not initialized (on some path); for an accumulator: its per-iteration addend
    pos: int
    const: bool = False
    role: str = "local"  # "local", "loop" (a loop variable) or "accumulator" (updated by the loop being lowered)


@dataclass(frozen=True)
class Loop:
    """A loop being lowered: each scalar placeholder of the body stands for an RVec over the iterations."""

    placeholders: dict[str, ir.Expr]  # placeholder column name -> its values, one per iteration
    extent: ir.Expr  # an RVec with one element per iteration (its size broadcasts loop-invariant values)
    counted: ir.Expr | None = None  # 'for (i = 0; i < v.size(); ++i)': v, so that v[i] lowers to v itself
    counter: str | None = None  # placeholder name of that loop's index


_END_SCOPE = S.Node(-1)  # marks the end of a block in the statements still to run (StatementLowering.run)
#: Functions that apply element by element, identically on a scalar or on each element of an RVec.
_ELEMENTWISE = {"sqrt", "cbrt", "exp", "exp2", "expm1", "log", "log10", "log2", "log1p", "sin", "cos", "tan", "asin",
                "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "floor", "ceil", "round", "trunc",
                "erf", "erfc", "pow", "atan2", "hypot", "fmod", "fabs", "DeltaPhi"}  # fmt: skip


class StatementLowering:
    """The symbolic run of one statement block: scopes of locals and the loop being lowered.

    ``binder`` binds the expressions of the block; it asks this object for the locals
    (:meth:`scope_of`, :meth:`read_local`) and where a gRandom draw may be
    (:meth:`check_draw`, :meth:`record_draw`).
    """

    def __init__(self, binder: Binder):
        self.binder = binder
        # Scopes of locals, innermost last; the loop being lowered; the draws stored in locals;
        # and the deduced return type.
        self.scopes: list[dict[str, Local]] = []
        self.loop: Loop | None = None
        self.branch_depth = 0
        self.in_return = False
        self.stored_draws: list[S.RandomCall] = []
        self.return_type: CType | None = None
        self._measures: dict[int, tuple[ir.Expr, int, int]] = {}
        self._returns_inside: dict[int, bool] = {}

    def lower(self, node: S.Block) -> ir.Expr:
        """A body with statements: run symbolically, each local holding the IR of its current value.

        Assignments replace a local's value; an ``if`` that does not return merges the two versions
        of each local with a Ternary; an ``if`` that returns forks the rest of the body into both
        branches of a Ternary; loops become exact reductions (see run_loop). Ternary evaluates only
        the taken branch, as C++ does.
        """
        self.check_flow(node)
        result = self.run((node,))
        self.check_stored_draws(result)
        return result

    def run(self, work: tuple[S.Node, ...]) -> ir.Expr:
        """Run ``work`` (statements, and _END_SCOPE after each block's) up to a return: its value."""
        pending = list(reversed(work))  # a stack: blocks expand in place, without recursion
        while pending:
            item = pending.pop()
            if item is _END_SCOPE:
                self.scopes.pop()
            elif isinstance(item, S.Return):
                return self.bind_return(item)
            elif isinstance(item, S.Block):
                self.scopes.append({})
                pending += [_END_SCOPE, *reversed(item.statements)]
            elif isinstance(item, S.If) and self.returns_inside(item):
                return self.run_returning_if(item, tuple(reversed(pending)))
            else:
                self.execute(item)
        raise self.binder.type_error("not every path returns a value (C++: 'non-void function does not return a value in "
                                     "all control paths'); end the body with a return", S.Node(len(self.binder.text)))  # fmt: skip

    def run_returning_if(self, node: S.If, rest: tuple[S.Node, ...]) -> ir.Expr:
        """``cond ? (then, rest) : (else, rest)``: the rest of the body runs in both branches."""
        if self.branch_depth >= MAX_HEIGHT:  # each level is a Ternary: refuse before recursing deeper
            raise UnsupportedSyntaxError(f"more than {MAX_HEIGHT} nested conditions; split the computation into "
                                         "several Defines", self.binder.text, node.pos)  # fmt: skip
        cond = self.condition(node.cond)
        saved = [dict(scope) for scope in self.scopes]
        with self.branch():
            then = self.run((node.then, *rest))
            self.scopes = [dict(scope) for scope in saved]
            other = self.run(((node.other,) if node.other else ()) + rest)
        result = ir.Ternary(then.type, cond, then, other)  # bind_return made both types equal
        self.check_size(result, node)
        return result

    def bind_return(self, node: S.Return) -> ir.Expr:
        if self.loop is not None:
            raise self.binder.unsupported_statement("a return inside a loop", node)
        self.in_return = True
        try:
            value = self.binder.bind(node.value)
        finally:
            self.in_return = False
        if self.return_type is None:
            self.return_type = value.type
        elif value.type != self.return_type:
            raise self.binder.type_error(
                f"this return gives {value.type.short}, an earlier one {self.return_type.short}: C++ deduces one "
                "return type for the whole body (ROOT refuses this); convert one of them, e.g. with static_cast", node)  # fmt: skip
        self.check_size(value, node)
        return value

    def execute(self, node: S.Node) -> None:
        """Run one statement that does not return (its effect is on the locals)."""
        if isinstance(node, S.Block):
            self.scopes.append({})
            for statement in node.statements:
                self.execute(statement)
            self.scopes.pop()
        elif isinstance(node, S.Declaration):
            self.declare(node)
        elif isinstance(node, S.Assign):
            self.assign(node)
        elif isinstance(node, S.If):
            self.run_if(node)
        elif isinstance(node, S.RangeFor):
            self.run_range_for(node)
        elif isinstance(node, S.IndexFor):
            self.run_index_for(node)
        elif isinstance(node, S.Return):  # only a loop body runs a return through here
            raise self.binder.unsupported_statement("a return inside a loop", node)
        else:  # pragma: no cover - the parser builds no other statement
            raise self.binder.unsupported_statement(f"the statement {type(node).__name__}", node)

    def run_if(self, node: S.If) -> None:
        """An if that does not return: each local changed by a branch becomes ``cond ? then : else``."""
        cond = self.condition(node.cond)
        before = [dict(scope) for scope in self.scopes]
        with self.branch():
            self.execute(node.then)
            then_scopes = self.scopes
            self.scopes = [dict(scope) for scope in before]
            if node.other is not None:
                self.execute(node.other)
        for then_scope, scope in zip(then_scopes, self.scopes, strict=True):
            for name, local in scope.items():
                if then_scope[name] is not local:
                    scope[name] = self.merge_local(cond, then_scope[name], local, node)

    def merge_local(self, cond: ir.Expr, then: Local, other: Local, node: S.Node) -> Local:
        if then.role == "accumulator":  # addends of this iteration: a branch without one adds nothing
            if then.value is None and other.value is None:
                return then
            values = [self.no_addend(then.type) if x is None else x for x in (then.value, other.value)]
        elif then.value is None or other.value is None:
            return replace(then, value=None)  # uninitialized on one path
        else:
            values = [then.value, other.value]
        merged = ir.Ternary(then.type, cond, values[0], values[1])
        self.check_size(merged, node)
        return replace(then, value=merged)

    @contextmanager
    def branch(self) -> Iterator[None]:
        self.branch_depth += 1
        try:
            yield
        finally:
            self.branch_depth -= 1

    def condition(self, node: S.Node) -> ir.Expr:
        cond = self.binder.bind(node)
        if cond.type.depth or not cond.type.scalar.is_arithmetic:
            raise self.binder.type_error(f"a condition must be a number or bool, got {cond.type.short}", node)
        return self.binder.cast(cond, BOOL)

    # -- locals --------------------------------------------------------------------------
    def scope_of(self, name: str) -> dict[str, Local] | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope
        return None

    def read_local(self, name: str, local: Local, node: S.Node) -> ir.Expr:
        if local.role == "accumulator":
            raise self.binder.unsupported_statement(
                f"reading {name!r} in the loop that updates it (a loop-carried dependency: each iteration would "
                "depend on the previous one)", node)  # fmt: skip
        if local.value is None:
            raise self.binder.type_error(f"{name!r} is used uninitialized (undefined behaviour in C++)", node)
        return local.value

    def check_draw(self, node: S.RandomCall) -> None:
        """Refuse a gRandom draw under an if or in a loop: the draws must not depend on the path."""
        if self.branch_depth and not self.in_return:
            raise self.binder.unsupported_statement("a gRandom draw inside an if or for statement (draw into a local "
                                                    "before it, or in the returned expression)", node)  # fmt: skip

    def record_draw(self, node: S.RandomCall) -> None:
        """Note a draw outside the returned expression (its value is stored in a local)."""
        if self.scopes and not self.in_return:
            self.stored_draws.append(node)

    def declare(self, node: S.Declaration) -> None:
        scope = self.scopes[-1]
        if node.name in scope:
            raise self.binder.type_error(f"redefinition of {node.name!r}", node)
        if len(self.scopes) == 1 and (node.name in self.binder.schema or node.name in (ENTRY_COLUMN, SLOT_COLUMN)):
            raise self.binder.type_error(
                f"{node.name!r} is a column: ROOT passes the columns a body uses as its parameters, so this "
                "redeclares one (C++: redefinition); choose another name", node)  # fmt: skip
        spec = node.type
        if spec.reference and any(self.scope_of(name) for arg in node.args for name in _names_in(arg)):
            # It would alias the local (or its elements): later assignments would show through it.
            raise self.binder.unsupported_statement("a reference bound to a local variable", node)
        value = self.initial_value(node)
        ctype = value.type if spec.name == "auto" and value is not None else template_ctype(spec.name)
        if value is not None:
            self.check_size(value, node)
        # A reference binds a column (a const parameter) or a temporary: hepframe keeps it read-only.
        scope[node.name] = Local(ctype, value, node.pos, const=spec.const or bool(spec.reference))

    def initial_value(self, node: S.Declaration) -> ir.Expr | None:
        """The value a declaration gives, converted to the declared type as C++ initialization does."""
        spec, args = node.type, node.args
        if spec.name == "auto":
            if node.init == "={}":
                raise self.binder.unsupported_statement("'auto x = {...}' (a std::initializer_list)", node)
            if len(args) != 1:
                raise self.binder.type_error(f"'auto {node.name}' needs exactly one initial value", node)
            value = self.binder.bind(args[0])
            if value.type.scalar is Scalar.STRING:
                raise self.binder.type_error("a local cannot hold a string", node)
            return value
        target = template_ctype(spec.name)
        if spec.array_size is not None:
            if node.init not in ("{}", "={}"):
                raise self.binder.type_error(f"give std::array its elements, e.g. std::array<{spec.name[5:-1]}, "
                                             f"{spec.array_size}> {node.name}{{a, b}}", node)  # fmt: skip
            if len(args) > spec.array_size:
                raise self.binder.type_error(f"too many initializers for std::array of size {spec.array_size}", node)
            zeros = tuple(S.Number(node.pos, "0", 0, Scalar.INT) for _ in range(spec.array_size - len(args)))
            return self.binder.bind_rvec_list(S.Call(node.pos, "RVecOf", args + zeros, template=spec.name[5:-1]))
        if target.depth:
            if node.init in ("{}", "={}"):
                return self.binder.bind_rvec_list(S.Call(node.pos, "RVecOf", args, template=spec.name[5:-1]))
            if node.init in ("()", ""):
                return self.binder.bind_rvec_constructor(S.Call(node.pos, "RVec", args, template=spec.name[5:-1]))
        elif node.init == "":
            return None
        elif node.init in ("{}", "={}") and not args:
            return ir.Literal(target, convert_literal(0, target.scalar))  # value-initialized
        if len(args) != 1:
            raise self.binder.type_error(f"a {target.short} is initialized with one value, got {len(args)}", node)
        return self.converted(self.binder.bind(args[0]), target, node)

    def converted(self, value: ir.Expr, target: CType, node: S.Node) -> ir.Expr:
        """``value`` implicitly converted to a local's type (for RVecs: element by element, as RVec's conversion)."""
        if value.type.depth != target.depth or not value.type.scalar.is_arithmetic:
            raise self.binder.type_error(f"cannot convert {value.type.short} to {target.short}", node)
        return self.binder.cast(value, target)

    def assign(self, node: S.Assign) -> None:
        scope = self.scope_of(node.target)
        if scope is None:
            if node.target in self.binder.schema or node.target == ENTRY_COLUMN:
                raise self.binder.type_error(f"cannot assign to the column {node.target!r}: columns are read-only in "
                                             "a Define or Filter (ROOT passes them as const)", node)  # fmt: skip
            names = [n for s in self.scopes for n in s]
            raise UnknownColumnError(f"unknown variable {node.target!r}{did_you_mean(node.target, names)}",
                                     self.binder.text, node.pos, len(node.target))  # fmt: skip
        local = scope[node.target]
        if local.role == "loop":
            raise self.binder.unsupported_statement(f"assigning the loop variable {node.target!r}", node)
        if local.const:
            raise self.binder.type_error(f"cannot assign to {node.target!r}: it is const (or a reference)", node)
        if local.role == "accumulator":
            scope[node.target] = replace(local, value=self.addend(node, local))
            return
        if node.op == "=":
            assert node.value is not None
            value = self.converted(self.binder.bind(node.value), local.type, node)
        else:
            current = self.read_local(node.target, local, node)
            op, rhs = self.compound_operands(node, local)
            value = self.converted(self.binder.binary_op(op, current, rhs, S.Node(node.op_pos)), local.type, node)
        self.check_size(value, node)
        scope[node.target] = replace(local, value=value)

    def compound_operands(self, node: S.Assign, local: Local) -> tuple[str, ir.Expr]:
        """``x op= e`` is ``x = x op e`` for a local (C++ evaluates x once, which changes nothing here)."""
        if node.op in ("++", "--"):
            if local.type.depth or local.type.scalar is Scalar.BOOL:
                raise self.binder.type_error(f"operator {node.op} needs a number, {node.target!r} is {local.type.short}",
                                             S.Node(node.op_pos))  # fmt: skip
            return node.op[0], ir.Literal(INT, 1)
        assert node.value is not None
        return node.op[:-1], self.binder.bind(node.value)

    # -- loops -----------------------------------------------------------------------------
    def run_range_for(self, node: S.RangeFor) -> None:
        """``for (T w : v) body``: w stands for the elements of v (converted to T)."""
        values = self.binder.bind(node.range)
        if values.type.depth != 1 or not values.type.scalar.is_arithmetic:
            raise self.binder.unsupported_statement(f"a range-for loop over {values.type.short} (hepframe loops over an "
                                                    "RVec of numbers)", node.range)  # fmt: skip
        element = values.type.element if node.var_type.name == "auto" else template_ctype(node.var_type.name)
        if element.depth:
            raise self.binder.type_error(f"cannot convert an element of {values.type.short} to {element.short}", node)
        name = f"{node.var}@{node.pos}"  # not an identifier: never a column
        loop = Loop({name: self.binder.cast(values, CType(element.scalar, 1))}, values)
        self.run_loop(node, loop, Local(element, ir.Column(element, name), node.pos, const=True, role="loop"))

    def run_index_for(self, node: S.IndexFor) -> None:
        """``for (T i = k; i < n; ++i) body`` with k a literal: i stands for Range(k, n)."""
        start = self.binder.bind(node.start)
        index = start.type if node.var_type.name == "auto" else template_ctype(node.var_type.name)
        start = self.binder.cast(start, index)
        if index.depth or not index.scalar.is_integral or not isinstance(start, ir.Literal) or start.value < 0:
            raise self.binder.unsupported_statement("an index loop that is not 'for (integer i = k; i < n; ++i)' with k a "
                                                    "literal >= 0", node)  # fmt: skip
        if node.var in _names_in(node.bound):
            raise self.binder.unsupported_statement("a loop bound that depends on the loop variable", node.bound)
        bound = self.binder.bind(node.bound)
        if any(isinstance(n, ir.RandomDraw) for n in bound.walk()):  # C++ evaluates it once per iteration
            raise self.binder.unsupported_statement("a gRandom draw in a loop bound", node.bound)
        if bound.type.depth or not bound.type.scalar.is_integral:
            raise self.binder.unsupported_statement(f"a loop bound of type {bound.type.short} (an integer or v.size())",
                                                    node.bound)  # fmt: skip
        counted = None
        if start.value == 0 and isinstance(bound, ir.Call) and bound.func == "size":
            counted = bound.args[0]
            iterations = ir.Call(CType(Scalar.ULONG, 1), "Enumerate", (counted,))
        else:
            # 'i < n' compares in the common type: a negative signed n runs no iteration.
            common = CType(common_scalar(index.scalar, bound.type.scalar))
            end = self.binder.cast(self.binder.cast(bound, common), SIZE_T)
            if not common.scalar.is_unsigned:
                negative = self.binder.binary_op("<", bound, ir.Literal(INT, 0), node.bound)
                end = ir.Ternary(SIZE_T, negative, ir.Literal(SIZE_T, 0), end)
            iterations = ir.Call(CType(Scalar.ULONG, 1), "Range", (ir.Literal(SIZE_T, start.value), end))
        name = f"{node.var}@{node.pos}"
        loop = Loop({name: self.binder.cast(iterations, CType(index.scalar, 1))}, iterations, counted, name)
        self.run_loop(node, loop, Local(index, ir.Column(index, name), node.pos, const=True, role="loop"),
                      bound=node.bound)  # fmt: skip

    def run_loop(self, node: S.RangeFor | S.IndexFor, loop: Loop, variable: Local, bound: S.Node | None = None) -> None:
        """Run the body once, symbolically, on scalar placeholders; then lower each updated local exactly.

        Outer locals the body assigns are accumulators: the body may only add to them (+=, -=, ++, --),
        at most once per iteration if they are floating point, and never read them. Their addend per
        iteration becomes an RVec over the iterations (vectorize), and the new value the sequential
        sum from the current value (fold_sum), bit for bit what C++'s loop computes.
        """
        if self.loop is not None:
            raise self.binder.unsupported_statement("a loop inside a loop", node)
        updated = _assigned_outer(node.body, {node.var}, {})
        if bound is not None and updated.keys() & _names_in(bound):
            raise self.binder.unsupported_statement("a loop bound that the loop body changes", bound)
        outer = [dict(scope) for scope in self.scopes]
        accumulators = [name for name, assignment in updated.items() if self.make_accumulator(name, assignment)]
        self.scopes.append({node.var: variable})
        self.loop = loop
        with self.branch():
            self.execute(node.body)
        self.loop = None
        addends = {name: self.local(name).value for name in accumulators}
        self.scopes = outer
        for name, addend in addends.items():
            if addend is not None:
                local = self.local(name)
                assert local.value is not None
                total = self.binder.fold_sum(local.value, self.vectorize(addend, local.type, loop, node), node)
                self.check_size(total, node)
                self.scope_of(name)[name] = replace(local, value=total)  # type: ignore[index]

    def make_accumulator(self, name: str, assignment: S.Assign) -> bool:
        """Turn the outer local ``name`` into an accumulator of the loop's body; False if it is none."""
        scope = self.scope_of(name)
        if scope is None or scope[name].const or scope[name].role != "local":
            return False  # assign() explains the error
        local = scope[name]
        if local.type.depth or local.type.scalar is Scalar.BOOL:
            raise self.binder.unsupported_statement(f"updating the {local.type.short} {name!r} in a loop (hepframe lowers "
                                                    "sums into a numeric local)", assignment)  # fmt: skip
        self.read_local(name, local, assignment)  # initialized before the loop
        scope[name] = Local(local.type, None, local.pos, role="accumulator")
        return True

    def local(self, name: str) -> Local:
        scope = self.scope_of(name)
        assert scope is not None
        return scope[name]

    def addend(self, node: S.Assign, local: Local) -> ir.Expr:
        """The amount ``acc += e`` (or -=, ++, --) adds in this iteration, as a value of acc's type."""
        r = local.type
        if node.op not in ("+=", "-=", "++", "--"):
            raise self.binder.unsupported_statement(
                f"'{node.target} {node.op} ...' in a loop (hepframe lowers +=, -=, ++ and -- of a local declared "
                "before the loop to an exact sum)", node)  # fmt: skip
        value = ir.Literal(INT, 1) if node.value is None else self.binder.bind(node.value)
        if value.type.depth or not value.type.scalar.is_arithmetic:
            raise self.binder.type_error(f"cannot add {value.type.short} to the {r.short} {node.target!r}", node)
        common = common_scalar(r.scalar, value.type.scalar)
        if common is not r.scalar and not (r.scalar.is_integral and common.is_integral):
            raise self.binder.unsupported_statement(
                f"'{node.target} {node.op} {value.type.short}' with {node.target!r} of type {r.short}: C++ computes each "
                f"step in {common.cpp} and converts it back, which no sum reproduces exactly; make the two types agree",
                node)  # fmt: skip
        term = self.binder.cast(value, r)
        if node.op in ("-=", "--"):  # a - b is exactly a + (-b) in IEEE arithmetic, and modulo 2**n for integers
            term = self.binder.cast(self.binder.unary_op("-", term, node), r)
        if local.value is None:
            return term
        if r.scalar.is_float:
            raise self.binder.unsupported_statement(
                f"a second update of the {r.short} {node.target!r} in one iteration (the order of the roundings "
                "cannot be kept; combine them into one '+=')", node)  # fmt: skip
        return self.binder.cast(self.binder.binary_op("+", local.value, term, node), r)

    @staticmethod
    def no_addend(t: CType) -> ir.Expr:
        """What an iteration that skips ``acc += e`` adds: x + (-0.0) is exactly x for every x, -0.0 included."""
        return ir.Literal(t, -0.0 if t.scalar.is_float else 0)

    # -- vectorizing a loop body -----------------------------------------------------------
    def vectorize(self, addend: ir.Expr, r: CType, loop: Loop, node: S.Node) -> ir.Expr:
        """The RVec of ``addend``'s values over the iterations (element type ``r``).

        The body was bound as scalar C++ code; each node that depends on a loop placeholder is
        rewritten to its element-wise RVec form, whose elements are the values C++ computes.
        """
        memo: dict[int, tuple[ir.Expr, ir.Expr | None]] = {}
        values = self.lift(addend, loop, memo, node)
        if values is None:  # the same every iteration
            return self.broadcast(addend, loop)
        return _element_as(values, r.scalar)

    def lift(self, expr: ir.Expr, loop: Loop, memo: dict, node: S.Node) -> ir.Expr | None:
        """``expr`` over the iterations, or None if it does not depend on the loop."""
        if id(expr) not in memo:
            memo[id(expr)] = (expr, self._lift(expr, loop, memo, node))
        return memo[id(expr)][1]

    def _lift(self, expr: ir.Expr, loop: Loop, memo: dict, node: S.Node) -> ir.Expr | None:
        if isinstance(expr, ir.Column):
            return loop.placeholders.get(expr.name)
        children = [self.lift(c, loop, memo, node) for c in expr.children()]
        if all(c is None for c in children):
            return None
        if expr.type.depth:
            raise self.binder.unsupported_statement(f"an RVec value that changes from one iteration to the next "
                                                    f"({expr.type.short})", node)  # fmt: skip
        rvec = CType(expr.type.scalar, 1)

        def per_iteration(original: ir.Expr, values: ir.Expr | None) -> ir.Expr:
            return original if values is None else _element_as(values, original.type.scalar)

        if isinstance(expr, ir.Cast):
            return ir.Cast(rvec, children[0])  # type: ignore[arg-type]
        if isinstance(expr, ir.Unary):
            return ir.Unary(rvec, expr.op, per_iteration(expr.operand, children[0]))
        if isinstance(expr, ir.Binary):
            left, right = per_iteration(expr.left, children[0]), per_iteration(expr.right, children[1])
            # ROOT's RVec comparisons and logical operators give RVec<int> (0 or 1, the bool's value).
            boolean = expr.op in _COMPARISONS or expr.op in _LOGICAL
            return ir.Binary(CType(Scalar.INT, 1) if boolean else rvec, expr.op, left, right)
        if isinstance(expr, ir.Ternary):
            then, other = per_iteration(expr.then, children[1]), per_iteration(expr.other, children[2])
            if children[0] is None:  # a loop-invariant condition: keep C++'s evaluation of one branch only
                then, other = (x if x.type.depth else self.broadcast(x, loop) for x in (then, other))
                return ir.Ternary(rvec, expr.cond, then, other)
            return ir.Call(rvec, "Where", (children[0], then, other))
        if isinstance(expr, ir.Call) and (expr.func in _ELEMENTWISE or expr.func == "abs" and expr.type.scalar.is_float):
            return ir.Call(rvec, expr.func, tuple(per_iteration(a, c) for a, c in zip(expr.args, children, strict=True)))
        if isinstance(expr, ir.Call) and expr.func == "abs":  # integer abs: VecOps' abs would give double
            x = per_iteration(expr.args[0], children[0])
            negative = self.binder.binary_op("<", x, ir.Literal(expr.type, 0), node)
            return ir.Call(rvec, "Where", (negative, self.binder.unary_op("-", x, node), x))
        if isinstance(expr, ir.Index) and children[0] is None and expr.value.type.depth == 1:
            return self.lift_index(expr, loop, memo, node)
        what = f"{expr.func}(...)" if isinstance(expr, ir.Call) else type(expr).__name__.lower()
        raise self.binder.unsupported_statement(f"{what} of a value that changes from one iteration to the next", node)

    def lift_index(self, expr: ir.Index, loop: Loop, memo: dict, node: S.Node) -> ir.Expr:
        """``u[f(i)]`` over the iterations: ``Take(u, f(I))`` (an out-of-range index stays undefined)."""
        position = expr.index.operand if isinstance(expr.index, ir.Cast) else expr.index  # the binder's cast to long
        if (loop.counted is not None and _same_rvec(expr.value, loop.counted)
                and isinstance(position, ir.Column) and position.name == loop.counter):  # fmt: skip
            return expr.value  # v[i] for i from 0 to v.size(): v itself
        indices = self.lift(expr.index, loop, memo, node)
        assert indices is not None
        # operator[] takes a size_t: a negative index converts to a huge one, out of range as in C++.
        return ir.Call(expr.value.type, "Take", (expr.value, self.binder.cast(indices, CType(Scalar.ULONG, 1))))

    @staticmethod
    def broadcast(value: ir.Expr, loop: Loop) -> ir.Expr:
        """A loop-invariant scalar repeated once per iteration: ``RVec<T>(n, value)``."""
        size = ir.Call(SIZE_T, "size", (loop.extent,))
        return ir.Call(CType(value.type.scalar, 1), "RVec", (size, value))

    # -- checks --------------------------------------------------------------------------
    def check_size(self, value: ir.Expr, node: S.Node) -> None:
        """Refuse values whose expression tree, once locals are substituted, exceeds the parser's limits.

        Substitution shares subtrees (``x = x * x`` twice is x*x*x*x), but engines walk trees: the
        size counted here is the tree's, computed over the shared graph.
        """
        size, height = self.measure(value)
        if height > MAX_HEIGHT or size > MAX_TOKENS:
            raise UnsupportedSyntaxError(
                f"with its local variables substituted, this value is {height} operations deep and {size} large "
                f"(limits: {MAX_HEIGHT} deep, {MAX_TOKENS} large); split the computation into several Defines",
                self.binder.text, node.pos)  # fmt: skip

    def measure(self, root: ir.Expr) -> tuple[int, int]:
        """(size, height) of ``root``'s tree, iteratively and once per shared node."""
        memo = self._measures
        stack: list[tuple[ir.Expr, bool]] = [(root, False)]
        while stack:
            expr, ready = stack.pop()
            if id(expr) in memo:
                continue
            children = expr.children()
            if not ready:
                stack.append((expr, True))
                stack.extend((c, False) for c in children)
                continue
            size = 1 + sum(memo[id(c)][1] for c in children)
            height = 1 + max((memo[id(c)][2] for c in children), default=0)
            memo[id(expr)] = (expr, size, height)
        return memo[id(root)][1], memo[id(root)][2]

    def returns_inside(self, node: S.Node) -> bool:
        key = id(node)
        if key not in self._returns_inside:
            self._returns_inside[key] = any(isinstance(n, S.Return) for n in _statements_in(node))
        return self._returns_inside[key]

    def check_flow(self, node: S.Node) -> bool:
        """Whether ``node`` returns on every path; refuses statements after such a statement."""
        if isinstance(node, S.Return):
            return True
        if isinstance(node, S.Block):
            for k, statement in enumerate(node.statements):
                if self.check_flow(statement):
                    if k + 1 < len(node.statements):
                        raise self.binder.type_error("this statement is never executed (it follows a return)",
                                                     node.statements[k + 1])  # fmt: skip
                    return True
            return False
        if isinstance(node, S.If):
            then = self.check_flow(node.then)
            return self.check_flow(node.other) and then if node.other is not None else False
        if isinstance(node, (S.RangeFor, S.IndexFor)):
            self.check_flow(node.body)
        return False

    def check_stored_draws(self, result: ir.Expr) -> None:
        """A draw stored in a local must be used on every path: ROOT draws it whenever the statement runs.

        hepframe replaces each draw of the final expression by pre-drawn numbers, one per evaluation;
        a draw whose value is dropped, or used only in some branches, would leave gRandom's sequence
        out of step with ROOT's.
        """
        used = _unconditional_draws(result)
        for draw in self.stored_draws:
            if draw.pos not in used:
                raise self.binder.unsupported_statement(
                    "a gRandom draw stored in a local whose value is not used on every path (ROOT draws it anyway, "
                    "which moves gRandom's sequence)", draw)  # fmt: skip


def _element_as(values: ir.Expr, scalar: Scalar) -> ir.Expr:
    """An RVec with the element type the scalar code had (a comparison's RVec<int> 0/1 as bool, say)."""
    return values if values.type.scalar is scalar else ir.Cast(CType(scalar, values.type.depth), values)


def _same_rvec(a: ir.Expr, b: ir.Expr) -> bool:
    # Identity or one column: a full == could take time exponential in shared subtrees.
    return a is b or (isinstance(a, ir.Column) and isinstance(b, ir.Column) and a.name == b.name)


def _statements_in(node: S.Node) -> Iterator[S.Node]:
    """``node`` and the statements nested in it (not the expressions)."""
    yield node
    if isinstance(node, S.Block):
        for statement in node.statements:
            yield from _statements_in(statement)
    elif isinstance(node, S.If):
        yield from _statements_in(node.then)
        if node.other is not None:
            yield from _statements_in(node.other)
    elif isinstance(node, (S.RangeFor, S.IndexFor)):
        yield from _statements_in(node.body)


def _assigned_outer(node: S.Node, declared: set[str], out: dict[str, S.Assign]) -> dict[str, S.Assign]:
    """The variables that ``node`` assigns but does not declare (in the scope of the assignment)."""
    if isinstance(node, S.Block):
        inner = set(declared)
        for statement in node.statements:
            _assigned_outer(statement, inner, out)
    elif isinstance(node, S.Declaration):
        declared.add(node.name)
    elif isinstance(node, S.Assign) and node.target not in declared:
        out.setdefault(node.target, node)
    elif isinstance(node, S.If):
        _assigned_outer(node.then, declared, out)
        if node.other is not None:
            _assigned_outer(node.other, declared, out)
    elif isinstance(node, (S.RangeFor, S.IndexFor)):
        _assigned_outer(node.body, declared | {node.var}, out)
    return out


def _names_in(node: S.Node) -> set[str]:
    """The plain names an expression's syntax tree mentions."""
    out: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, S.Name):
            out.add(item.name)
        for value in vars(item).values():
            for child in value if isinstance(value, tuple) else (value,):
                if isinstance(child, S.Node):
                    stack.append(child)
    return out


def _unconditional_draws(expr: ir.Expr) -> set[int]:
    """Positions of the RandomDraws that every evaluation of ``expr`` evaluates (not under ?: or && ||)."""
    out: set[int] = set()
    seen: set[int] = set()
    stack = [expr]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ir.RandomDraw):
            out.add(item.pos)
        if isinstance(item, ir.Ternary):
            stack.append(item.cond)
        elif isinstance(item, ir.Binary) and item.op in _LOGICAL and not item.type.is_rvec:
            stack.append(item.left)
        else:
            stack.extend(item.children())
    return out
