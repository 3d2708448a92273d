"""A small, safe condition language over the customer schema (no ``eval``).

Used by the offer catalogue (``data/offers.toml``): an offer's ``applies_when`` and a rule's
``when`` are conditions.

Grammar::

    condition := "always" | clause ("and" clause)*
    clause    := COLUMN OP VALUE
    OP        := "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in"
    VALUE     := "double-quoted text" | number | "[" item ("," item)* "]"

Keywords (``and``, ``in``, ``not in``, ``always``) are case-insensitive; column names and text
values are case-sensitive and are checked against the schema (``churn.schema``): the column must be
a schema feature, text values must be among the column's allowed values, numeric columns take
numbers (``SeniorCitizen`` takes 0 or 1), ordering operators (< <= > >=) only apply to numeric
columns, ``in``/``not in`` take a bracketed list and ``==``/``!=`` a single value.

Every mistake raises :class:`ConditionError` (a ``ValueError``) whose message quotes the
condition, names the offending token and its character position (1-based) and says what to write
instead.

Evaluation (:meth:`Condition.mask`) is vectorised over a canonical frame. ``TotalCharges`` NaN
(not billed yet) counts as 0 dollars, as in the model's feature frame.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churn import schema
from churn.schema import BY_NAME, FEATURES

OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in")
_ORDERING = ("<", "<=", ">", ">=")
_LIST_OPS = ("in", "not in")
_NUMERIC_KINDS = ("flag01", "integer", "money")


class ConditionError(ValueError):
    """A condition that cannot be parsed or does not fit the schema."""


@dataclass(frozen=True)
class _Token:
    kind: str  # "name", "op", "string", "number", "[", "]", ",", "end"
    text: str  # the source text of the token
    value: object  # parsed value (str for names/ops/strings, float/int for numbers)
    pos: int  # 0-based start offset in the condition text


_TOKEN_RE = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<number>-?(?:\d+\.\d*|\.\d+|\d+))
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>"[^"]*")
  | (?P<punct>[\[\],])
    """,
    re.VERBOSE,
)


def _fmt_value(v) -> str:
    """A value as written in a condition: text in double quotes, numbers bare."""
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        m = _TOKEN_RE.match(text, i)
        if m is None:
            ch = text[i]
            if ch == '"':
                raise ConditionError(
                    f"Unterminated text value starting at character {i + 1} in condition "
                    f"{text!r}: close it with a double quote")
            hint = "text values need double quotes" if ch == "'" else \
                "use == to compare" if ch == "=" else \
                "use only column names, operators (== != < <= > >= in, not in), " \
                "double-quoted text, numbers and [lists]"
            raise ConditionError(
                f"Unexpected character {ch!r} at character {i + 1} in condition {text!r}: {hint}")
        kind = m.lastgroup
        tok = m.group()
        if kind == "number":
            value = float(tok) if ("." in tok) else int(tok)
            tokens.append(_Token("number", tok, value, i))
        elif kind == "string":
            tokens.append(_Token("string", tok, tok[1:-1], i))
        elif kind == "name":
            tokens.append(_Token("name", tok, tok, i))
        elif kind == "op":
            tokens.append(_Token("op", tok, tok, i))
        elif kind == "punct":
            tokens.append(_Token(tok, tok, tok, i))
        i = m.end()
    tokens.append(_Token("end", "", None, len(text)))
    return tokens


def _describe_token(tok: _Token) -> str:
    return "the end of the condition" if tok.kind == "end" else repr(tok.text)


@dataclass(frozen=True)
class Clause:
    """One ``COLUMN OP VALUE`` test. ``value`` is a str/number, or a tuple for in / not in."""

    column: str
    op: str
    value: object

    def __str__(self) -> str:
        if self.op in _LIST_OPS:
            return f"{self.column} {self.op} [{', '.join(_fmt_value(v) for v in self.value)}]"
        return f"{self.column} {self.op} {_fmt_value(self.value)}"

    def mask(self, df: pd.DataFrame) -> np.ndarray:
        col = BY_NAME[self.column]
        if col.kind in _NUMERIC_KINDS:
            x = schema.column_numbers(df, self.column)
            if self.column == schema.TOTAL:
                x = np.nan_to_num(x, nan=0.0)
            if self.op in _LIST_OPS:
                hit = np.isin(x, np.asarray(self.value, dtype=float))
                return hit if self.op == "in" else ~hit & ~np.isnan(x)
            v = float(self.value)
            with np.errstate(invalid="ignore"):
                return {
                    "==": x == v, "!=": (x != v) & ~np.isnan(x), "<": x < v, "<=": x <= v,
                    ">": x > v, ">=": x >= v,
                }[self.op]
        x = schema.column_values(df, self.column).astype(object)
        if self.op == "==":
            return x == self.value
        if self.op == "!=":
            return x != self.value
        if len(x) < schema.FEW_ROWS and all(isinstance(v, str) for v in x):
            values = frozenset(self.value)      # a few texts: a set look-up each
            hit = np.fromiter((v in values for v in x), dtype=bool, count=len(x))
        else:
            hit = pd.Series(x).isin(self.value).to_numpy()
        return hit if self.op == "in" else ~hit


