"""Parser for declared C++ helper code: the expression parser, extended to whole functions.

:class:`CppParser` subclasses the expression :class:`~hepframe.expr.parser.Parser` (one front
end): expressions and the statements of Define bodies parse as they do there, and this adds what
helper code needs at namespace scope (function definitions, ``using`` aliases and alias
templates, constants, namespaces, ``#include``) and inside functions (any ``for``, ``while``,
``break``/``continue``, assignments to elements, member calls such as ``push_back``, lambdas,
Lorentz-vector types). What is outside the subset raises a positioned UnsupportedSyntaxError that
names the construct. Types are resolved while parsing, as a C++ compiler does: an alias must be
declared before it is used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from hepframe.cpp import syntax as C
from hepframe.errors import ExpressionSyntaxError, UnsupportedSyntaxError
from hepframe.expr import syntax as S
from hepframe.expr.parser import (
    _ASSIGN_OPS,
    _RVEC_TEMPLATES,
    _RVEC_TYPEDEFS,
    _TYPE_PREFIXES,
    Parser,
    Token,
    _normalize_name,
)
from hepframe.expr.types import TYPE_NAMES, Scalar

CPP_HINT = "; see docs/cpp-helpers.md for the C++ that hepframe compiles"

#: Lorentz-vector spellings (qualified or not) -> the canonical type name (Scalar.cpp).
VECTOR_TYPES = {
    "PtEtaPhiMVector": Scalar.PTETAPHIM, "PtEtaPhiEVector": Scalar.PTETAPHIE,
    "PxPyPzEVector": Scalar.PXPYPZE, "XYZTVector": Scalar.PXPYPZE, "XYZTLorentzVector": Scalar.PXPYPZE,
    "PxPyPzMVector": Scalar.PXPYPZM,
}  # fmt: skip
_COORDINATES = {"PtEtaPhiM4D": Scalar.PTETAPHIM, "PtEtaPhiE4D": Scalar.PTETAPHIE, "PxPyPzE4D": Scalar.PXPYPZE,
                "PxPyPzM4D": Scalar.PXPYPZM}  # fmt: skip
#: Function templates called with an explicit type argument: ``Construct<V>(...)``.
TEMPLATE_FUNCTIONS = {"Construct"}
_SPECIFIERS = {"inline", "static", "constexpr", "const", "extern"}
_UNSUPPORTED_TOP = {
    "class": "a class definition (hepframe compiles free functions)", "struct": "a struct definition",
    "union": "a union", "enum": "an enum", "typedef": None, "extern": "an extern declaration",
    "operator": "an operator overload", "friend": "a friend declaration", "virtual": "a virtual function",
}  # fmt: skip
_UNSUPPORTED_IN_FUNCTION = {
    "do": "a do-while loop", "switch": "a switch statement", "case": "a switch statement", "goto": "'goto'",
    "try": "exception handling", "throw": "exception handling (throw)", "catch": "exception handling",
    "static": "a static local variable (it keeps state between events)", "thread_local": "a thread_local variable",
    "new": "'new' (dynamic allocation)", "delete": "'delete'", "class": "a local class", "struct": "a local struct",
    "std::cout": "I/O (std::cout)", "printf": "I/O (printf)", "std::printf": "I/O (printf)",
    "std::cerr": "I/O (std::cerr)", "template": "a template", "typedef": "a typedef",
}  # fmt: skip
#: Headers whose content hepframe provides itself (ROOT, the C++ standard library).
_BUILTIN_HEADER_PREFIXES = ("ROOT/", "Math/", "T", "c", "std", "vector", "algorithm", "numeric", "array", "utility",
                            "functional", "limits", "iostream", "string", "tuple", "memory", "Rtypes")  # fmt: skip


@dataclass
class Scope:
    """Names declared so far in all Declares (C++ interpreter state): aliases and alias templates."""

    aliases: dict[str, S.TypeSpec] = field(default_factory=dict)
    alias_templates: dict[str, tuple[str, S.TypeSpec]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # #included files by path, as read (replayed on Spark tasks)


class CppParser(Parser):
    """Parse a translation unit of helper code into FunctionDef and GlobalConst nodes."""

    def __init__(self, text: str, scope: Scope, path: str | None = None, include_depth: int = 0):
        super().__init__(text)
        self.scope = scope
        self.path = path
        self.include_depth = include_depth
        self.namespaces: list[str] = []
        self.template_params: dict[str, str] = {}  # inside an alias template: T -> placeholder

    def unsupported(self, construct: str, tok) -> UnsupportedSyntaxError:  # type: ignore[override]
        return UnsupportedSyntaxError(f"{construct} is not supported in C++ helpers{CPP_HINT}", self.text, tok.pos,
                                      max(1, len(tok.text)))  # fmt: skip

    # -- translation unit ------------------------------------------------
    def unit(self) -> list[C.FunctionDef | C.GlobalConst]:
        out: list[C.FunctionDef | C.GlobalConst] = []
        while self.tok.kind != "end":
            out.extend(self.top_level())
        if self.namespaces:
            raise self.error(f"namespace {self.namespaces[-1]!r} is not closed with '}}'")
        return out

    def qualified(self, name: str) -> str:
        return "::".join([*self.namespaces, name])

    def top_level(self) -> list[C.FunctionDef | C.GlobalConst]:
        tok = self.tok
        if self.at(";"):
            self.advance()
            return []
        if self.at("#"):
            return self.directive()
        if self.at("}"):
            if not self.namespaces:
                raise self.error("unmatched '}'")
            self.advance()
            self.namespaces.pop()
            return []
        if tok.kind != "name":
            raise self.error(f"expected a declaration, found {tok.text!r}")
        word = _normalize_name(tok.text)
        if word == "namespace":
            self.advance()
            name = self.tok
            if name.kind != "name" or not self.peek().text == "{":
                raise self.unsupported("an anonymous or aliased namespace", name)
            self.advance()
            self.advance()
            self.namespaces.extend(_normalize_name(name.text).split("::"))
            return []
        if word == "using":
            self.using()
            return []
        if word == "template":
            self.alias_template()
            return []
        if word == "typedef":
            self.advance()
            spec = self.cpp_type()
            name = self.expect_name("a typedef name")
            self.expect(";", " after the typedef")
            self.scope.aliases[self.qualified(name.text)] = spec
            return []
        construct = _UNSUPPORTED_TOP.get(word)
        if construct:
            raise self.unsupported(construct, tok)
        return [self.declaration_at_namespace_scope()]

    def expect_name(self, what: str):
        tok = self.tok
        if tok.kind != "name":
            raise self.error(f"expected {what}, found {tok.text!r}")
        self.advance()
        return tok

    def directive(self) -> list[C.FunctionDef | C.GlobalConst]:
        hash_tok = self.advance()
        word = self.tok
        if word.kind == "name" and word.text == "pragma" and self.peek().text == "once":
            self.i += 2
            return []
        if word.kind != "name" or word.text != "include":
            raise self.unsupported(f"the preprocessor directive '#{word.text}'", hash_tok)
        self.advance()
        if self.tok.kind == "string":
            header = self.advance().text[1:-1]
        elif self.at("<"):
            parts = []
            self.advance()
            while not self.at(">") and self.tok.kind != "end":
                parts.append(self.advance().text)
            self.expect(">", " to close the #include")
            header = "".join(parts)
        else:
            raise self.error("expected \"file\" or <file> after #include")
        return self.include(header, hash_tok)

    def include(self, header: str, tok) -> list[C.FunctionDef | C.GlobalConst]:
        base = os.path.dirname(self.path) if self.path else os.getcwd()
        path = os.path.abspath(os.path.join(base, header))
        if path not in self.scope.files and not os.path.isfile(path):
            if header.startswith(_BUILTIN_HEADER_PREFIXES):
                return []  # ROOT and the standard library: provided by hepframe itself
            raise ExpressionSyntaxError(f"#include {header!r}: no such file (looked in {base})", self.text, tok.pos)
        if self.include_depth >= 16:
            raise self.error(f"#include nested more than 16 levels deep at {header!r}", tok)
        if path not in self.scope.files:
            with open(path, encoding="utf-8") as f:
                self.scope.files[path] = f.read()
        text = self.scope.files[path]
        return CppParser(text, self.scope, path, self.include_depth + 1).unit()

    def using(self) -> None:
        using_tok = self.advance()
        if self.tok.kind == "name" and self.tok.text == "namespace":
            self.advance()
            self.expect_name("a namespace name")
            self.expect(";", " after 'using namespace'")
            return  # names resolve with and without their namespaces
        name = self.expect_name("a name after 'using'")
        if self.at("="):
            self.advance()
            start = self.i
            try:
                spec = self.cpp_type()
            except (ExpressionSyntaxError, UnsupportedSyntaxError):  # e.g. ROOT::RDF::RNode: harmless until used
                self.i = start
                spec = S.TypeSpec("?" + _normalize_name(self.tok.text))
                while not self.at(";") and self.tok.kind != "end":
                    self.advance()
            self.expect(";", " after the alias")
            self.scope.aliases[self.qualified(name.text)] = spec
            return
        self.expect(";", " after the using-declaration")
        full = _normalize_name(name.text)
        short = full.split("::")[-1]
        if full in self.scope.aliases or short in VECTOR_TYPES:
            self.scope.aliases[self.qualified(short)] = self.scope.aliases.get(full) or S.TypeSpec(VECTOR_TYPES[short].cpp)
        elif short in _TYPE_PREFIXES or short in _RVEC_TYPEDEFS or short in ("RVec", "vector"):
            pass  # already known by its short name
        # functions (using ROOT::VecOps::Construct;) resolve by their short names anyway
        del using_tok

    def alias_template(self) -> None:
        template_tok = self.advance()
        self.expect("<", " after 'template'")
        if not (self.tok.kind == "name" and self.tok.text in ("typename", "class")):
            raise self.unsupported("a template with non-type parameters", self.tok)
        self.advance()
        param = self.expect_name("a template parameter name").text
        if not self.at(">"):
            raise self.unsupported("a template with several parameters", self.tok)
        self.advance()
        if not (self.tok.kind == "name" and self.tok.text == "using"):
            raise self.unsupported("a function or class template (only alias templates 'template <typename T> "
                                   "using Vec = ...;' are)", template_tok)  # fmt: skip
        self.advance()
        name = self.expect_name("an alias name")
        self.expect("=", " in the alias template")
        self.template_params = {param: "$T"}
        try:
            spec = self.cpp_type()
        finally:
            self.template_params = {}
        self.expect(";", " after the alias template")
        self.scope.alias_templates[self.qualified(name.text)] = ("$T", spec)

    def declaration_at_namespace_scope(self) -> C.FunctionDef | C.GlobalConst:
        start = self.tok
        specifiers: set[str] = set()
        while self.tok.kind == "name" and self.tok.text in _SPECIFIERS:
            specifiers.add(self.advance().text)
        if self.tok.kind == "name" and self.tok.text == "void":
            raise self.unsupported("a function returning void (a helper computes a value for Define or Filter)", self.tok)
        spec = self.cpp_type()
        name = self.expect_name("a function or constant name")
        if "::" in name.text:
            raise self.unsupported("a member function definition", name)
        if self.at("("):
            return self.function(spec, name, start)
        if not ({"const", "constexpr"} & specifiers or spec.const):
            raise self.unsupported("a global variable that is not const (global mutable state)", name)
        if self.at("{") or self.at("("):
            raise self.unsupported("this form of initialization of a constant", self.tok)
        self.expect("=", f" to initialize constant {name.text!r}")
        value = self.expression(0)
        self.expect(";", " after the constant")
        return C.GlobalConst(name.pos, replace(spec, const=True), self.qualified(name.text), value, self.text)

    def parameters(self) -> list[C.Param]:
        """``(T a, const U& b)`` of a function or a lambda (``(void)`` is none)."""
        self.expect("(")
        params: list[C.Param] = []
        if self.tok.kind == "name" and self.tok.text == "void" and self.peek().text == ")":
            self.advance()
        while not self.at(")"):
            params.append(self.param())
            if self.at(","):
                self.advance()
            elif not self.at(")"):
                raise self.error("expected ',' or ')' in the parameter list")
        self.advance()
        return params

    def function(self, returns: S.TypeSpec, name, start) -> C.FunctionDef:
        params = self.parameters()
        if self.tok.kind == "name" and self.tok.text in ("const", "noexcept", "override"):
            self.advance()
        if self.at("->"):
            self.advance()
            returns = self.cpp_type()
        if self.at(";"):
            raise self.unsupported("a function declaration without a body", name)
        body = self.block()
        del start
        return C.FunctionDef(name.pos, self.qualified(name.text), tuple(params), returns, body, self.text)

    def param(self) -> C.Param:
        spec = self.cpp_type()
        name = self.expect_name("a parameter name")
        if self.at("="):
            raise self.unsupported("a default argument", self.tok)
        if self.at("["):
            raise self.unsupported("a C array parameter", self.tok)
        return C.Param(name.pos, spec, name.text)

    # -- types -------------------------------------------------------------
    def cpp_type(self) -> S.TypeSpec:
        """A type with its qualifiers; aliases and alias templates are expanded."""
        const = False
        while self.tok.kind == "name" and self.tok.text in ("const", "constexpr", "volatile"):
            const = True
            self.advance()
        start = self.tok
        spec = self.base_type()
        if spec is None:
            raise self.error(f"expected a type, found {start.text!r}", start)
        while self.tok.kind == "name" and self.tok.text == "const":
            const = True
            self.advance()
        reference = spec.reference
        if self.at("&") or self.at("&&"):
            reference = self.advance().text
        if self.at("*"):
            raise self.unsupported("a pointer", self.tok)
        return S.TypeSpec(spec.name, const or spec.const, reference, spec.array_size)

    def base_type(self) -> S.TypeSpec | None:
        tok = self.tok
        if tok.kind != "name":
            return None
        word = _normalize_name(tok.text)
        short = word.split("::")[-1]
        if word in self.template_params:
            self.advance()
            return S.TypeSpec(self.template_params[word])
        if word == "auto":
            self.advance()
            return S.TypeSpec("auto")
        if word in _TYPE_PREFIXES:
            return S.TypeSpec(TYPE_NAMES[self.type_name()].cpp)
        if word in _RVEC_TEMPLATES:
            self.advance()
            return S.TypeSpec(f"RVec<{self.template_argument()}>") if self.at("<") else None
        if short in _RVEC_TYPEDEFS and (word == short or word.startswith("ROOT::")):
            self.advance()
            return S.TypeSpec(f"RVec<{_RVEC_TYPEDEFS[short]}>")
        if word in ("std::array", "array"):
            return super().type_spec()  # the expression parser's std::array<T, N>
        if short in VECTOR_TYPES and (word == short or word.startswith("ROOT::Math::")):
            self.advance()
            return S.TypeSpec(VECTOR_TYPES[short].cpp)
        if short == "LorentzVector" and word in ("LorentzVector", "ROOT::Math::LorentzVector"):
            self.advance()
            self.expect("<", " after LorentzVector")
            coords = self.expect_name("a coordinate system such as ROOT::Math::PtEtaPhiM4D<double>")
            system = _COORDINATES.get(_normalize_name(coords.text).split("::")[-1])
            if system is None:
                raise self.unsupported(f"the coordinate system {coords.text!r}", coords)
            self.expect("<", " after the coordinate system")
            if self.type_name() not in ("double", "Double_t"):
                raise self.unsupported("Lorentz vectors of float (ROOT::Math vectors of double are)", coords)
            self.close_angle()
            self.close_angle()
            return S.TypeSpec(system.cpp)
        found = self.lookup_alias(word)
        if found is not None:
            self.advance()
            kind, spec = found
            if kind == "template":
                placeholder, body = self.scope.alias_templates[spec]  # type: ignore[index]
                if not self._open_template():
                    raise self.error(f"alias template {word!r} needs a type argument, e.g. {word}<float>")
                argument = self.template_type()
                self.close_angle()
                return S.TypeSpec(body.name.replace(placeholder, argument), body.const, body.reference, body.array_size)
            return spec  # type: ignore[return-value]
        return None

    def close_angle(self) -> None:
        # '>>' closes two template argument lists: split it into two tokens (not rewritten in place,
        # since a look-ahead that backtracks reads the same tokens again).
        if self.at(">>"):
            tok = self.tok
            self.tokens[self.i : self.i + 1] = [Token("op", ">", tok.pos), Token("op", ">", tok.pos + 1)]
        self.expect(">", " to close the template argument")

    def _open_template(self) -> bool:
        if not self.at("<"):
            return False
        self.advance()
        return True

    def template_type(self) -> str:
        """The type inside ``<...>``, as a canonical type name (the caller closes the bracket)."""
        start = self.tok
        spec = self.base_type()
        if spec is None or spec.reference or spec.name == "auto":
            raise self.error("expected a type argument", start)
        return spec.name

    def lookup_alias(self, word: str):
        for k in range(len(self.namespaces), -1, -1):
            name = "::".join([*self.namespaces[:k], word])
            if name in self.scope.alias_templates:
                return "template", name
            if name in self.scope.aliases:
                return "alias", self.scope.aliases[name]
        return None

    def is_type_start(self) -> bool:
        save = self.i
        try:
            while self.tok.kind == "name" and self.tok.text in ("const", "constexpr"):
                self.advance()
            spec = self.base_type()
            if spec is None:
                return False
            while self.tok.kind == "name" and self.tok.text == "const" or self.at("&") or self.at("&&"):
                self.advance()
            return self.tok.kind == "name"
        except (ExpressionSyntaxError, UnsupportedSyntaxError):
            return False
        finally:
            self.i = save

    def type_spec(self) -> S.TypeSpec:  # the declarations of statement blocks use it
        word = _normalize_name(self.tok.text) if self.tok.kind == "name" else ""
        if word in ("std::array", "array"):
            return super().type_spec()
        return self.cpp_type()

    def declaration_ahead(self) -> bool:
        return self.is_type_start()

    def function_body(self) -> S.Block:
        """A Define/Filter string as a function body: its statements, or ``return text;``."""
        if self.tok.kind == "end":
            raise self.error("empty expression")
        if any(t.kind == "name" and t.text == "return" for t in self.tokens):
            last = self.tokens[-2]
            if not (last.kind == "op" and last.text in (";", "}")):  # ROOT appends ';}': the last ';' is optional
                self.tokens.insert(len(self.tokens) - 1, Token("op", ";", len(self.text)))
            statements: list[S.Node] = []
            while self.tok.kind != "end":
                if self.at(";") and self.peek().kind == "end":
                    self.advance()
                    break
                statements.extend(self.statement())
            return S.Block(0, tuple(statements))
        value = self.expression(0)
        if self.at(";"):
            self.advance()
        if self.tok.kind != "end":
            raise self.error(f"unexpected {self.tok.text!r} after a complete expression")
        return S.Block(0, (S.Return(0, value),))

    # -- statements ----------------------------------------------------------
    def _statement(self) -> tuple[S.Node, ...]:
        tok = self.tok
        if self.at(";"):
            self.advance()
            return ()
        if self.at("{"):
            return (self.block(),)
        if tok.kind == "name":
            word = _normalize_name(tok.text)
            if word == "return":
                self.advance()
                value = C.BraceList(self.tok.pos, self.braced_list("return ")) if self.at("{") else self.expression(0)
                self.expect(";", " after the return value")
                return (S.Return(tok.pos, value),)
            if word == "if":
                return (self.if_statement(),)
            if word == "for":
                return (self.for_loop(),)
            if word == "while":
                self.advance()
                self.expect("(", " after 'while'")
                cond = self.expression(0)
                self.expect(")", " to close the while condition")
                return (C.While(tok.pos, cond, self.substatement()),)
            if word == "using":  # a using-declaration or alias in a body (visible from here on)
                self.using()
                return ()
            if word in ("break", "continue"):
                self.advance()
                self.expect(";", f" after '{word}'")
                return ((C.Break if word == "break" else C.Continue)(tok.pos),)
            if word == "else":
                raise self.error("'else' without a matching 'if'")
            if word in _UNSUPPORTED_IN_FUNCTION:
                raise self.unsupported(_UNSUPPORTED_IN_FUNCTION[word], tok)
            if self.declaration_ahead():
                declarations = self.declarations()
                self.expect(";", " to end the declaration")
                return declarations
        statement = self.simple_statement()
        self.expect(";", " to end the statement")
        return (statement,)

    def simple_statement(self) -> S.Node:
        """An assignment, increment or call statement (no ';'): also the parts of a for header."""
        start = self.tok
        if start.kind == "op" and start.text in ("++", "--"):
            self.advance()
            target = self.postfix_chain(self.primary())
            return C.Store(target.pos, target, start.text, None, start.pos)
        target = self.postfix_chain(self.primary())
        op = self.tok
        if op.kind == "op" and op.text in _ASSIGN_OPS:
            self.advance()
            value = C.BraceList(self.tok.pos, self.braced_list("")) if self.at("{") else self.expression(0)
            return C.Store(start.pos, target, op.text, value, op.pos)
        if op.kind == "op" and op.text in ("++", "--"):
            self.advance()
            return C.Store(start.pos, target, op.text, None, op.pos)
        if isinstance(target, (S.Member, S.Call)):
            return C.ExprStatement(start.pos, target)
        raise self.unsupported("an expression statement whose value is discarded", start)

    def for_loop(self) -> S.Node:
        for_tok = self.advance()
        self.expect("(", " after 'for'")
        init: tuple[S.Node, ...] = ()
        if self.declaration_ahead():
            save = self.i
            spec = self.cpp_type()
            var = self.expect_name("a loop variable")
            if self.at(":"):
                self.advance()
                range_ = self.expression(0)
                self.expect(")", " to close the for header")
                return S.RangeFor(for_tok.pos, spec, var.text, range_, self.substatement())
            self.i = save
            init = self.declarations()
        elif not self.at(";"):
            init = (self.simple_statement(),)
        self.expect(";", " after the for initializer")
        cond = None if self.at(";") else self.expression(0)
        self.expect(";", " after the for condition")
        step: list[S.Node] = []
        while not self.at(")"):
            step.append(self.simple_statement())
            if self.at(","):
                self.advance()
            elif not self.at(")"):
                raise self.error("expected ')' to close the for header")
        self.advance()
        return C.ForLoop(for_tok.pos, init, cond, tuple(step), self.substatement())

    # -- expressions -----------------------------------------------------------
    def postfix_chain(self, node: S.Node) -> S.Node:
        while self.tok.kind == "op":
            tok = self.tok
            if tok.text == "[":
                self.advance()
                index = self.expression(0)
                self.expect("]", " to close the index")
                node = S.Index(tok.pos, node, index)
            elif tok.text == ".":
                self.advance()
                name_tok = self.expect_name("a member name after '.'")
                self.expect("(", f" to call member {name_tok.text!r} (data members are not supported)")
                node = S.Member(name_tok.pos, node, name_tok.text, self.arguments())
            elif tok.text in ("->", "->*"):
                raise self.unsupported("pointer member access", tok)
            elif tok.text == "(" and isinstance(node, S.Name):
                self.advance()
                node = S.Call(node.pos, node.name, self.arguments())
            elif tok.text == "(":
                raise self.unsupported("calling the result of an expression", tok)
            else:
                break
        return node

    def primary(self) -> S.Node:
        tok = self.tok
        if tok.kind == "op" and tok.text == "[":
            return self.lambda_expression()
        if tok.kind == "name":
            word = _normalize_name(tok.text)
            short = word.split("::")[-1]
            if short in TEMPLATE_FUNCTIONS and self.peek().text == "<":
                self.advance()
                self.advance()
                argument = self.template_type()
                self.close_angle()
                self.expect("(", f" to call {word}<{argument}>")
                return S.Call(tok.pos, word, self.arguments(), template=argument)
            if short in VECTOR_TYPES or self.lookup_alias(word) is not None or short == "LorentzVector":
                spec = self.base_type()
                assert spec is not None
                if self.at("{"):
                    return S.Call(tok.pos, spec.name, self.braced_list(spec.name), template="{}")
                self.expect("(", f" to construct {spec.name}")
                return S.Call(tok.pos, spec.name, self.arguments(), template="()")
            if word in ("this", "nullptr", "sizeof", "decltype", "new", "delete", "std::cout", "printf"):
                raise self.unsupported(_UNSUPPORTED_IN_FUNCTION.get(word, f"'{word}'"), tok)
        return super().primary()

    def lambda_expression(self) -> C.Lambda:
        open_tok = self.advance()
        default, captures = "", []
        while not self.at("]"):
            if self.at("&") and self.peek().kind == "name":
                self.advance()
                captures.append(self.advance().text)
            elif self.at("&") or self.at("="):
                default = self.advance().text
            elif self.tok.kind == "name" and self.tok.text != "this":
                captures.append(self.advance().text)
            else:
                raise self.unsupported("this lambda capture", self.tok)
            if self.at(","):
                self.advance()
            elif not self.at("]"):
                raise self.error("expected ',' or ']' in the lambda capture list")
        self.advance()
        params = self.parameters() if self.at("(") else []
        if self.tok.kind == "name" and self.tok.text == "mutable":
            raise self.unsupported("a mutable lambda", self.tok)
        returns = None
        if self.at("->"):
            self.advance()
            returns = self.cpp_type()
        if not self.at("{"):
            raise self.error("expected '{' to open the lambda's body")
        return C.Lambda(open_tok.pos, default, tuple(captures), tuple(params), returns, self.block())


def parse_unit(text: str, scope: Scope, path: str | None = None) -> list[C.FunctionDef | C.GlobalConst]:
    """Parse declared C++ code; aliases are recorded in ``scope`` (shared by later declarations)."""
    if not isinstance(text, str):
        raise TypeError(f"C++ code must be a string, got {type(text).__name__}")
    return CppParser(text, scope, path).unit()
