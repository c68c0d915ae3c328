"""A Pratt parser for the C++ expression subset that RDataFrame strings use.

The parser never evaluates user text: it tokenizes with one regular expression and builds a
:mod:`~hepframe.expr.syntax` tree. Precedence and associativity follow C++ ([expr]); the
binding powers below are listed from loosest to tightest, as in a C++ precedence table.

A text that contains ``return`` is a function body, as in ROOT (which wraps any other text in
``return ...;``): :meth:`Parser.body` reads its statements (declarations, assignments, ``if``,
two forms of ``for``), which the binder lowers to one expression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

import numpy as np

from hepframe.errors import ExpressionSyntaxError, UnsupportedSyntaxError
from hepframe.expr import syntax as S
from hepframe.expr.types import TYPE_NAMES, Scalar

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+|//[^\n]*|/\*(?:[^*]|\*(?!/))*\*/)
  | (?P<number>0[xX][0-9a-fA-F]+(?:'[0-9a-fA-F]+)*[uUlL]*|0[bB][01]+(?:'[01]+)*[uUlL]*
      |(?:\d+(?:'\d+)*\.(?:\d+(?:'\d+)*)?|\.\d+(?:'\d+)*|\d+(?:'\d+)*)(?:[eE][+-]?\d+(?:'\d+)*)?[fFuUlL]*)
  | (?P<name>[A-Za-z_][A-Za-z_0-9]*(?:\s*::\s*[A-Za-z_][A-Za-z_0-9]*)*)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<char>'(?:[^'\\\n]|\\.)*')
  | (?P<op><<=|>>=|->\*|->|::|\+\+|--|&&|\|\||==|!=|<=|>=|<<|>>|[-+*/%&|^]=|[-+*/%<>!~&|^?:()\[\],.;{}=\#@$`\\])
    """,
    re.VERBOSE | re.ASCII,  # C++ source: no NBSP as space, no full-width digits or letters
)
# C++14 digit separators (1'000'000) are matched by the number rule, which comes before the
# character-literal rule: a quote right after a digit can only be a separator in C++.

#: C++'s alternative tokens ([lex.digraph]): the same tokens as the operators they spell.
ALTERNATIVE_TOKENS = {
    "and": "&&", "or": "||", "not": "!", "bitand": "&", "bitor": "|", "xor": "^", "compl": "~",
    "not_eq": "!=", "and_eq": "&=", "or_eq": "|=", "xor_eq": "^=",
}  # fmt: skip


@dataclass(frozen=True)
class Token:
    kind: str  # number, name, string, char, op, end
    text: str
    pos: int


# Binary operators: binding power, loosest first, all left-associative (C++ [expr]).
_BINARY_POWER = {
    "||": 30, "&&": 40, "|": 50, "^": 60, "&": 70,
    "==": 80, "!=": 80,
    "<": 90, "<=": 90, ">": 90, ">=": 90,
    "<<": 100, ">>": 100,
    "+": 110, "-": 110,
    "*": 120, "/": 120, "%": 120,
}  # fmt: skip
_TERNARY_POWER = 20
_UNARY_POWER = 130
_POSTFIX_POWER = 140