@dataclass(frozen=True)
class Condition:
    """A parsed condition: clauses joined by "and" (no clauses: ``always``).

    ``text``: the source text; ``str(condition)`` is the normalised form.
    """

    text: str
    clauses: tuple[Clause, ...]

    @property
    def always(self) -> bool:
        return not self.clauses

    @property
    def columns(self) -> tuple[str, ...]:
        """The schema columns this condition reads, in order of first use (empty for always)."""
        return tuple(dict.fromkeys(c.column for c in self.clauses))

    def __str__(self) -> str:
        return "always" if self.always else " and ".join(str(c) for c in self.clauses)

    def mask(self, df: pd.DataFrame) -> np.ndarray:
        """Boolean numpy array, one entry per row of the canonical frame ``df``: condition holds.

        Raises ValueError when ``df`` lacks a column the condition reads.
        """
        missing = [c for c in self.columns if c not in df.columns]
        if missing:
            raise ValueError(
                f"Condition {self.text!r} reads column(s) {', '.join(missing)} that the frame "
                f"does not have; pass a canonical customer frame")
        out = np.ones(len(df), dtype=bool)
        for clause in self.clauses:
            out &= clause.mask(df)
        return out

    def describe(self, row) -> str:
        """Plain-English account of the customer's values for the columns this condition reads.

        ``row``: a mapping (dict or pandas Series) of column -> value for one customer. Example:
        ``'Contract is Month-to-month and Tenure of 3 months'``. ``always`` gives
        ``'Every customer'``.
        """
        if self.always:
            return "Every customer"
        return " and ".join(value_phrase(c, row[c]) for c in self.columns)


def value_phrase(column: str, value) -> str:
    """A customer's value of one column in words, e.g. ``Contract is Month-to-month``,
    ``Tenure of 3 months``, ``Monthly charges of $75.50``, ``Senior citizen: Yes``."""
    col = BY_NAME.get(column)
    if col is None:
        return f"{column} is {value}"
    if column == schema.TENURE:
        months = int(value)
        return f"Tenure of {months} month{'s' if months != 1 else ''}"
    if col.kind == "money":
        name = col.label.replace(" ($)", "")
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return f"{name}: not billed yet"
        return f"{name} of ${float(value):,.2f}"
    if col.kind == "flag01":
        return f"{col.label}: {'Yes' if int(value) == 1 else 'No'}"
    return f"{col.label} is {value}"


