"""X-Ray filter expressions (the developer guide, "Using filter expressions"), parsed into a
predicate over a trace.

Every form the guide shows is read: boolean, number and string keywords with their
operators (`!`, `= true`, `<=`, `CONTAINS`, ...), a bare keyword as a presence test
(`http.url AND responseTime > 2`), `AND`/`OR`/`NOT` and `&&`/`||`/`!` (AND binds tighter; two
conditions side by side are joined by AND, as in `ok !partial duration <3`), parentheses,
`annotation.KEY`, `service(...)` and `edge(...)` with `id(...)` and an optional `{ filter }`
applying to the service's segments or the edge's calls, `group.name`/`group.arn`, and the
root cause keywords `rootcause.fault|error|responsetime.service|entity|exception { ... }`
and `rootcause.json = #[...]`. Keywords are case-insensitive. Anything else is refused with
the position and the reason.

Only one group exists here, Default (every trace): a filter naming another group is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .detail import Traced
from .filter_terms import TRACE, Context, where_known
from .filter_topology import complex_condition

Predicate = Callable[[Any], bool]
Value = str | float | bool

TOKEN = re.compile(
    r"""(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
    | (?P<op><=|>=|!=|&&|\|\||[=<>()!{}\[\],:\#])
    | (?P<word>[A-Za-z_][\w.\-]*)
    )""",
    re.VERBOSE,
)
# Brackets and negations nest at most this deep: enough for any expression a person writes,
# and a bound on the parser's recursion whatever a client sends.
MAX_DEPTH = 64
MAX_EXPRESSION_CHARS = 64 * 1024
BOOLEAN_OPS = ("=", "!=")
NUMBER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
STRING_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "CONTAINS": lambda a, b: b in a,
    "BEGINSWITH": lambda a, b: a.startswith(b),
    "ENDSWITH": lambda a, b: a.endswith(b),
}
JOINERS = ("AND", "&&", "OR", "||")


class FilterError(ValueError):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"invalid filter expression at character {position + 1}: {message}")
        self.position = position


@dataclass(frozen=True)
class Braces:
    predicate: Predicate
    quick: bool  # over the analysis' packed calls rather than the trace's detail


@dataclass(frozen=True)
class Token:
    kind: str  # string, number, op, word, end
    text: str
    position: int

    @property
    def upper(self) -> str:
        return self.text.upper()

    def describe(self) -> str:
        return "the end of the expression" if self.kind == "end" else repr(self.text)


def compile_filter(text: str) -> Callable[[Traced], bool]:
    """A predicate for `text`, or FilterError saying where and why it is not valid."""
    if not text.strip():
        return lambda trace: True
    if len(text) > MAX_EXPRESSION_CHARS:
        raise FilterError(f"longer than {MAX_EXPRESSION_CHARS} characters", MAX_EXPRESSION_CHARS)
    parser = Parser(text)
    predicate = parser.disjunction(TRACE)
    if parser.token.kind != "end":
        raise parser.error(f"expected AND, OR or the end, but found {parser.token.describe()}")
    return predicate


class Parser:
    """Recursive descent over tokens read as needed (`rootcause.json` takes raw JSON)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.depth = 0
        self.token = self._read(0)

    def _read(self, position: int) -> Token:
        while position < len(self.text) and self.text[position].isspace():
            position += 1
        if position >= len(self.text):
            return Token("end", "", len(self.text))
        match = TOKEN.match(self.text, position)
        if match is None:
            raise FilterError(f"unexpected character {self.text[position]!r}", position)
        kind = match.lastgroup or "word"
        return Token(kind, match.group(kind), position)

    def take(self) -> Token:
        token = self.token
        self.token = self._read(token.position + len(token.text))
        return token

    def error(self, message: str, token: Token | None = None) -> FilterError:
        return FilterError(message, (token or self.token).position)

    def expect(self, text: str) -> Token:
        if self.token.text != text:
            raise self.error(f"expected '{text}' but found {self.token.describe()}")
        return self.take()

    # --- structure ------------------------------------------------------------------

    def disjunction(self, context: Context) -> Predicate:
        parts = [self.conjunction(context)]
        while self.token.upper in ("OR", "||"):
            self.take()
            parts.append(self.conjunction(context))
        return combined(parts, every=False)

    def conjunction(self, context: Context) -> Predicate:
        """AND binds tighter than OR; conditions side by side are ANDed, as the guide's
        `ok !partial duration <3` is."""
        parts = [self.negation(context)]
        while True:
            if self.token.upper in ("AND", "&&"):
                self.take()
            elif not self._starts_condition():
                break
            parts.append(self.negation(context))
        return combined(parts, every=True)

    def _starts_condition(self) -> bool:
        token = self.token
        if token.kind == "word":
            return token.upper not in JOINERS
        return token.text in ("!", "(")

    def negation(self, context: Context) -> Predicate:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"brackets and negations nest deeper than {MAX_DEPTH} levels")
        try:
            if self.token.text == "!" or self.token.upper == "NOT":
                self.take()
                inner = self.negation(context)
                return lambda subject: not inner(subject)
            if self.token.text == "(":
                self.take()
                inner = self.disjunction(context)
                self.expect(")")
                return inner
            return self.condition(context)
        finally:
            self.depth -= 1

    def braces(self, context: Context, quick: Context | None = None) -> Braces | None:
        """An optional `{ filter }` in `context`; read in `quick` (a context the trace's
        analysis answers, without reading documents again) when every keyword allows."""
        if self.token.text != "{":
            return None
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"braces nest deeper than {MAX_DEPTH} levels")
        self.take()
        start, depth = self.token, self.depth
        if quick is not None:
            try:
                inner = self.disjunction(quick)
                self.expect("}")
                self.depth -= 1
                return Braces(inner, quick=True)
            except FilterError:
                self.token, self.depth = start, depth  # read it again, every keyword known
        inner = self.disjunction(context)
        self.expect("}")
        self.depth -= 1
        return Braces(inner, quick=False)

    # --- conditions -----------------------------------------------------------------

    def condition(self, context: Context) -> Predicate:
        token = self.take()
        if token.kind != "word":
            raise self.error(f"expected a keyword but found {token.describe()}", token)
        keyword = token.text.lower()
        found = complex_condition(self, context, token)
        if found is not None:
            return found
        if keyword in context.booleans:
            return self.boolean(context.booleans[keyword])
        if keyword in context.numbers:
            return self.number(context.numbers[keyword], token.text)
        if keyword in context.strings:
            return self.string(context.strings[keyword], token.text)
        places = where_known(keyword)
        if places:
            raise self.error(
                f"{token.text!r} applies only inside {' or '.join(places)}, not in {context.name}",
                token,
            )
        raise self.error(
            f"unknown keyword {token.text!r}; supported in {context.name}: "
            + ", ".join(sorted({*context.booleans, *context.numbers, *context.strings})),
            token,
        )

    def boolean(self, get: Callable[[Any], bool]) -> Predicate:
        if self.token.text not in BOOLEAN_OPS:
            return get
        negate = self.take().text == "!="
        literal = self.take()
        if literal.upper not in ("TRUE", "FALSE"):
            raise self.error(f"expected true or false but found {literal.describe()}", literal)
        expected = (literal.upper == "TRUE") != negate
        return lambda subject: get(subject) == expected

    def number(self, get: Callable[[Any], float | None], name: str) -> Predicate:
        compare = NUMBER_OPS.get(self.token.text)
        if compare is None:
            if self._comparison_follows():
                raise self.error(f"{name} takes one of {' '.join(NUMBER_OPS)} and a number")
            # A keyword alone tests that it is set (the guide's complex keyword operators).
            return lambda subject: get(subject) is not None
        self.take()
        value = self.literal(("number",), name)

        def predicate(subject: Any) -> bool:
            actual = get(subject)
            return actual is not None and compare(actual, value)

        return predicate

    def string(self, get: Callable[[Any], list[str]], name: str) -> Predicate:
        compare = STRING_OPS.get(self.token.upper)
        if compare is None:
            if self._comparison_follows():
                raise self.error(f"{name} takes one of {', '.join(STRING_OPS)} and a quoted string")
            return lambda subject: bool(get(subject))
        self.take()
        value = self.literal(("string",), name)
        return lambda subject: any(compare(actual, value) for actual in get(subject))

    def _comparison_follows(self) -> bool:
        """An operator that does not apply, rather than the next condition or the end."""
        token = self.token
        return (
            token.text in NUMBER_OPS
            or token.upper in STRING_OPS
            or token.kind in ("string", "number")
        )

    def literal(self, kinds: tuple[str, ...], name: str) -> Value:
        token = self.take()
        if token.kind == "string" and "string" in kinds:
            return unquote(token.text)
        if token.kind == "number" and "number" in kinds:
            return float(token.text)
        if token.kind == "word" and token.upper in ("TRUE", "FALSE") and "boolean" in kinds:
            return token.upper == "TRUE"
        if token.kind == "word" and kinds == ("string",):
            # The guide writes `name = traces` once, unquoted: read as the string it means.
            return token.text
        wanted = " or ".join("a quoted string" if k == "string" else f"a {k}" for k in kinds)
        raise self.error(f"{name} must be compared with {wanted}, not {token.describe()}", token)

    def raw_json(self) -> Any:
        """The JSON text that starts at the current token (`rootcause.json = #[...]`)."""
        start = self.token.position
        try:
            value, end = json.JSONDecoder().raw_decode(self.text, start)
        except (ValueError, RecursionError):
            raise self.error("expected a JSON list of root causes after '#'") from None
        self.token = self._read(end)
        return value


def combined(parts: list[Predicate], every: bool) -> Predicate:
    """All (AND) or any (OR) of `parts`; two parts, the usual case, without a generator."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        first, second = parts
        if every:
            return lambda subject: first(subject) and second(subject)
        return lambda subject: first(subject) or second(subject)
    test = all if every else any
    return lambda subject: test(part(subject) for part in parts)


def unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])