_RVEC_MEMBERS = {"size", "empty", "front", "back", "at"}
_STATEMENT_WORDS = {
    "for", "while", "do", "if", "else", "switch", "case", "auto", "const", "static", "new",
    "delete", "throw", "try", "catch", "goto", "typedef", "using", "template", "namespace",
    "class", "struct", "sizeof", "decltype", "operator", "this", "break", "continue", "void",
    "lambda", "import", "__import__", "exec", "eval",
}  # fmt: skip
UDF_HINT = (
    "; hepframe translates C++ expressions and simple statement blocks (docs/expressions.md): compute "
    "this in a vectorized Python UDF instead"
)
#: Statements that start with these words, and what to call them in the error.
_UNSUPPORTED_STATEMENTS = {
    "while": "a while loop", "do": "a do-while loop", "switch": "a switch statement", "case": "a switch statement",
    "break": "'break'", "continue": "'continue'", "goto": "'goto'", "try": "exception handling", "throw": "'throw'",
    "static": "a static local (it keeps state between events)", "thread_local": "a thread_local variable",
    "extern": "an extern declaration", "using": "a using declaration", "typedef": "a typedef",
    "namespace": "a namespace", "template": "a template", "class": "a class definition",
    "struct": "a struct definition", "enum": "an enum definition", "union": "a union definition",
}  # fmt: skip
_FOR_FORMS = (
    "this form of for loop (hepframe lowers 'for (auto x : v) body' and 'for (int i = 0; i < n; ++i) body', "
    "see docs/expressions.md)"
)
_ASSIGN_OPS = {"=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="}
_ARRAY_TEMPLATES = {"std::array", "array"}
_CAST_TEMPLATES = {"static_cast"}
_ESCAPES = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, "'": 39, '"': 34, "a": 7, "b": 8, "f": 12, "v": 11}
_MAX_DEPTH = 100  # nesting limit: deeper input is rejected instead of exhausting Python's stack
#: Height limit of the expression tree (a chain of N ``+`` is N high; scalar ``&&``/``||`` chains are balanced):
#: compiling walks the tree recursively, and this keeps every engine inside Python's default stack.
MAX_HEIGHT = 128
#: Length limit: parsing, binding and compiling are linear, but a 10,000-term filter would spend
#: seconds in every step; such lists belong in a Python UDF or a lookup, not in one string.
MAX_TOKENS = 10_000
_RVEC_TEMPLATES = {"RVec", "ROOT::RVec", "ROOT::VecOps::RVec", "std::vector", "vector"}
_RVEC_TYPEDEFS = {
    "RVecF": "float", "RVecD": "double", "RVecI": "int", "RVecU": "unsigned int",
    "RVecL": "long", "RVecUL": "unsigned long", "RVecB": "bool", "RVecC": "char",
}  # fmt: skip


