"""The runbooks' evidence language: small, safe, checked when a runbook is loaded.

An evidence expression compares named live signals (`tui.domain.signals`) with numbers:

    gpu_util_max > 0.90
    queue_depth >= slo_queue_depth and ttft_p99_s > 0.5 * p99_s
    not (cuda_oom_events + oomkilled_events > 0)

Python's own parser reads the text (``ast.parse``); the tree is then checked against a
short whitelist — names, numbers, ``+ - * /``, comparisons, ``and or not`` — and walked
by this module. Nothing is ever handed to ``eval``: there are no calls, attributes,
subscripts or strings to reach anything else.

A signal with no data is unknown, and unknown spreads the way an engineer reasons:
``unknown > 0.9`` is unknown, ``False and unknown`` is False, ``True or unknown`` True.
An expression that ends unknown is a question warroom cannot answer from live data.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

MAX_LENGTH = 300
"""Longer than any honest question needs; keeps a pasted blob from being parsed."""

Value = float | bool | None

_COMPARE: dict[type[ast.cmpop], Callable[[float, float], bool]] = {
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_ARITH: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


class ExprError(ValueError):
    """One sentence: what is wrong with an expression and where."""


@dataclass(frozen=True, slots=True)
class Expr:
    text: str
    tree: ast.expr
    names: tuple[str, ...]
    """The signals it reads, in order of first use: what the navigator shows as evidence."""

    def evaluate(self, values: Mapping[str, float | None]) -> bool | None:
        """True, False, or None when the signals it needs have no data."""
        result = _eval(self.tree, values)
        if result is None:
            return None
        if isinstance(result, bool):
            return result
        raise ExprError(f"{self.text!r} gives a number, not a yes or no")


def compile_expr(text: str, known: Collection[str]) -> Expr:
    """Parse and check ``text``; every name must be in ``known``. Raises `ExprError`."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"the expression is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise ExprError(f"{text!r} does not parse{where}") from None
    names: dict[str, None] = {}
    _check(tree, text, known, names)
    if not _is_condition(tree):
        raise ExprError(f"{text!r} must be a comparison or a yes/no combination of them")
    return Expr(text=text, tree=tree, names=tuple(names))


def _check(node: ast.AST, text: str, known: Collection[str], names: dict[str, None]) -> None:
    match node:
        case ast.Name(id=name):
            if name not in known:
                close = _closest(name, known)
                hint = f"; did you mean {close!r}?" if close else ""
                raise ExprError(f"{name!r} is not a signal warroom knows{hint}")
            names.setdefault(name, None)
        case ast.Constant(value=value):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ExprError(f"{text!r}: only numbers may appear as constants")
        case ast.Compare(left=left, ops=ops, comparators=rest):
            if not all(type(op) in _COMPARE for op in ops):
                raise ExprError(f"{text!r}: only < <= > >= == != compare")
            for part in (left, *rest):
                if _is_condition(part):
                    raise ExprError(f"{text!r}: a comparison compares numbers, not yes/no")
                _check(part, text, known, names)
        case ast.BoolOp(values=values):
            for part in values:
                if not _is_condition(part):
                    raise ExprError(f"{text!r}: and/or join comparisons, not bare numbers")
                _check(part, text, known, names)
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            if not _is_condition(operand):
                raise ExprError(f"{text!r}: not applies to a comparison")
            _check(operand, text, known, names)
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            _check(operand, text, known, names)
        case ast.BinOp(left=left, op=op, right=right) if type(op) in _ARITH:
            for part in (left, right):
                if _is_condition(part):
                    raise ExprError(f"{text!r}: arithmetic applies to numbers, not yes/no")
                _check(part, text, known, names)
        case _:
            what = type(node).__name__
            raise ExprError(f"{text!r}: {what} is not allowed (names, numbers, + - * /, "
                            "comparisons and and/or/not only)")  # fmt: skip


def _is_condition(node: ast.AST) -> bool:
    return isinstance(node, ast.Compare | ast.BoolOp) or (
        isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
    )


def _closest(name: str, known: Collection[str]) -> str | None:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return close[0] if close else None


def _eval(node: ast.expr, values: Mapping[str, float | None]) -> Value:
    match node:
        case ast.Name(id=name):
            value = values.get(name)
            return None if value is None or not math.isfinite(value) else float(value)
        case ast.Constant(value=value):
            return float(value)
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            inner = _eval(operand, values)
            return None if inner is None else not inner
        case ast.UnaryOp(operand=operand):
            inner = _eval(operand, values)
            return None if inner is None else -float(inner)
        case ast.BinOp(left=left, op=op, right=right):
            a, b = _eval(left, values), _eval(right, values)
            if a is None or b is None:
                return None
            if isinstance(op, ast.Div) and b == 0:
                return None  # a share of nothing is no data, not a crash
            return _ARITH[type(op)](float(a), float(b))
        case ast.Compare(left=left, ops=ops, comparators=rest):
            # Chained like Python (a < b < c), with unknown spreading.
            result: bool | None = True
            a = _eval(left, values)
            for op, right in zip(ops, rest, strict=True):
                b = _eval(right, values)
                if a is None or b is None:
                    result = None if result is not False else False
                elif not _COMPARE[type(op)](float(a), float(b)):
                    return False
                a = b
            return result
        case ast.BoolOp(op=op, values=parts):
            # The value that settles it at once: False for and, True for or.
            settles = isinstance(op, ast.Or)
            seen_unknown = False
            for part in parts:
                v = _eval(part, values)
                if v is settles:
                    return settles
                seen_unknown |= v is None
            return None if seen_unknown else not settles
    raise ExprError(f"cannot evaluate {ast.dump(node)}")  # unreachable after _check
