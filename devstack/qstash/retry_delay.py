"""Safe evaluation of `Upstash-Retry-Delay` expressions such as `pow(2, retried) * 1000`.

The expression comes from whoever can publish, so it is never handed to `eval`: it is parsed
into a Python AST once, every node is checked against a short whitelist (numbers, the variable
`retried`, arithmetic and the functions QStash documents) and the tree is then walked by hand.
All arithmetic is done on floats, so `9 ** 9 ** 9` overflows at once instead of building a huge
integer, and the result is clamped to a sane range.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable

from devstack.qstash.durations import MAX_DURATION_SECONDS

MAX_EXPRESSION_LENGTH = 256
MAX_NODES = 64
MAX_DELAY_MS = MAX_DURATION_SECONDS * 1000


def _round_half_away_from_zero(value: float) -> float:
    # QStash rounds like Go's math.Round, not like Python's banker's rounding.
    return math.copysign(math.floor(abs(value) + 0.5), value)


def _float_pow(base: float, exponent: float) -> float:
    # math.pow raises OverflowError where int ** int would grow without bound.
    return math.pow(base, exponent)


_FUNCTIONS: dict[str, tuple[Callable[..., float], int, int]] = {
    # name: (implementation, minimum arguments, maximum arguments)
    "pow": (_float_pow, 2, 2),
    "exp": (math.exp, 1, 1),
    "sqrt": (math.sqrt, 1, 1),
    "abs": (abs, 1, 1),
    "floor": (lambda x: float(math.floor(x)), 1, 1),
    "ceil": (lambda x: float(math.ceil(x)), 1, 1),
    "round": (_round_half_away_from_zero, 1, 1),
    "min": (min, 2, 8),
    "max": (max, 2, 8),
}

_BINARY_OPERATORS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
    ast.Pow: _float_pow,
}

_UNARY_OPERATORS: dict[type[ast.unaryop], Callable[[float], float]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}

VARIABLE = "retried"


class RetryDelayExpression:
    """A validated retry-delay expression; `milliseconds(retried)` evaluates it."""

    def __init__(self, source: str) -> None:
        """Parse and validate `source`; raises ValueError if it is not an allowed expression."""
        if len(source) > MAX_EXPRESSION_LENGTH:
            raise ValueError("retry delay expression is too long")
        try:
            tree = ast.parse(source.strip(), mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            raise ValueError(f"invalid retry delay expression: {source!r}") from exc
        if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
            raise ValueError("retry delay expression is too complex")
        _check(tree.body)
        self.source = source
        self._body = tree.body

    def milliseconds(self, retried: int) -> float:
        """The delay in ms before the next attempt, given how many retries happened already.

        Raises ValueError when the arithmetic fails (overflow, division by zero, sqrt of a
        negative number, NaN); the result is otherwise clamped to [0, ten years].
        """
        try:
            value = _evaluate(self._body, float(retried))
        except (ArithmeticError, ValueError) as exc:
            raise ValueError(f"retry delay expression failed: {exc}") from exc
        if math.isnan(value):
            raise ValueError("retry delay expression is not a number")
        return min(max(value, 0.0), MAX_DELAY_MS)


def _check(node: ast.expr) -> None:
    """Reject any node outside the whitelist, before anything is evaluated."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ValueError(f"unsupported constant {node.value!r}")
    elif isinstance(node, ast.Name):
        if node.id != VARIABLE:
            raise ValueError(f"unknown variable {node.id!r}; only {VARIABLE!r} is defined")
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY_OPERATORS:
            raise ValueError(f"unsupported operator {type(node.op).__name__}")
        _check(node.left)
        _check(node.right)
    elif isinstance(node, ast.UnaryOp):
        if type(node.op) not in _UNARY_OPERATORS:
            raise ValueError(f"unsupported operator {type(node.op).__name__}")
        _check(node.operand)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            raise ValueError("only pow, exp, sqrt, abs, floor, ceil, round, min, max are allowed")
        _, fewest, most = _FUNCTIONS[node.func.id]
        if node.keywords or not fewest <= len(node.args) <= most:
            raise ValueError(f"wrong arguments for {node.func.id}")
        for argument in node.args:
            _check(argument)
    else:
        raise ValueError(f"unsupported syntax {type(node).__name__}")


def _evaluate(node: ast.expr, retried: float) -> float:
    # Only the node types accepted by _check can reach this walk.
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name):
        return retried
    if isinstance(node, ast.BinOp):
        binary = _BINARY_OPERATORS[type(node.op)]
        return binary(_evaluate(node.left, retried), _evaluate(node.right, retried))
    if isinstance(node, ast.UnaryOp):
        return _UNARY_OPERATORS[type(node.op)](_evaluate(node.operand, retried))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        function = _FUNCTIONS[node.func.id][0]
        return float(function(*(_evaluate(argument, retried) for argument in node.args)))
    raise ValueError(f"unsupported syntax {type(node).__name__}")