def _normalize_name(text: str) -> str:
    return re.sub(r"\s*::\s*", "::", text)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; anything unrecognised is a positioned syntax error."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if text.startswith("/*", pos) and (m is None or m.lastgroup != "ws"):
            raise ExpressionSyntaxError("unterminated comment '/*'", text, pos, 2)
        if m is None:
            raise ExpressionSyntaxError(f"unexpected character {text[pos]!r}{_character_hint(text[pos])}", text, pos)
        kind = m.lastgroup or ""
        if kind != "ws":
            if len(tokens) == MAX_TOKENS:
                raise UnsupportedSyntaxError(
                    f"expression longer than {MAX_TOKENS} tokens; split it into several Defines or use a Python UDF",
                    text, pos, len(m.group()),
                )  # fmt: skip
            text_ = m.group()
            if kind == "name" and text_ in ALTERNATIVE_TOKENS:
                kind, text_ = "op", ALTERNATIVE_TOKENS[text_]
            tokens.append(Token(kind, text_, pos))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _character_hint(char: str) -> str:
    if char.isspace():
        return " (a non-ASCII space: C++ accepts only ASCII white space)"
    if char.isdigit() or char.isalpha():
        return " (C++ identifiers and numbers are ASCII)"
    return ""


def _nearest_float32(decimal: str, double: float) -> float:
    """The float32 nearest to the decimal number (ties to even), rounded once, as C++ rounds ``1.5f``.

    Rounding to double first and then to float can differ in the last bit (16777217.000000001f).
    """
    from fractions import Fraction

    with np.errstate(over="ignore"):
        guess = np.float32(double)
    if not np.isfinite(guess):
        return float(guess)
    exact = Fraction(decimal)
    candidates = [np.nextafter(guess, np.float32(-np.inf)), guess, np.nextafter(guess, np.float32(np.inf))]
    finite = [c for c in candidates if np.isfinite(c)]
    best = min(finite, key=lambda c: (abs(Fraction(float(c)) - exact), int(np.float32(c).view(np.uint32)) & 1))
    return float(best)


def _parse_number(tok: Token, text: str) -> S.Number:
    raw = tok.text
    lower = raw.lower().replace("'", "")  # digit separators do not change the value ([lex.icon])
    radix = 16 if lower.startswith("0x") else 2 if lower.startswith("0b") else 10
    body = lower.rstrip("ul") if radix != 10 else lower.rstrip("ful")
    suffix = lower[len(body) :]
    is_float = radix == 10 and ("." in body or "e" in body or "f" in suffix)
    if is_float:
        if suffix not in ("", "f", "l"):
            raise ExpressionSyntaxError(f"invalid floating-point literal {raw!r}", text, tok.pos, len(raw))
        value = float(body)
        if suffix == "f":  # a float literal is the float nearest to the decimal number
            value = _nearest_float32(body, value)
        return S.Number(tok.pos, raw, value, Scalar.FLOAT if suffix == "f" else Scalar.DOUBLE)
    if suffix not in ("", "u", "l", "ll", "ul", "lu", "ull", "llu"):
        raise ExpressionSyntaxError(f"invalid integer literal {raw!r}", text, tok.pos, len(raw))
    if len(body) > (70 if radix == 2 else 40):
        raise ExpressionSyntaxError(f"integer literal {raw[:20]}... is too large", text, tok.pos, len(raw))
    octal = radix == 10 and len(body) > 1 and body.startswith("0")
    if octal and any(c in "89" for c in body):
        raise ExpressionSyntaxError(f"invalid octal literal {raw!r}", text, tok.pos, len(raw))
    ivalue = int(body, 8 if octal else radix)
    unsigned, long_ = "u" in suffix, "l" in suffix
    # C++ [lex.icon]: the first type in the list that can represent the value.
    candidates: list[Scalar]
    if unsigned:
        candidates = [Scalar.ULONG] if long_ else [Scalar.UINT, Scalar.ULONG]
    elif radix != 10 or octal:  # hex, binary and octal may be unsigned, decimal not
        candidates = [Scalar.LONG, Scalar.ULONG] if long_ else [Scalar.INT, Scalar.UINT, Scalar.LONG, Scalar.ULONG]
    else:
        candidates = [Scalar.LONG] if long_ else [Scalar.INT, Scalar.LONG]
    for scalar in candidates:
        info_bits = scalar.dtype.itemsize * 8
        lo, hi = (0, 2**info_bits - 1) if scalar.is_unsigned else (-(2 ** (info_bits - 1)), 2 ** (info_bits - 1) - 1)
        if lo <= ivalue <= hi:
            return S.Number(tok.pos, raw, ivalue, scalar)
    raise ExpressionSyntaxError(f"integer literal {raw!r} is too large", text, tok.pos, len(raw))


class Parser:
    """Parse one RDataFrame expression string into a syntax tree."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    # -- token helpers -------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def at(self, text: str) -> bool:
        return self.tok.kind == "op" and self.tok.text == text

    def expect(self, text: str, what: str = "") -> Token:
        if not self.at(text):
            found = "end of expression" if self.tok.kind == "end" else repr(self.tok.text)
            raise ExpressionSyntaxError(f"expected {text!r}{what}, found {found}", self.text, self.tok.pos)
        return self.advance()

    def error(self, message: str, tok: Token | None = None) -> ExpressionSyntaxError:
        tok = tok or self.tok
        return ExpressionSyntaxError(message, self.text, tok.pos, max(1, len(tok.text)))

    def unsupported(self, construct: str, tok: Token) -> UnsupportedSyntaxError:
        return UnsupportedSyntaxError(f"{construct} is not supported{UDF_HINT}", self.text, tok.pos, max(1, len(tok.text)))

    # -- entry point ---------------------------------------------------
    def parse(self) -> S.Node:
        if self.tok.kind == "end":
            raise self.error("empty expression")
        if any(t.kind == "name" and t.text == "return" for t in self.tokens):
            return self.body()
        node = self.expression(0)
        if self.at(";") and self.peek().kind == "end":
            self.advance()
        if self.tok.kind != "end":
            if self.at(";"):
                raise self.unsupported("a sequence of statements", self.tok)
            if self.at("="):
                raise self.unsupported("assignment", self.tok)
            if self.tok.kind == "name" and self.tokens[self.i - 1].kind == "name":
                raise self.unsupported("a declaration", self.tokens[self.i - 1])
            raise self.error(f"unexpected {self.tok.text!r} after a complete expression")
        return node

    # -- Pratt loop ----------------------------------------------------
    def expression(self, min_power: int) -> S.Node:
        self.depth += 1
        try:
            return self._expression(min_power)
        finally:
            self.depth -= 1

    def _expression(self, min_power: int) -> S.Node:
        if self.depth > _MAX_DEPTH:
            raise self.error(f"expression nested more than {_MAX_DEPTH} levels deep")
        left = self.prefix()
        while True:
            tok = self.tok
            if tok.kind != "op":
                if tok.kind in ("name", "number", "string", "char") and left is not None:
                    if isinstance(left, S.Name) and left.name in TYPE_NAMES:
                        raise self.unsupported("a declaration", tok)
                    raise self.error(f"expected an operator before {tok.text!r}")
                return left
            op = tok.text
            if op in ("++", "--"):
                raise self.unsupported(f"the increment operator {op!r}", tok)
            if op in ("=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="):
                raise self.unsupported("assignment", tok)
            if op == "?" and _TERNARY_POWER >= min_power:
                self.advance()
                then = self.expression(0)
                self.expect(":", " in conditional expression")
                other = self.expression(_TERNARY_POWER)  # right-associative
                left = S.Conditional(tok.pos, left, then, other)
                continue
            power = _BINARY_POWER.get(op)
            if power is None or power <= min_power:
                return left
            if op in ("&&", "||"):
                left = self.logical_chain(op, power, left)
                continue
            self.advance()
            right = self.expression(power)
            left = S.Binary(tok.pos, op, left, right)

    def logical_chain(self, op: str, power: int, first: S.Node) -> S.Node:
        """``a && b && c ...`` as one flat node: the binder groups it once the operand types are known."""
        operands, positions = [first], []
        while self.at(op):
            positions.append(self.advance().pos)
            operands.append(self.expression(power))
        return S.Chain(positions[0], op, tuple(operands), tuple(positions))

    def prefix(self) -> S.Node:
        tok = self.tok
        if tok.kind == "op" and tok.text in ("+", "-", "!", "~"):
            self.advance()
            return S.Unary(tok.pos, tok.text, self.postfix_chain(self.prefix_operand()))
        if tok.kind == "op" and tok.text in ("++", "--"):
            raise self.unsupported(f"the increment operator {tok.text!r}", tok)
        return self.postfix_chain(self.primary())

    def prefix_operand(self) -> S.Node:
        # Unary operators bind tighter than every binary operator but looser than postfix.
        tok = self.tok
        if tok.kind == "op" and tok.text in ("+", "-", "!", "~"):
            self.advance()
            self.depth += 1
            try:
                if self.depth > _MAX_DEPTH:
                    raise self.error(f"expression nested more than {_MAX_DEPTH} levels deep")
                return S.Unary(tok.pos, tok.text, self.postfix_chain(self.prefix_operand()))
            finally:
                self.depth -= 1
        return self.primary()

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
                name_tok = self.tok
                if name_tok.kind != "name":
                    raise self.error("expected a member name after '.'")
                self.advance()
                calls = self.tok.kind == "op" and self.tok.text == "("
                if isinstance(node, S.Name) and not calls and name_tok.text not in _RVEC_MEMBERS:
                    # a dotted column name: friend-tree branches (aux.y) and leaves of split branches
                    node = S.Name(node.pos, f"{node.name}.{name_tok.text}")
                    continue
                if name_tok.text not in _RVEC_MEMBERS:
                    raise UnsupportedSyntaxError(
                        f"member function {name_tok.text!r} is not supported (RVec members: "
                        f"{', '.join(sorted(_RVEC_MEMBERS))}){UDF_HINT}",
                        self.text, name_tok.pos, len(name_tok.text),
                    )  # fmt: skip
                self.expect("(", f" to call member {name_tok.text!r}")
                args = self.arguments()
                node = S.Member(name_tok.pos, node, name_tok.text, args)
            elif tok.text in ("->", "->*"):
                raise self.unsupported("pointer member access", tok)
            elif tok.text == "(" and not isinstance(node, S.Name):
                raise self.unsupported("calling the result of an expression", tok)
            else:
                break
        return node

    def arguments(self) -> tuple[S.Node, ...]:
        args: list[S.Node] = []
        if self.at(")"):
            self.advance()
            return ()
        while True:
            args.append(self.expression(0))
            if self.at(","):
                self.advance()
                continue
            self.expect(")", " to close the argument list")
            return tuple(args)

    def type_name(self) -> str:
        """A (possibly multi-word) C++ arithmetic type name, e.g. ``unsigned int``."""
        words: list[str] = []
        start = self.tok
        while self.tok.kind == "name" and " ".join([*words, _normalize_name(self.tok.text)]) in _TYPE_PREFIXES:
            words.append(_normalize_name(self.advance().text))
        name = " ".join(words)
        if name not in TYPE_NAMES:
            raise self.error("expected a type name", start)
        return name

    def template_argument(self) -> str:
        """``<T>`` after a template name; T is an arithmetic type or (nested) ``RVec<...>``."""
        self.expect("<")
        name = self.template_type()
        self.close_angle()
        return name

    def template_type(self) -> str:
        if self.tok.kind == "name":
            word = _normalize_name(self.tok.text)
            if word in _RVEC_TEMPLATES:
                self.advance()
                return f"RVec<{self.template_argument()}>"
            if word.split("::")[-1] in _RVEC_TYPEDEFS:
                self.advance()
                return f"RVec<{_RVEC_TYPEDEFS[word.split('::')[-1]]}>"
        return self.type_name()

    def close_angle(self) -> None:
        # '>>' closes two template argument lists, as in C++11.
        if self.at(">>"):
            tok = self.tok
            self.tokens[self.i] = Token("op", ">", tok.pos + 1)
            return
        self.expect(">", " to close the template argument")

    def primary(self) -> S.Node:
        tok = self.tok
        if tok.kind == "number":
            self.advance()
            return _parse_number(tok, self.text)
        if tok.kind == "string":
            self.advance()
            return S.StringLiteral(tok.pos, tok.text[1:-1])
        if tok.kind == "char":
            self.advance()
            body = tok.text[1:-1]
            if len(body) == 2 and body[0] == "\\" and body[1] in _ESCAPES:
                return S.Number(tok.pos, tok.text, _ESCAPES[body[1]], Scalar.CHAR)
            if len(body) != 1:
                raise ExpressionSyntaxError(
                    "multi-character literal (C++ strings use double quotes)", self.text, tok.pos, len(tok.text)
                )
            return S.Number(tok.pos, tok.text, ord(body), Scalar.CHAR)
        if tok.kind == "op":
            if tok.text == "(":
                return self.parenthesized()
            if tok.text == "#":
                self.advance()
                name_tok = self.tok
                if name_tok.kind != "name":
                    raise self.error("expected a collection name after '#'")
                self.advance()
                return S.SizeOf(tok.pos, _normalize_name(name_tok.text))
            if tok.text == "[":
                raise self.unsupported("a lambda expression", tok)
            if tok.text == "{":
                raise self.unsupported("a braced block or initializer list", tok)
            if tok.kind == "op" and tok.text == "=":
                raise self.unsupported("assignment", tok)
            found = "end of expression" if tok.kind == "end" else repr(tok.text)
            raise self.error(f"expected a value, found {found}")
        if tok.kind == "end":
            raise self.error("unexpected end of expression")
        # names
        name = _normalize_name(tok.text)
        if name in _STATEMENT_WORDS or name.split("::")[-1] in _STATEMENT_WORDS:
            raise self.unsupported(f"the C++ keyword {name!r}", tok)
        if name in ("true", "false"):
            self.advance()
            return S.BoolLiteral(tok.pos, name == "true")
        if name in _CAST_TEMPLATES:
            self.advance()
            target = self.template_argument()
            self.expect("(", " after static_cast<...>")
            args = self.arguments()
            if len(args) != 1:
                raise self.error("static_cast takes exactly one argument", tok)
            return S.Cast(tok.pos, target, args[0])
        if name in _RVEC_TEMPLATES or name.split("::")[-1] in _RVEC_TYPEDEFS:
            self.advance()
            element = _RVEC_TYPEDEFS.get(name.split("::")[-1]) or self.template_argument()
            if self.at("{"):  # braced list: ROOT::RVecF{a, b, c}
                return S.Call(tok.pos, "RVecOf", self.braced_list(name), template=element)
            self.expect("(", f" to construct {name}")
            if self.at("{"):  # from an initializer list: ROOT::RVecF({a, b})
                items = self.braced_list(name)
                self.expect(")", f" after {name}({{...}}")
                return S.Call(tok.pos, "RVecOf", items, template=element)
            return S.Call(tok.pos, "RVec", self.arguments(), template=element)
        if name in _TYPE_PREFIXES:
            type_name = self.type_name()
            if self.at("("):  # functional cast, e.g. float(x)
                self.advance()
                args = self.arguments()
                if len(args) != 1:
                    raise self.error(f"{type_name}(...) takes exactly one argument", tok)
                return S.Cast(tok.pos, type_name, args[0])
            raise self.unsupported("a declaration", tok)
        if name == "gRandom" and self.peek().kind == "op" and self.peek().text in ("->", "."):
            return self.random_call()
        if name.split("::")[-1] == "Construct" and self.peek().text == "<":  # of Lorentz vectors: C++ helpers compile it
            raise self.unsupported("Construct<...>(...)", tok)
        self.advance()
        if self.at("("):
            self.advance()
            return S.Call(tok.pos, name, self.arguments())
        return S.Name(tok.pos, name)

    def random_call(self) -> S.Node:
        """``gRandom->Method(args)``: a draw from ROOT's global TRandom3 (the binder checks the method)."""
        g_tok = self.advance()
        arrow = self.advance()
        if arrow.text == ".":
            raise self.error("gRandom is a pointer (TRandom*): call its methods with '->', e.g. gRandom->Gaus()", arrow)
        method = self.tok
        if method.kind != "name":
            raise self.error("expected a TRandom method name after 'gRandom->'")
        self.advance()
        self.expect("(", f" to call gRandom->{method.text}")
        return S.RandomCall(g_tok.pos, method.text, self.arguments(), method.pos)

    def braced_list(self, what: str) -> tuple[S.Node, ...]:
        """``{a, b, c}`` (a trailing comma is allowed, as in C++)."""
        self.expect("{")
        items: list[S.Node] = []
        while not self.at("}"):
            items.append(self.expression(0))
            if self.at(","):
                self.advance()
            elif not self.at("}"):
                raise self.error(f"expected ',' or '}}' in the {what}{{...}} list")
        self.advance()
        return tuple(items)

    def parenthesized(self) -> S.Node:
        open_tok = self.advance()
        # C-style cast: '(' type-name ')' unary-expression
        if self.tok.kind == "name" and _normalize_name(self.tok.text) in _TYPE_PREFIXES:
            save = self.i
            type_name = self.type_name()
            if self.at(")") and type_name in TYPE_NAMES:
                self.advance()
                operand = self.postfix_chain(self.prefix_operand())
                return S.Cast(open_tok.pos, type_name, operand)
            self.i = save
        inner = self.expression(0)
        self.expect(")", " to close the parenthesis")
        return inner

    # -- statements (a body that contains 'return') ---------------------
    def body(self) -> S.Node:
        """The statements of a function body; a lone ``return e;`` is just ``e``.

        ROOT compiles the text as ``auto f(columns) { text ;}``, so the last statement may omit its ';'.
        """
        statements: list[S.Node] = []
        while self.tok.kind != "end":
            statements.extend(self.statement())
        if len(statements) == 1 and isinstance(statements[0], S.Return):
            return statements[0].value
        return S.Block(0, tuple(statements))

    def statement(self) -> tuple[S.Node, ...]:
        """One statement (a declaration of several variables gives several; ';' alone gives none)."""
        self.depth += 1
        try:
            if self.depth > _MAX_DEPTH:
                raise self.error(f"statements nested more than {_MAX_DEPTH} levels deep")
            return self._statement()
        finally:
            self.depth -= 1

    def _statement(self) -> tuple[S.Node, ...]:
        tok = self.tok
        if self.at(";"):
            self.advance()
            return ()
        if self.at("{"):
            return (self.block(),)
        if tok.kind == "op" and tok.text in ("++", "--"):
            return (self.prefix_increment(),)
        if tok.kind == "name":
            word = _normalize_name(tok.text)
            if word == "return":
                self.advance()
                value = self.expression(0)
                self.end_statement(" after 'return' expression")
                return (S.Return(tok.pos, value),)
            if word == "if":
                return (self.if_statement(),)
            if word == "for":
                return (self.for_statement(),)
            if word == "else":
                raise self.error("'else' without a matching 'if'")
            if word in _UNSUPPORTED_STATEMENTS:
                raise self.unsupported(_UNSUPPORTED_STATEMENTS[word], tok)
            if self.declaration_ahead():
                declarations = self.declarations()
                self.end_statement()
                return declarations
            after = self.peek()
            if "::" not in word and after.kind == "op" and (after.text in _ASSIGN_OPS or after.text in ("++", "--")):
                return (self.assignment(),)
        self.expression(0)
        if self.at(";") or self.tok.kind == "end":
            # C++ evaluates and discards it: a mistake, or a draw that only advances gRandom.
            raise self.unsupported("an expression statement (its value is discarded)", self.tok)
        raise self.error(f"unexpected {self.tok.text!r} after an expression")

    def end_statement(self, what: str = "") -> None:
        if self.tok.kind != "end":  # ROOT appends ';}' to the text: the last ';' is optional
            self.expect(";", what or " to end the statement")

    def block(self) -> S.Block:
        open_tok = self.expect("{")
        statements: list[S.Node] = []
        while not self.at("}"):
            if self.tok.kind == "end":
                raise self.error(f"expected '}}' to close the block opened at column {open_tok.pos + 1}")
            statements.extend(self.statement())
        self.advance()
        return S.Block(open_tok.pos, tuple(statements))

    def substatement(self) -> S.Block:
        """The body of an if or for: a block, or one statement in a scope of its own (as in C++)."""
        if self.at("{"):
            return self.block()
        start = self.tok
        statements = self.statement()
        return S.Block(start.pos, statements)

    def if_statement(self) -> S.Node:
        if_tok = self.advance()
        if self.tok.kind == "name" and self.tok.text == "constexpr":
            raise self.unsupported("'if constexpr'", self.tok)
        self.expect("(", " after 'if'")
        if self.declaration_ahead():
            raise self.unsupported("a declaration in an if condition", self.tok)
        cond = self.expression(0)
        if self.at(";"):
            raise self.unsupported("an if statement with an initializer", self.tok)
        self.expect(")", " to close the if condition")
        then = self.substatement()
        other = None
        if self.tok.kind == "name" and self.tok.text == "else":
            self.advance()
            other = self.substatement()
        return S.If(if_tok.pos, cond, then, other)

    def for_statement(self) -> S.Node:
        for_tok = self.advance()
        self.expect("(", " after 'for'")
        if not self.declaration_ahead():
            raise self.unsupported(_FOR_FORMS, for_tok)
        spec = self.type_spec()
        var = self.tok
        if var.kind != "name" or "::" in var.text:
            raise self.unsupported(_FOR_FORMS, for_tok)
        self.advance()
        if self.at(":"):
            self.advance()
            range_ = self.expression(0)
            self.expect(")", " to close the for header")
            return S.RangeFor(for_tok.pos, spec, var.text, range_, self.substatement())
        if not self.at("="):
            raise self.unsupported(_FOR_FORMS, for_tok)
        self.advance()
        start = self.expression(0)
        self.expect(";", " after the loop variable's initializer")
        cond = self.expression(0)
        if not (isinstance(cond, S.Binary) and cond.op == "<" and cond.left == S.Name(cond.left.pos, var.text)):
            raise self.unsupported(_FOR_FORMS, for_tok)
        self.expect(";", " after the loop condition")
        if not self.loop_increment(var.text):
            raise self.unsupported(_FOR_FORMS, for_tok)
        self.expect(")", " to close the for header")
        return S.IndexFor(for_tok.pos, spec, var.text, start, cond.right, self.substatement())

    def loop_increment(self, var: str) -> bool:
        """Consume ``++var``, ``var++`` or ``var += 1``; False (nothing consumed) for anything else."""
        texts = [self.peek(k).text for k in range(3)]
        if texts[:2] in (["++", var], [var, "++"]):
            self.i += 2
            return True
        if texts == [var, "+=", "1"]:
            self.i += 3
            return True
        return False

    def prefix_increment(self) -> S.Node:
        """``++x;`` (an increment inside a larger expression stays unsupported)."""
        op, name, after = self.tok, self.peek(), self.peek(2)
        if name.kind != "name" or not (after.kind == "end" or after.kind == "op" and after.text == ";"):
            raise self.unsupported(f"the increment operator {op.text!r} inside an expression", op)
        self.i += 2
        self.end_statement()
        return S.Assign(name.pos, _normalize_name(name.text), op.text, None, op.pos)

    def assignment(self) -> S.Node:
        target = self.advance()
        op = self.advance()
        value = None if op.text in ("++", "--") else self.expression(0)
        self.end_statement()
        return S.Assign(target.pos, _normalize_name(target.text), op.text, value, op.pos)

    # -- declarations ----------------------------------------------------
    def declaration_ahead(self) -> bool:
        """Whether a declaration starts here: a type (auto, const, arithmetic, RVec, std::array) then a name."""
        j = self.i
        tokens = self.tokens
        while tokens[j].kind == "name" and tokens[j].text in ("const", "constexpr"):
            j += 1
        word = _normalize_name(tokens[j].text) if tokens[j].kind == "name" else ""
        if word == "auto" or word in _ARRAY_TEMPLATES or (j > self.i and word):
            return True
        if word in _RVEC_TEMPLATES:
            j = self._skip_template_arguments(j + 1)
        elif word.split("::")[-1] in _RVEC_TYPEDEFS:
            j += 1
        elif word in _TYPE_PREFIXES:
            words = [word]
            j += 1
            while tokens[j].kind == "name" and " ".join([*words, tokens[j].text]) in _TYPE_PREFIXES:
                words.append(tokens[j].text)
                j += 1
        else:
            return False
        while tokens[j].kind in ("name", "op") and tokens[j].text in ("const", "&", "&&", "*"):
            j += 1
        return tokens[j].kind == "name"

    def _skip_template_arguments(self, j: int) -> int:
        """The index after ``<...>`` starting at ``j`` (``>>`` closes two), or ``j`` if there is none."""
        if not (self.tokens[j].kind == "op" and self.tokens[j].text == "<"):
            return j
        depth = 0
        while self.tokens[j].kind != "end":
            text = self.tokens[j].text if self.tokens[j].kind == "op" else ""
            depth += {"<": 1, ">": -1, ">>": -2}.get(text, 0)
            j += 1
            if depth <= 0:
                return j
        return j

    def type_spec(self) -> S.TypeSpec:
        const = False
        while self.tok.kind == "name" and self.tok.text in ("const", "constexpr"):
            const = True
            self.advance()
        tok = self.tok
        word = _normalize_name(tok.text) if tok.kind == "name" else ""
        array_size = None
        if word == "auto":
            self.advance()
            name = "auto"
        elif word in _ARRAY_TEMPLATES:
            self.advance()
            self.expect("<", " after std::array")
            name = f"RVec<{self.template_type()}>"
            self.expect(",", " between std::array's element type and size")
            size_tok = self.tok
            size = _parse_number(size_tok, self.text) if size_tok.kind == "number" else None
            if size is None or size.scalar.is_float or not 0 < size.value <= 64:
                raise self.unsupported("a std::array size that is not an integer literal from 1 to 64", size_tok)
            self.advance()
            self.close_angle()
            array_size = int(size.value)
        else:
            name = self.template_type()
        while self.tok.kind == "name" and self.tok.text == "const":  # east const: 'double const x'
            const = True
            self.advance()
        reference = ""
        if self.at("&") or self.at("&&"):
            reference = self.advance().text
        if self.at("*"):
            raise self.unsupported("a pointer", self.tok)
        return S.TypeSpec(name, const, reference, array_size)

    def declarations(self) -> tuple[S.Node, ...]:
        """``T a = 1, b{2};``: one Declaration per declarator."""
        spec = self.type_spec()
        out: list[S.Node] = []
        while True:
            name = self.tok
            if name.kind != "name" or "::" in name.text or name.text in _TYPE_PREFIXES or name.text in _STATEMENT_WORDS:
                raise self.error("expected a variable name")
            self.advance()
            init: str = ""
            args: tuple[S.Node, ...] = ()
            if self.at("("):
                if self.peek().kind == "op" and self.peek().text == ")" or self._type_follows(1):
                    raise self.unsupported("a function declaration or definition", name)
                self.advance()
                init, args = "()", self.arguments()
            elif self.at("{"):
                init, args = "{}", self.braced_list(name.text)
            elif self.at("="):
                self.advance()
                if self.at("{"):
                    init, args = "={}", self.braced_list(name.text)
                else:
                    init, args = "=", (self.expression(0),)
            out.append(S.Declaration(name.pos, spec, name.text, init, args))
            if not self.at(","):
                return tuple(out)
            self.advance()
            if self.at("&") or self.at("&&") or self.at("*"):
                raise self.unsupported("a declarator with its own '&' or '*'", self.tok)

    def _type_follows(self, offset: int) -> bool:
        tok = self.peek(offset)
        return tok.kind == "name" and (_normalize_name(tok.text) in _TYPE_PREFIXES or tok.text in ("auto", "const"))


# Every prefix of a multi-word type name, so that "unsigned" can grow into "unsigned int".
_TYPE_PREFIXES = {" ".join(name.split(" ")[: i + 1]) for name in TYPE_NAMES for i in range(len(name.split(" ")))}


def parse(text: str) -> S.Node:
    """Parse an RDataFrame expression string into an untyped syntax tree.

    Examples
    --------
    >>> from hepframe.expr.parser import parse
    >>> parse("Sum(Jet_pt > 40) > 1").op
    '>'

    """
    if not isinstance(text, str):
        raise TypeError(f"an expression must be a string, got {type(text).__name__}")
    node = Parser(text).parse()
    _check_height(node, text)
    return node


def _check_height(root: S.Node, text: str) -> None:
    """Refuse trees higher than MAX_HEIGHT, pointing at the first node beyond it (iterative walk)."""
    stack: list[tuple[S.Node, int]] = [(root, 1)]
    while stack:
        node, height = stack.pop()
        if height > MAX_HEIGHT:
            raise UnsupportedSyntaxError(
                f"expression nested more than {MAX_HEIGHT} operations deep (a chain of N arithmetic "
                f"operators counts N); split it into several Defines",
                text, node.pos,
            )  # fmt: skip
        for f in fields(node):
            value = getattr(node, f.name)
            for child in value if isinstance(value, tuple) else (value,):
                if isinstance(child, S.Node):
                    stack.append((child, height + 1))
