"""The evidence language: what parses, what is refused, and how unknown data spreads."""

from __future__ import annotations

import pytest

from tui.domain.expr import ExprError, compile_expr
from tui.domain.signals import SIGNALS

KNOWN = ("a", "b", "c")


def ev(text: str, **values: float | None) -> bool | None:
    return compile_expr(text, KNOWN).evaluate(values)


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("a > 0.9", {"a": 0.95}, True),
        ("a > 0.9", {"a": 0.9}, False),
        ("a >= 0.9", {"a": 0.9}, True),
        ("a == 0", {"a": 0.0}, True),
        ("a != 0", {"a": 0.0}, False),
        ("a > 2 * b", {"a": 5, "b": 2}, True),
        ("a + b > c", {"a": 1, "b": 1, "c": 3}, False),
        ("a / b >= 0.5", {"a": 1, "b": 2}, True),
        ("-a < 0", {"a": 1}, True),
        ("0 < a < 1", {"a": 0.5}, True),
        ("0 < a < 1", {"a": 1.5}, False),
        ("a > 1 and b > 1", {"a": 2, "b": 2}, True),
        ("a > 1 and b > 1", {"a": 2, "b": 0}, False),
        ("a > 1 or b > 1", {"a": 0, "b": 2}, True),
        ("not (a > 1)", {"a": 0}, True),
    ],
)
def test_evaluates(text: str, values: dict[str, float], expected: bool) -> None:
    assert ev(text, **values) is expected


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        # Unknown spreads through comparisons and arithmetic…
        ("a > 0.9", {}, None),
        ("a + b > 1", {"a": 5}, None),
        ("not (a > 1)", {}, None),
        # …but a decided side of and/or decides, as an engineer would reason.
        ("a > 1 and b > 1", {"a": 0}, False),
        ("a > 1 and b > 1", {"a": 2}, None),
        ("a > 1 or b > 1", {"a": 2}, True),
        ("a > 1 or b > 1", {"a": 0}, None),
        # A share of nothing is no data, not a crash; NaN is no data too.
        ("a / b > 0.5", {"a": 1, "b": 0}, None),
        ("a > 0", {"a": float("nan")}, None),
        ("0 < a < b", {"a": -1}, False),
    ],
)
def test_unknown_data_gives_no_answer_unless_the_rest_decides(
    text: str, values: dict[str, float | None], expected: bool | None
) -> None:
    assert ev(text, **values) is expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("__import__('os').system('id') == 0", "Call is not allowed"),
        ("a.real > 1", "Attribute is not allowed"),
        ("a[0] > 1", "Subscript is not allowed"),
        ("a > 'x'", "only numbers"),
        ("a > True", "only numbers"),
        ("a", "must be a comparison"),
        ("a + 1", "must be a comparison"),
        ("(a > 1) > 0", "compares numbers, not yes/no"),
        ("a > 1 and 2", "and/or join comparisons"),
        ("not a", "not applies to a comparison"),
        ("(a > 1) + 1 > 0", "arithmetic applies to numbers"),
        ("a ** 2 > 1", "BinOp is not allowed"),
        ("a in (1, 2)", "only < <= > >= == != compare"),
        ("lambda: 1", "Lambda is not allowed"),
        ("a >", "does not parse"),
        ("gpu_utl_max > 0.9", "'gpu_utl_max' is not a signal warroom knows; did you mean"),
        ("a > 1 " + "or a > 1 " * 60, "longer than 300 characters"),
    ],
)
def test_refuses_anything_outside_the_language(text: str, says: str) -> None:
    known = (*KNOWN, *SIGNALS)
    with pytest.raises(ExprError, match=None) as info:
        compile_expr(text, known)
    assert says in str(info.value)


def test_names_are_the_signals_read_in_order() -> None:
    expr = compile_expr("b > 1 and a > b or b < c", KNOWN)
    assert expr.names == ("b", "a", "c")


def test_a_known_suggestion_points_at_the_real_signal() -> None:
    with pytest.raises(ExprError, match="did you mean 'gpu_util_max'"):
        compile_expr("gpu_utl_max > 0.9", SIGNALS)
