"""Type declared C++ functions into the program IR, with the expression binder (one front end).

:class:`FunctionBinder` is the expression :class:`~hepframe.expr.binder.Binder` with locals,
constants, calls of declared functions and lambdas, and ROOT::Math Lorentz vectors;
:class:`FunctionCompiler` types a function's statements. Every conversion C++ makes implicitly
(assignment, initialization, argument passing, return) becomes an explicit ``ir.Cast`` or
``vec4.convert``, so the code generator never decides a type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hepframe.cpp import program as P
from hepframe.cpp import syntax as C
from hepframe.cpp.parser import CPP_HINT
from hepframe.errors import ExpressionTypeError, UnknownColumnError, UnknownFunctionError, UnsupportedSyntaxError
from hepframe.expr import ir
from hepframe.expr import syntax as S
from hepframe.expr.binder import Binder, convert_literal
from hepframe.expr.types import BOOL, DOUBLE, INT, LONG, SIZE_T, TYPE_NAMES, CType, Scalar

#: Lorentz-vector members -> the accessor's canonical name (all return double).
VECTOR_MEMBERS = {
    "M": "m", "mass": "m", "Pt": "pt", "pt": "pt", "Perp": "pt", "Rho": "pt", "Eta": "eta", "eta": "eta",
    "Phi": "phi", "phi": "phi", "E": "e", "e": "e", "energy": "e", "T": "t", "t": "t",
    "Px": "x", "px": "x", "X": "x", "x": "x", "Py": "y", "py": "y", "Y": "y", "y": "y",
    "Pz": "z", "pz": "z", "Z": "z", "z": "z", "P": "p", "M2": "m2", "Mag2": "m2", "Perp2": "pt2", "Pt2": "pt2",
    "Mt": "mt", "mt": "mt", "Et": "et", "et": "et", "Rapidity": "rapidity", "Beta": "beta", "Gamma": "gamma",
    "Theta": "theta", "theta": "theta", "rapidity": "rapidity", "beta": "beta", "gamma": "gamma", "mag2": "m2",
}  # fmt: skip
#: ROOT::Math::VectorUtil functions of two vectors -> canonical name.
VECTOR_UTIL = {"DeltaR": "delta_r", "DeltaR2": "delta_r2", "DeltaPhi": "delta_phi", "InvariantMass": "invariant_mass"}
_RVEC_MUTATORS = {"push_back", "emplace_back", "reserve", "resize", "clear", "pop_back"}


def ctype_of(spec: S.TypeSpec) -> CType | None:
    """The CType a canonical type name stands for; None for ``auto``."""
    name = spec.name
    if name == "auto":
        return None
    depth = 0
    while name.startswith("RVec<"):
        name, depth = name[5:-1], depth + 1
    if name in TYPE_NAMES:
        return CType(TYPE_NAMES[name], depth)
    for s in Scalar:
        if s.is_vector4 and s.cpp == name:
            return CType(s, depth)
    raise ValueError(name.lstrip("?"))


@dataclass
class Declared:
    """A declared function as callers see it: its IR once typed."""

    function: P.Function


@dataclass
class LambdaInfo:
    node: C.Lambda
    compiler: FunctionCompiler  # where it was defined (its scopes are visible through captures)
    scopes_depth: int
    instances: dict[tuple[CType, ...], P.Function] = field(default_factory=dict)


class FunctionBinder(Binder):
    """The expression binder inside a function body."""

    def __init__(self, compiler: FunctionCompiler, text: str):
        super().__init__({}, text)
        self.compiler = compiler

    def error(self, message: str, node) -> ExpressionTypeError:
        return ExpressionTypeError(message, self.text, node.pos)

    def unsupported(self, construct: str, node) -> UnsupportedSyntaxError:
        return UnsupportedSyntaxError(f"{construct} is not supported in C++ helpers{CPP_HINT}", self.text, node.pos)

    # -- names ---------------------------------------------------------------
    def bind_Name(self, node: S.Name) -> ir.Expr:
        found = self.compiler.resolve(node.name, node)
        if isinstance(found, P.Var):
            return ir.Column(found.type, found.id)
        if isinstance(found, LambdaInfo):
            raise self.error(f"lambda {node.name!r} must be called", node)
        try:
            return super().bind_Name(node)
        except UnknownColumnError:
            raise UnknownColumnError(f"unknown name {node.name!r} (not a parameter, local variable or constant)",
                                     self.text, node.pos, len(node.name)) from None  # fmt: skip

    # -- conversions -----------------------------------------------------------
    def convert(self, expr: ir.Expr, target: CType, node, what: str = "a value") -> ir.Expr:
        """C++'s implicit conversion of ``expr`` to ``target`` (initialization, assignment, passing, return)."""
        t = expr.type
        if t == target:
            return expr
        if t.depth != target.depth:
            raise self.error(f"cannot convert {t.short} to {target.short} ({what})", node)
        if t.scalar.is_vector4 or target.scalar.is_vector4:
            if t.scalar.is_vector4 and target.scalar.is_vector4:
                return ir.Call(target, "vec4.convert", (expr,))
            raise self.error(f"cannot convert {t.short} to {target.short} ({what})", node)
        if not t.scalar.is_arithmetic or not target.scalar.is_arithmetic:
            raise self.error(f"cannot convert {t.short} to {target.short} ({what})", node)
        if target.scalar is Scalar.BOOL and not t.is_rvec:
            return ir.Binary(BOOL, "!=", expr, ir.Literal(t, convert_literal(0, t.scalar))) if not isinstance(
                expr, ir.Literal) else ir.Literal(BOOL, bool(expr.value))  # fmt: skip
        return self.cast(expr, target)

    # -- calls -------------------------------------------------------------------
    def bind_Call(self, node: S.Call) -> ir.Expr:
        callee = node.callee
        found = self.compiler.resolve(callee, node)
        if isinstance(found, LambdaInfo):
            return self.compiler.call_lambda(found, [self.bind(a) for a in node.args], node)
        if isinstance(found, P.Var):
            raise self.error(f"{callee!r} is a variable, not a function", node)
        declared = self.compiler.unit.find_function(callee, len(node.args), self.compiler.namespace)
        if declared is not None:
            return self.call_declared(declared.function, node)
        if self.compiler.unit.find_function(callee, None, self.compiler.namespace) is not None:
            arities = self.compiler.unit.arities(callee, self.compiler.namespace)
            raise self.error(f"{callee} takes {' or '.join(map(str, arities))} arguments, got {len(node.args)}", node)
        if callee == self.compiler.function_name:
            raise self.unsupported("a recursive call", node)
        if node.template in ("()", "{}"):  # a type used as a constructor: T(args) or T{args}
            return self.construct(callee, node)
        short = callee.split("::")[-1]
        if short in ("Map", "Filter", "Sort") and node.args:
            info = self.compiler.lambda_argument(node.args[-1])
            if info is not None:
                return self.higher_order(short, info, node)
        if short == "Construct" and node.template:
            return self.construct_rvec(node)
        args = [self.bind(a) for a in node.args]
        if short == "Combinations":
            return self.combinations(args, node)
        if any(a.type.scalar.is_vector4 for a in args):
            return self.vector_call(short, args, node)
        return super().bind_Call(node)

    def bind(self, node: S.Node) -> ir.Expr:
        if isinstance(node, C.Lambda):
            raise self.unsupported("a lambda used as a value (call it, or assign it to an auto variable)", node)
        if isinstance(node, C.BraceList):
            raise self.unsupported("a braced list here (it initializes a declared variable or a return value)", node)
        return super().bind(node)

    def call_declared(self, fn: P.Function, node: S.Call) -> ir.Expr:
        args = [self.bind(a) for a in node.args]
        cast = tuple(self.convert(a, p.type, node, f"argument {i + 1} of {fn.name}")
                     for i, (a, p) in enumerate(zip(args, fn.params, strict=True)))  # fmt: skip
        self.compiler.calls.add(fn.id)
        return ir.Call(fn.returns, f"cpp:{fn.id}", cast)

    def construct(self, type_name: str, node: S.Call) -> ir.Expr:
        try:
            t = ctype_of(S.TypeSpec(type_name))
        except ValueError:
            raise self.unsupported(f"the type {type_name!r}", node) from None
        assert t is not None
        args = [self.bind(a) for a in node.args]
        if t.depth == 0 and t.scalar.is_vector4:
            if len(args) == 0:
                return ir.Call(t, "vec4.new", tuple(ir.Literal(DOUBLE, 0.0) for _ in range(4)))
            if len(args) == 1:
                return self.convert(args[0], t, node, f"the argument of {t.short}")
            if len(args) != 4:
                raise self.error(f"{t.short} takes 4 coordinates, got {len(args)}", node)
            return ir.Call(t, "vec4.new", tuple(self.convert(a, DOUBLE, node, "a coordinate") for a in args))
        if t.depth == 0:
            if len(args) != 1:
                raise self.error(f"{t.short}(...) takes one argument", node)
            return self.convert(args[0], t, node)
        value = self.compiler.rvec_init(t, "()" if node.template == "()" else "{}", args, node)
        return value if value is not None else self.compiler.empty_rvec(t)

    def higher_order(self, name: str, info: LambdaInfo, node: S.Call) -> ir.Expr:
        """``Map(v..., f)``, ``Filter(v, pred)``, ``Sort(v, less)`` with a lambda: one call per element."""
        rvecs = [self.bind(a) for a in node.args[:-1]]
        if not rvecs or any(r.type.depth != 1 for r in rvecs):
            raise self.error(f"{name} takes RVecs and then a lambda", node)
        if name != "Map" and len(rvecs) != 1:
            raise self.error(f"{name} takes one RVec and a lambda", node)
        elements = [r.type.element for r in rvecs]
        fn, captured = self.compiler.instantiate(info, elements if name != "Sort" else elements * 2, node)
        result = fn.returns
        if name == "Map":
            if result.depth or not (result.scalar.is_arithmetic or result.scalar.is_vector4) or len(rvecs) > 3:
                raise self.unsupported(f"Map over {len(rvecs)} RVecs to {result.short}", node)
            return ir.Call(CType(result.scalar, 1), f"cpp.map:{fn.id}", (*rvecs, *captured))
        if result.depth or not result.scalar.is_arithmetic:
            raise self.error(f"the lambda of {name} must return a number or bool, got {result.short}", node)
        return ir.Call(rvecs[0].type, f"cpp.{name.lower()}:{fn.id}", (rvecs[0], *captured))

    def construct_rvec(self, node: S.Call) -> ir.Expr:
        """``ROOT::VecOps::Construct<V>(rvecs...)``: one V per element, as V(a[i], b[i], ...)."""
        assert node.template is not None
        target = ctype_of(S.TypeSpec(node.template))
        if target is None or target.depth or not target.scalar.is_vector4:
            raise self.unsupported(f"Construct<{node.template}> (Construct builds ROOT::Math vectors)", node)
        args = [self.bind(a) for a in node.args]
        if any(a.type.depth != 1 for a in args):
            raise self.error("Construct<V>(...) takes RVecs", node)
        if len(args) == 1 and args[0].type.scalar.is_vector4:
            return ir.Call(CType(target.scalar, 1), "vec4.convert", (args[0],))
        if len(args) != 4 or any(not a.type.scalar.is_arithmetic for a in args):
            raise self.error(f"Construct<{target.short}> takes 4 RVecs of coordinates or one RVec of vectors", node)
        # each element converts to double in the vector's constructor, as C++ converts V(a[i], ...)'s arguments
        return ir.Call(CType(target.scalar, 1), "vec4.construct", tuple(args))

    def vector_call(self, short: str, args: list[ir.Expr], node: S.Call) -> ir.Expr:
        name = VECTOR_UTIL.get(short)
        if name is None or len(args) != 2 or any(a.type.depth or not a.type.scalar.is_vector4 for a in args):
            raise self.unsupported(f"{node.callee}(...) with Lorentz-vector arguments", node)
        return ir.Call(DOUBLE, f"vec4.{name}", tuple(args))

    def combinations(self, args: list[ir.Expr], node: S.Call) -> ir.Expr:
        """``Combinations(v, k)`` (k-combinations of v's indices) and ``Combinations(a, b)`` (all pairs)."""
        result = CType(Scalar.ULONG, 2)
        if len(args) != 2:
            raise self.error(f"Combinations takes 2 arguments, got {len(args)}", node)
        a, b = args
        if a.type.depth == 1 and b.type.depth == 0 and b.type.scalar.is_integral:
            return ir.Call(result, "Combinations", (a, self.cast(b, SIZE_T)))
        if a.type.depth == 1 and b.type.depth == 1:
            return ir.Call(result, "Combinations", (a, b))
        if a.type.depth == 0 and b.type.depth == 0 and a.type.scalar.is_integral and b.type.scalar.is_integral:
            return ir.Call(result, "Combinations", (self.cast(a, SIZE_T), self.cast(b, SIZE_T)))
        raise self.error(f"Combinations cannot take {a.type.short} and {b.type.short}", node)

    # -- members and operators -------------------------------------------------
    def bind_Member(self, node: S.Member) -> ir.Expr:
        value = self.bind(node.value)
        if value.type.depth == 0 and value.type.scalar.is_vector4:
            member = VECTOR_MEMBERS.get(node.name)
            if member is None:
                raise self.unsupported(f"the Lorentz-vector member {node.name}()", node)
            if node.args:
                raise self.error(f".{node.name}() takes no arguments", node)
            return ir.Call(DOUBLE, f"vec4.{member}", (value,))
        if node.name in _RVEC_MUTATORS:
            raise self.error(f".{node.name}() returns nothing: call it as a statement", node)
        if node.name not in ("size", "empty", "front", "back", "at"):
            raise self.unsupported(f"the member function {node.name}()", node)
        return super().bind_Member(node)

    def binary_op(self, op: str, left: ir.Expr, right: ir.Expr, node: S.Node) -> ir.Expr:
        lv, rv = left.type.scalar.is_vector4, right.type.scalar.is_vector4
        if not (lv or rv):
            return super().binary_op(op, left, right, node)
        if left.type.depth or right.type.depth:
            raise self.unsupported(f"operator {op} on RVecs of Lorentz vectors", node)
        if lv and rv and op in ("+", "-"):
            return ir.Binary(left.type, op, left, right)  # the result has the left operand's coordinates
        if op == "*" and lv != rv:
            vector, number = (left, right) if lv else (right, left)
            if number.type.scalar.is_arithmetic:
                return ir.Call(vector.type, "vec4.scale", (vector, self.cast(number, DOUBLE)))
        raise self.error(f"operator {op} cannot combine {left.type.short} and {right.type.short}", node)

    def unary_op(self, op: str, operand: ir.Expr, node: S.Node) -> ir.Expr:
        if operand.type.scalar.is_vector4 and operand.type.depth == 0:
            if op == "-":
                return ir.Call(operand.type, "vec4.neg", (operand,))
            if op == "+":
                return operand
        return super().unary_op(op, operand, node)


