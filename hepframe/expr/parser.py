"""A Pratt parser for the C++ expression subset that RDataFrame strings use.

The parser never evaluates user text: it tokenizes with one regular expression and builds a
:mod:`~hepframe.expr.syntax` tree. Precedence and associativity follow C++ ([expr]); the
binding powers below are listed from loosest to tightest, as in a C++ precedence table.
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
  | (?P<number>0[xX][0-9a-fA-F]+[uUlL]*|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[fFuUlL]*)
  | (?P<name>[A-Za-z_][A-Za-z_0-9]*(?:\s*::\s*[A-Za-z_][A-Za-z_0-9]*)*)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<char>'(?:[^'\\\n]|\\.)*')
  | (?P<op><<=|>>=|->\*|->|::|\+\+|--|&&|\|\||==|!=|<=|>=|<<|>>|[-+*/%&|^]=|[-+*/%<>!~&|^?:()\[\],.;{}=\#@$`\\])
    """,
    re.VERBOSE | re.ASCII,  # C++ source: no NBSP as space, no full-width digits or letters
)


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
_UDF_HINT = (
    "; hepframe translates single C++ expressions only: compute this in a vectorized Python UDF "
    "instead (see docs/expressions.md)"
)
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
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _character_hint(char: str) -> str:
    if char.isspace():
        return " (a non-ASCII space: C++ accepts only ASCII white space)"
    if char.isdigit() or char.isalpha():
        return " (C++ identifiers and numbers are ASCII)"
    return ""


def _parse_number(tok: Token, text: str) -> S.Number:
    raw = tok.text
    lower = raw.lower()
    is_hex = lower.startswith("0x")
    body = lower.rstrip("ul") if is_hex else lower.rstrip("ful")
    suffix = lower[len(body) :]
    is_float = not is_hex and ("." in body or "e" in body or "f" in suffix)
    if is_float:
        if suffix not in ("", "f", "l"):
            raise ExpressionSyntaxError(f"invalid floating-point literal {raw!r}", text, tok.pos, len(raw))
        value = float(body)
        if suffix == "f":  # a float literal is the float nearest to the decimal number
            with np.errstate(over="ignore"):
                value = float(np.float32(value))
        return S.Number(tok.pos, raw, value, Scalar.FLOAT if suffix == "f" else Scalar.DOUBLE)
    if suffix not in ("", "u", "l", "ll", "ul", "lu", "ull", "llu"):
        raise ExpressionSyntaxError(f"invalid integer literal {raw!r}", text, tok.pos, len(raw))
    if len(body) > 40:
        raise ExpressionSyntaxError(f"integer literal {raw[:20]}... is too large", text, tok.pos, len(raw))
    if is_hex:
        ivalue = int(body, 16)
    elif len(body) > 1 and body.startswith("0"):  # C++ octal literal
        if any(c in "89" for c in body):
            raise ExpressionSyntaxError(f"invalid octal literal {raw!r}", text, tok.pos, len(raw))
        ivalue = int(body, 8)
    else:
        ivalue = int(body, 10)
    unsigned, long_ = "u" in suffix, "l" in suffix
    # C++ [lex.icon]: the first type in the list that can represent the value.
    candidates: list[Scalar]
    if unsigned:
        candidates = [Scalar.ULONG] if long_ else [Scalar.UINT, Scalar.ULONG]
    elif is_hex or (len(body) > 1 and body.startswith("0")):  # hex and octal may be unsigned, decimal not
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
        return UnsupportedSyntaxError(f"{construct} is not supported{_UDF_HINT}", self.text, tok.pos, max(1, len(tok.text)))

    # -- entry point ---------------------------------------------------
    def parse(self) -> S.Node:
        if self.tok.kind == "end":
            raise self.error("empty expression")
        if self.tok.kind == "name" and self.tok.text == "return":
            self.advance()
            node = self.expression(0)
            if self.at(";") or self.tok.kind != "end":  # ROOT also takes "return x" without the ';'
                self.expect(";", " after 'return' expression")
        else:
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
                if name_tok.text not in _RVEC_MEMBERS:
                    raise UnsupportedSyntaxError(
                        f"member function {name_tok.text!r} is not supported (RVec members: "
                        f"{', '.join(sorted(_RVEC_MEMBERS))}){_UDF_HINT}",
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
                self.advance()
                items: list[S.Node] = []
                while not self.at("}"):
                    items.append(self.expression(0))
                    if self.at(","):
                        self.advance()
                    elif not self.at("}"):
                        raise self.error(f"expected ',' or '}}' in the {name}{{...}} list")
                self.advance()
                return S.Call(tok.pos, "RVecOf", tuple(items), template=element)
            self.expect("(", f" to construct {name}")
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
        self.advance()
        if self.at("("):
            self.advance()
            return S.Call(tok.pos, name, self.arguments())
        return S.Name(tok.pos, name)

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
