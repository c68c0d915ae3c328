r"""ROOT's TLatex in titles (``"m_{#mu#mu} (GeV)"``) as matplotlib mathtext (``"$m_{\mu\mu}$ (GeV)"``).

ROOT titles write Greek letters and symbols as ``#mu``, ``#bar{t}``, ``#rightarrow``, and sub- and
superscripts as ``_{...}`` and ``^{...}``. Each space-separated word that uses any of these becomes
one mathtext group ``$...$`` (runs of letters upright, as ROOT draws them); other words stay text
(a ``$`` in them is escaped). A word that would not be valid mathtext (unbalanced braces) stays as
it is. The text is translated token by token, never evaluated. ``h.Draw()`` and ``h.plot()`` put
a histogram's translated titles on the axes; ``GetTitle()`` keeps ROOT's.

>>> print(to_mathtext("Z peak;m_{#mu#mu} (GeV)"))
Z peak;$m_{\mu\mu}$ (GeV)
>>> print(to_mathtext("t#bar{t} #rightarrow l+jets"))
$t\bar{t}$ $\rightarrow$ l+jets
"""

from __future__ import annotations

import re

#: TLatex commands with a mathtext equivalent of the same name (Greek letters, symbols, accents).
_SAME = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "varpi", "rho", "sigma", "varsigma", "tau", "upsilon", "phi", "varphi", "chi",
    "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
    "pm", "mp", "times", "div", "cdot", "leq", "geq", "neq", "approx", "sim", "propto", "infty", "partial", "nabla",
    "ell", "hbar", "rightarrow", "leftarrow", "leftrightarrow", "Rightarrow", "Leftarrow", "uparrow", "downarrow",
    "bar", "hat", "tilde", "vec", "dot", "sqrt", "circ", "prime", "perp", "parallel", "in", "sum", "int",
}  # fmt: skip
#: TLatex commands spelled otherwise in mathtext.
_RENAMED = {"to": "rightarrow", "varUpsilon": "Upsilon", "varomega": "omega", "it": "mathit", "bf": "mathbf",
            "overline": "overline", "degree": "circ", "LT": "<", "GT": ">", "ocopyright": "copyright"}  # fmt: skip
_COMMAND = re.compile(r"#([A-Za-z]+)")
_MATH = re.compile(r"#[A-Za-z]+|[_^]")
_STYLE = re.compile(r"#(?:font|color)\[\d+\]")  # ROOT's font and colour switches: no mathtext equivalent
_WORD = re.compile(r"(?<![\\A-Za-z])([A-Za-z]{2,})")  # a run of letters, not a command: upright, as ROOT draws it


def _command(match: re.Match[str]) -> str:
    letters = match.group(1)
    for k in range(len(letters), 0, -1):  # the longest known command, as TLatex reads "#rightarrowZZ"
        name, rest = letters[:k], letters[k:]
        if name in _RENAMED:
            out = _RENAMED[name]
            command = ("\\" + out) if out.isalpha() else out
            return command + (" " + rest if rest else "")
        if name in _SAME:
            return "\\" + name + (" " + rest if rest else "")
    return letters  # unknown: its name as text, never an error


def _word(word: str) -> str:
    word = _STYLE.sub("", word)
    if not _MATH.search(word):
        return word.replace("$", r"\$")
    math = "$" + _WORD.sub(r"\\mathrm{\1}", _COMMAND.sub(_command, word.replace("$", ""))) + "$"
    return math if _parses(math) else word.replace("$", r"\$")  # e.g. unbalanced braces: the text as it is


def _parses(math: str) -> bool:
    from matplotlib.mathtext import MathTextParser

    try:
        MathTextParser("path").parse(math)
    except ValueError:
        return False
    return True


def to_mathtext(text: str) -> str:
    """The TLatex ``text`` (a title, or ``"title;x;y"``) with each math word as a mathtext group."""
    return ";".join(" ".join(_word(w) for w in part.split(" ")) for part in text.split(";"))