def _suggest(word: str, choices) -> str:
    choices = [str(c) for c in choices]
    lower = {c.lower(): c for c in choices}
    if word.lower() in lower:
        return f' (did you mean "{lower[word.lower()]}"?)'
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def next(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def fail(self, msg: str) -> ConditionError:
        return ConditionError(msg)

    def at(self, tok: _Token) -> str:
        return f"at character {tok.pos + 1} in condition {self.text!r}"

    def is_kw(self, tok: _Token, word: str) -> bool:
        return tok.kind == "name" and tok.text.lower() == word

    def parse(self) -> Condition:
        first = self.peek()
        if first.kind == "end":
            raise self.fail(
                "Empty condition: write a condition such as 'Contract == \"Month-to-month\"' "
                "or the word always")
        if self.is_kw(first, "always"):
            self.next()
            if self.peek().kind != "end":
                raise self.fail(
                    f'"always" must be the whole condition, found {_describe_token(self.peek())} '
                    f"{self.at(self.peek())}")
            return Condition(self.text, ())
        clauses = [self.clause()]
        while True:
            tok = self.next()
            if tok.kind == "end":
                break
            if self.is_kw(tok, "and"):
                clauses.append(self.clause())
                continue
            if self.is_kw(tok, "or"):
                raise self.fail(
                    f'"or" is not supported {self.at(tok)}: join clauses with "and", or use '
                    f'"in [...]" for several values of one column')
            raise self.fail(
                f'Expected "and" or the end of the condition {self.at(tok)}, found '
                f"{_describe_token(tok)}")
        return Condition(self.text, tuple(clauses))

    def clause(self) -> Clause:
        tok = self.next()
        if tok.kind != "name" or self.is_kw(tok, "always"):
            raise self.fail(f"Expected a column name {self.at(tok)}, found {_describe_token(tok)}")
        name = tok.text
        if name not in FEATURES:
            why = " (it is not a customer feature)" if name in BY_NAME else \
                _suggest(name, FEATURES)
            raise self.fail(
                f'Unknown column "{name}" in condition {self.text!r}{why}; known columns: '
                f"{', '.join(FEATURES)}")
        col = BY_NAME[name]
        op = self.operator(name)
        if op in _ORDERING and col.kind not in _NUMERIC_KINDS:
            raise self.fail(
                f'Operator "{op}" cannot compare text column {name} in condition {self.text!r}; '
                f"use == != in or not in")
        vtok = self.peek()
        if op in _LIST_OPS:
            if vtok.kind != "[":
                raise self.fail(
                    f'Operator "{op}" needs a bracketed list such as [{_example(name)}] '
                    f"{self.at(vtok)}, found {_describe_token(vtok)}")
            values = self.list_value()
            for v, t in values:
                self.check_value(name, v, t)
            return Clause(name, op, tuple(v for v, _ in values))
        if vtok.kind == "[":
            raise self.fail(
                f'Operator "{op}" needs a single value, not a list, {self.at(vtok)}; '
                f'use "in" for a list')
        v, t = self.scalar(op)
        self.check_value(name, v, t)
        return Clause(name, op, v)

    def operator(self, column: str) -> str:
        tok = self.next()
        if tok.kind == "op":
            return tok.text
        if self.is_kw(tok, "in"):
            return "in"
        if self.is_kw(tok, "not") and self.is_kw(self.peek(), "in"):
            self.next()
            return "not in"
        extra = " (use == to compare)" if tok.text == "=" or tok.text.lower() == "is" else ""
        raise self.fail(
            f'Expected an operator (== != < <= > >= in, not in) after "{column}" {self.at(tok)}, '
            f"found {_describe_token(tok)}{extra}")

    def scalar(self, after: str):
        tok = self.next()
        if tok.kind in ("string", "number"):
            return tok.value, tok
        if tok.kind == "name":
            raise self.fail(
                f"Expected a value after \"{after}\" {self.at(tok)}, found {tok.text!r}: "
                f"put text values in double quotes")
        raise self.fail(
            f'Expected a value after "{after}" {self.at(tok)}, found {_describe_token(tok)}')

    def list_value(self):
        self.next()  # "["
        items = []
        if self.peek().kind == "]":
            raise self.fail(f"Empty list {self.at(self.peek())}: give at least one value")
        while True:
            items.append(self.scalar("[" if not items else ","))
            tok = self.next()
            if tok.kind == "]":
                return items
            if tok.kind != ",":
                raise self.fail(
                    f'Expected "," or "]" in the list {self.at(tok)}, found {_describe_token(tok)}')

    def check_value(self, name: str, value, tok: _Token) -> None:
        col = BY_NAME[name]
        if col.kind in _NUMERIC_KINDS:
            if isinstance(value, str):
                raise self.fail(
                    f"Column {name} is numeric but the value {tok.text} is text in condition "
                    f"{self.text!r}; write numbers without quotes")
            if col.kind == "flag01" and value not in (0, 1):
                raise self.fail(
                    f"Value {tok.text} is not allowed for {name} in condition {self.text!r}; "
                    f"allowed values: 0, 1")
            return
        if not isinstance(value, str):
            raise self.fail(
                f"Column {name} holds text but the value {tok.text} is a number in condition "
                f"{self.text!r}; put text values in double quotes")
        if value not in col.values:
            raise self.fail(
                f'Value "{value}" is not allowed for {name} in condition {self.text!r}'
                f"{_suggest(value, col.values)}; allowed values: "
                f"{', '.join(_fmt_value(v) for v in col.values)}")


def _example(name: str) -> str:
    col = BY_NAME[name]
    if col.values:
        return ", ".join(_fmt_value(v) for v in col.values[:2])
    return "1, 2"


def parse(expr: str) -> Condition:
    """Parse a condition (see the module docstring) into a :class:`Condition`.

    Raises :class:`ConditionError` naming the condition, the token and the likely cause.
    """
    if isinstance(expr, Condition):
        return expr
    if not isinstance(expr, str):
        raise ConditionError(
            f"A condition must be text, got {type(expr).__name__} {expr!r}; "
            f"write e.g. 'Contract == \"Month-to-month\"' or always")
    return _Parser(expr.strip()).parse()


def mask(expr_or_condition, df: pd.DataFrame) -> np.ndarray:
    """Boolean numpy array: rows of the canonical frame ``df`` where the condition holds."""
    return parse(expr_or_condition).mask(df)


__all__ = ["Clause", "Condition", "ConditionError", "OPERATORS", "mask", "parse", "value_phrase"]