class FunctionCompiler:
    """Type one function (or one instance of a lambda) into a :class:`program.Function`."""

    def __init__(self, unit, name: str, text: str, namespace: str, outer: LambdaInfo | None = None):
        self.unit = unit  # hepframe.cpp.interpreter.Interpreter: functions, constants, identifiers
        self.function_name = name
        self.namespace = namespace
        self.binder = FunctionBinder(self, text)
        self.scopes: list[dict[str, P.Var | LambdaInfo]] = [{}]
        self.returns: CType | None = None
        self.loops: list[tuple[P.Stmt, ...]] = []  # the step of each enclosing loop
        self.modified: set[str] = set()
        self.calls: set[str] = set()
        self.outer = outer
        self.captured: dict[str, tuple[P.Var, P.Var]] = {}  # outer var id -> (outer var, own parameter)

    # -- names -------------------------------------------------------------------
    def resolve(self, name: str, node) -> P.Var | LambdaInfo | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        if self.outer is not None:
            found = self.outer.compiler.resolve_visible(name, self.outer.scopes_depth)
            if isinstance(found, P.Var) and not found.id.startswith("g"):
                lam = self.outer.node
                if lam.default == "" and name not in lam.captures:
                    raise self.binder.error(f"{name!r} is not captured by the lambda (add it to [...] or use [&])", node)
                if found.id not in self.captured:
                    own = P.Var(self.unit.new_var_id(), found.type, name, const=True)
                    self.captured[found.id] = (found, own)
                return self.captured[found.id][1]
            if found is not None:
                return found
        return self.unit.find_constant(name, self.namespace)

    def resolve_visible(self, name: str, depth: int) -> P.Var | LambdaInfo | None:
        for scope in reversed(self.scopes[:depth]):
            if name in scope:
                return scope[name]
        if self.outer is not None:
            return self.outer.compiler.resolve_visible(name, self.outer.scopes_depth)
        return self.unit.find_constant(name, self.namespace)

    def declare(self, name: str, t: CType, node, const: bool = False) -> P.Var:
        if name in self.scopes[-1]:
            raise self.binder.error(f"{name!r} is already declared in this scope", node)
        var = P.Var(self.unit.new_var_id(), t, name, const)
        self.scopes[-1][name] = var
        return var

    def type_of(self, spec: S.TypeSpec, node) -> CType | None:
        try:
            return ctype_of(spec)
        except ValueError as exc:
            raise self.binder.unsupported(f"the type {exc.args[0]!r}", node) from None

    # -- functions ------------------------------------------------------------------
    def function(self, fdef: C.FunctionDef) -> P.Function:
        params = []
        for p in fdef.params:
            t = self.type_of(p.type, p)
            if t is None:
                raise self.binder.unsupported("an 'auto' parameter (a function template)", p)
            if p.type.reference and not p.type.const:
                raise self.binder.unsupported("a non-const reference parameter (helpers return their results)", p)
            params.append(self.declare(p.name, t, p, const=p.type.const))
        self.returns = self.type_of(fdef.returns, fdef)
        body = self.block(fdef.body.statements)
        return self.finish(fdef, tuple(params), body)

    def finish(self, node, params: tuple[P.Var, ...], body: tuple[P.Stmt, ...], arity: int | None = None) -> P.Function:
        if self.returns is None:
            raise self.binder.error(f"{self.function_name} never returns a value", node)
        if not _always_returns(body):
            raise self.binder.error(f"{self.function_name} can reach its end without returning a value", node)
        copied = frozenset(p.id for p in params if p.type.is_rvec and p.id in self.modified)
        return P.Function(self.unit.new_function_id(), self.function_name, params, self.returns, body, copied,
                          frozenset(self.calls), arity)  # fmt: skip

    def call_lambda(self, info: LambdaInfo, args: list[ir.Expr], node) -> ir.Expr:
        fn, captured = self.instantiate(info, [a.type for a in args], node)
        cast = [self.binder.convert(a, p.type, node, f"argument {i + 1} of the lambda")
                for i, (a, p) in enumerate(zip(args, fn.params, strict=False))]  # fmt: skip
        return ir.Call(fn.returns, f"cpp:{fn.id}", (*cast, *captured))

    def instantiate(self, info: LambdaInfo, arg_types: list[CType], node) -> tuple[P.Function, list[ir.Expr]]:
        """The lambda compiled for these argument types (``auto`` parameters take them), and its captures' values."""
        lam = info.node
        if len(arg_types) != len(lam.params):
            raise self.binder.error(f"the lambda takes {len(lam.params)} arguments, got {len(arg_types)}", node)
        types = []
        for p, a in zip(lam.params, arg_types, strict=True):
            t = self.type_of(p.type, p)
            types.append(a if t is None else t)
        key = tuple(types)
        if key not in info.instances:
            sub = FunctionCompiler(self.unit, f"{self.function_name}::<lambda>", self.binder.text, self.namespace, info)
            params = tuple(sub.declare(p.name, t, p, const=True) for p, t in zip(lam.params, types, strict=True))
            sub.returns = None if lam.returns is None else sub.type_of(lam.returns, lam)
            body = sub.block(lam.body.statements)
            captured = tuple(own for _, own in sub.captured.values())
            fn = sub.finish(lam, params + captured, body, len(params))
            self.unit.add_lifted(fn, tuple(outer for outer, _ in sub.captured.values()))
            info.instances[key] = fn
        fn = info.instances[key]
        self.calls.add(fn.id)
        captured_args = [self.binder.bind_Name(S.Name(node.pos, v.name)) for v in self.unit.lifted_captures(fn.id)]
        return fn, captured_args

    def lambda_argument(self, node: S.Node) -> LambdaInfo | None:
        """The lambda an argument names or spells (``Map(v, pt)``, ``Map(v, [](float x) {...})``)."""
        if isinstance(node, C.Lambda):
            return LambdaInfo(node, self, len(self.scopes))
        if isinstance(node, S.Name):
            found = self.resolve(node.name, node)
            if isinstance(found, LambdaInfo):
                return found
        return None

    # -- statements ------------------------------------------------------------------
    def block(self, statements: tuple[S.Node, ...], scope: bool = True) -> tuple[P.Stmt, ...]:
        if scope:
            self.scopes.append({})
        try:
            out: list[P.Stmt] = []
            for s in statements:
                out.extend(self.statement(s))
            return tuple(out)
        finally:
            if scope:
                self.scopes.pop()

    def statement(self, node: S.Node) -> list[P.Stmt]:
        handler: Callable[[S.Node], list[P.Stmt]] | None = getattr(self, f"stmt_{type(node).__name__}", None)
        if handler is None:
            raise self.binder.unsupported(f"this statement ({type(node).__name__})", node)
        return handler(node)

    def stmt_Block(self, node: S.Block) -> list[P.Stmt]:
        return list(self.block(node.statements))

    def stmt_Declaration(self, node: S.Declaration) -> list[P.Stmt]:
        b = self.binder
        if node.init == "=" and isinstance(node.args[0], C.Lambda):
            if node.type.name != "auto":
                raise b.unsupported("a lambda stored in a variable that is not 'auto'", node)
            self.scopes[-1][node.name] = LambdaInfo(node.args[0], self, len(self.scopes))
            return []
        t = self.type_of(node.type, node)
        args = [] if node.init in ("{}", "={}") and t is not None and t.is_rvec else [b.bind(a) for a in node.args]
        if t is None:
            if node.init not in ("=", "()", "{}") or len(args) != 1:
                raise b.error(f"'auto {node.name}' needs one initializer", node)
            value: ir.Expr | None = args[0]
            t = args[0].type
            if not t.scalar.is_arithmetic and not t.scalar.is_vector4:
                raise b.error(f"cannot declare a variable of type {t.short}", node)
        elif t.is_rvec:
            value = self.rvec_init(t, node.init, args if args else list(node.args), node)
        elif t.scalar.is_vector4 and node.init in ("()", "{}") and len(args) != 1:
            value = b.construct(t.scalar.cpp, S.Call(node.pos, t.scalar.cpp, node.args, template="()"))
        elif node.init == "":
            value = None
        else:
            if len(args) != 1:
                raise b.error(f"{t.short} {node.name} takes one initializer, got {len(args)}", node)
            value = b.convert(args[0], t, node, f"the initializer of {node.name!r}")
        var = self.declare(node.name, t, node, const=node.type.const)
        return [P.Let(var, value)]

    def rvec_init(self, t: CType, init: str, args: list, node) -> ir.Expr | None:
        """The value an RVec is initialized with: ``(n)``, ``(n, v)``, ``(other)``, ``{a, b}``, ``= e``."""
        b = self.binder
        if init in ("{}", "={}"):
            items = [b.bind(a) if isinstance(a, S.Node) else a for a in args]
            if t.depth == 2 and not items:
                return None
            if not items:
                return None
            return ir.Call(t, "RVecOf", tuple(b.convert(i, t.element, node, "an element") for i in items))
        bound = [a if isinstance(a, ir.Expr) else b.bind(a) for a in args]
        if init == "":
            return None
        if len(bound) == 1 and bound[0].type.is_rvec:
            return b.convert(bound[0], t, node, "the initializer")
        if init == "=" and len(bound) == 1:
            raise b.error(f"cannot initialize {t.short} from {bound[0].type.short}", node)
        if not 1 <= len(bound) <= 2 or not all(x.type.depth == 0 and x.type.scalar.is_integral for x in bound[:1]):
            raise b.error(f"{t.short}(n[, value]) takes a size and an optional value", node)
        size = b.cast(bound[0], SIZE_T)
        if t.depth == 2:
            if len(bound) == 2:
                raise b.unsupported("RVec<RVec<T>>(n, value)", node)
            return ir.Call(t, "cpp.rows", (size,))
        element = t.element
        if element.scalar.is_vector4:
            fill = bound[1] if len(bound) == 2 else ir.Call(element, "vec4.new", (ir.Literal(DOUBLE, 0.0),) * 4)
        else:
            fill = bound[1] if len(bound) == 2 else ir.Literal(element, convert_literal(0, element.scalar))
        return ir.Call(t, "RVec", (size, b.convert(fill, element, node, "the fill value")))

    @staticmethod
    def empty_rvec(t: CType) -> ir.Expr:
        if t.depth == 2:
            return ir.Call(t, "cpp.rows", (ir.Literal(SIZE_T, 0),))
        element = t.element
        fill = (ir.Call(element, "vec4.new", (ir.Literal(DOUBLE, 0.0),) * 4) if element.scalar.is_vector4
                else ir.Literal(element, convert_literal(0, element.scalar)))  # fmt: skip
        return ir.Call(t, "RVec", (ir.Literal(SIZE_T, 0), fill))

    def target_var(self, node: S.Node) -> P.Var:
        """The variable an assignable expression (``x``, ``v[i]``, ``m[i][j]``) writes to."""
        root = node
        while isinstance(root, S.Index):
            root = root.value
        if not isinstance(root, S.Name):
            raise self.binder.unsupported("assigning to this expression", node)
        found = self.resolve(root.name, root)
        if not isinstance(found, P.Var) or found.id.startswith("g"):
            raise self.binder.error(f"cannot assign to {root.name!r}", root)
        if found.const or any(own is found for _, own in self.captured.values()):
            raise self.binder.error(f"cannot assign to {root.name!r}: it is const", root)
        self.modified.add(found.id)
        return found

    def stmt_Store(self, node: C.Store) -> list[P.Stmt]:
        b = self.binder
        var = self.target_var(node.target)
        target = b.bind(node.target)
        if node.op in ("++", "--"):
            value = b.binary_op(node.op[0], target, ir.Literal(INT, 1), node)
        elif isinstance(node.value, C.BraceList):
            if node.op != "=" or not target.type.is_rvec:
                raise b.error("a braced list can only be assigned to an RVec", node)
            value = self.rvec_init(target.type, "{}", list(node.value.items), node) or self.empty_rvec(target.type)
        else:
            assert node.value is not None
            value = b.bind(node.value)
            if node.op != "=":
                value = b.binary_op(node.op[:-1], target, value, node)
        value = b.convert(value, target.type, node, "the assigned value")
        if isinstance(target, ir.Column):
            return [P.Assign(var, value)]
        assert isinstance(target, ir.Index)
        if target.value.type.depth == 1 and target.type.is_rvec:
            raise b.unsupported("assigning a whole row of an RVec<RVec<T>>", node)
        return [P.SetItem(target, value)]

    def stmt_ExprStatement(self, node: C.ExprStatement) -> list[P.Stmt]:
        b = self.binder
        expr = node.expr
        if not isinstance(expr, S.Member) or expr.name not in _RVEC_MUTATORS:
            raise b.unsupported("a call whose value is discarded (helpers have no side effects)", node)
        self.target_var(expr.value)
        target = b.bind(expr.value)
        if not target.type.is_rvec:
            raise b.error(f".{expr.name}() needs an RVec, got {target.type.short}", node)
        args = [b.bind(a) for a in expr.args]
        element = target.type.element
        if expr.name in ("push_back", "emplace_back"):
            value: ir.Expr
            if expr.name == "emplace_back" and element.scalar.is_vector4 and len(args) == 4:
                value = ir.Call(element, "vec4.new", tuple(b.convert(a, DOUBLE, node, "a coordinate") for a in args))
            elif len(args) != 1:
                raise b.error(f".{expr.name}() takes one value, got {len(args)}", node)
            else:
                value = b.convert(args[0], element, node, f"the value of {expr.name}")
            return [P.Append(target, value)]
        if expr.name == "reserve":
            return []
        if expr.name == "clear" and not args:
            return [P.Resize(target, ir.Literal(SIZE_T, 0), ir.Literal(LONG, 0))]
        if expr.name == "resize" and 1 <= len(args) <= 2 and target.type.depth == 1 and not element.scalar.is_vector4:
            fill = b.convert(args[1], element, node, "the fill value") if len(args) == 2 else ir.Literal(
                element, convert_literal(0, element.scalar))  # fmt: skip
            return [P.Resize(target, b.cast(args[0], SIZE_T), fill)]
        raise b.unsupported(f".{expr.name}() with these arguments", node)

    def condition(self, node: S.Node) -> ir.Expr:
        cond = self.binder.bind(node)
        if cond.type.depth or not cond.type.scalar.is_arithmetic:
            raise self.binder.error(f"a condition must be a number or bool, got {cond.type.short}", node)
        return self.binder.convert(cond, BOOL, node, "the condition")

    def stmt_If(self, node: S.If) -> list[P.Stmt]:
        cond = self.condition(node.cond)
        then = self.block((node.then,))
        other = self.block((node.other,)) if node.other is not None else ()
        return [P.If(cond, then, other)]

    def stmt_While(self, node: C.While) -> list[P.Stmt]:
        cond = self.condition(node.cond)
        self.loops.append(())
        try:
            body = self.block((node.body,))
        finally:
            self.loops.pop()
        return [P.Loop(cond, body, ())]

    def stmt_ForLoop(self, node: C.ForLoop) -> list[P.Stmt]:
        self.scopes.append({})
        try:
            init: list[P.Stmt] = []
            for s in node.init:
                init.extend(self.statement(s))
            cond = self.condition(node.cond) if node.cond is not None else ir.Literal(BOOL, True)
            step: list[P.Stmt] = []
            for s in node.step:
                step.extend(self.statement(s))
            self.loops.append(tuple(step))
            try:
                body = self.block((node.body,))
            finally:
                self.loops.pop()
            return [*init, P.Loop(cond, body, tuple(step))]
        finally:
            self.scopes.pop()

    def stmt_RangeFor(self, node: S.RangeFor) -> list[P.Stmt]:
        b = self.binder
        values = b.bind(node.range)
        if not values.type.is_rvec:
            raise b.error(f"a range-for needs an RVec, got {values.type.short}", node)
        declared = self.type_of(node.var_type, node)
        if declared is not None and declared != values.type.element:
            values = b.convert(values, CType(declared.scalar, values.type.depth), node, "the loop variable")
        self.scopes.append({})
        try:
            var = self.declare(node.var, values.type.element, node, const=node.var_type.const)
            self.loops.append(())
            try:
                body = self.block((node.body,))
            finally:
                self.loops.pop()
        finally:
            self.scopes.pop()
        return [P.ForEach(var, values, body)]

    def stmt_Break(self, node: C.Break) -> list[P.Stmt]:
        if not self.loops:
            raise self.binder.error("'break' outside a loop", node)
        return [P.Break()]

    def stmt_Continue(self, node: C.Continue) -> list[P.Stmt]:
        if not self.loops:
            raise self.binder.error("'continue' outside a loop", node)
        return [P.Continue(self.loops[-1])]

    def stmt_Return(self, node: S.Return) -> list[P.Stmt]:
        b = self.binder
        if isinstance(node.value, C.BraceList):
            if self.returns is None or not self.returns.is_rvec:
                raise b.error("return {...} needs a declared RVec return type", node)
            value = self.rvec_init(self.returns, "{}", list(node.value.items), node) or self.empty_rvec(self.returns)
            return [P.Return(value)]
        value = b.bind(node.value)
        if self.returns is None:  # auto: deduced from the first return
            if not (value.type.scalar.is_arithmetic or value.type.scalar.is_vector4):
                raise b.error(f"cannot return {value.type.short}", node)
            self.returns = value.type
        return [P.Return(b.convert(value, self.returns, node, "the return value"))]


def _always_returns(body: tuple[P.Stmt, ...]) -> bool:
    for s in body:
        if isinstance(s, P.Return):
            return True
        if isinstance(s, P.If) and _always_returns(s.then) and _always_returns(s.other):
            return True
        if isinstance(s, P.Loop) and isinstance(s.cond, ir.Literal) and s.cond.value and not _breaks(s.body):
            return True
    return False


def _breaks(body: tuple[P.Stmt, ...]) -> bool:
    for s in body:
        if isinstance(s, P.Break):
            return True
        if isinstance(s, P.If) and (_breaks(s.then) or _breaks(s.other)):
            return True
    return False


__all__ = ["FunctionBinder", "FunctionCompiler", "UnknownFunctionError", "ctype_of"]
