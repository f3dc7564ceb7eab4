"""X-Ray filter expressions, parsed into a predicate over a trace's analysis.

Supported, as in X-Ray: boolean keywords `ok`, `error`, `fault`, `throttle`, `partial` (alone,
negated with `!`, or compared with `= true|false`); number keywords `responsetime`,
`duration`, `http.status` with `= != < <= > >=`; string keywords `http.url`, `http.method`,
`http.useragent`, `http.clientip`, `user` with `= != CONTAINS BEGINSWITH ENDSWITH`;
`annotation.KEY` (or `annotation[KEY]`) alone or compared with a string, number or boolean;
`service("name")` and `service(id(name: "name", type: "type"))`; `AND`, `OR`, `&&`, `||`,
`!` and parentheses. Anything else is refused with the position it went wrong at.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .analysis import Analysis

Predicate = Callable[[Analysis], bool]
Value = str | float | bool

TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
    | (?P<op><=|>=|!=|&&|\|\||[=<>()!{}\[\],:])
    | (?P<word>[A-Za-z_][\w.\-]*)
    )""",
    re.VERBOSE,
)
NUMBER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
STRING_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "CONTAINS": operator.contains,
    "BEGINSWITH": lambda value, prefix: value.startswith(prefix),
    "ENDSWITH": lambda value, suffix: value.endswith(suffix),
}
BOOLEAN_KEYWORDS: dict[str, Callable[[Analysis], bool]] = {
    "ok": lambda a: not (a.has_fault or a.has_error or a.has_throttle),
    "error": lambda a: a.has_error,
    "fault": lambda a: a.has_fault,
    "throttle": lambda a: a.has_throttle,
    "partial": lambda a: a.partial,
}
NUMBER_KEYWORDS: dict[str, Callable[[Analysis], float | int | None]] = {
    "responsetime": lambda a: a.response_time,
    "duration": lambda a: a.duration,
    "http.status": lambda a: a.http.status if a.http else None,
}
STRING_KEYWORDS: dict[str, Callable[[Analysis], list[str]]] = {
    "http.url": lambda a: [a.http.url] if a.http and a.http.url else [],
    "http.method": lambda a: [a.http.method] if a.http and a.http.method else [],
    "http.useragent": lambda a: [a.http.user_agent] if a.http and a.http.user_agent else [],
    "http.clientip": lambda a: [a.http.client_ip] if a.http and a.http.client_ip else [],
    "user": lambda a: [name for name, _ in a.users],
}
KEYWORDS = sorted(
    [*BOOLEAN_KEYWORDS, *NUMBER_KEYWORDS, *STRING_KEYWORDS, "annotation.KEY", 'service("name")']
)


class FilterError(ValueError):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"invalid filter expression at character {position + 1}: {message}")
        self.position = position


@dataclass(frozen=True)
class Token:
    kind: str  # string, number, op, word, end
    text: str
    position: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            break
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterError(f"unexpected character {text[position]!r}", position)
        kind = match.lastgroup or "word"
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def compile_filter(text: str) -> Predicate:
    """A predicate for `text`, or FilterError saying where and why it is not valid."""
    if not text.strip():
        return lambda analysis: True
    return _Parser(tokenize(text)).parse()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str) -> Token:
        if self.token.text != text:
            raise FilterError(
                f"expected '{text}' but found {self._describe()}", self.token.position
            )
        return self.take()

    def _describe(self) -> str:
        return _found(self.token)

    def parse(self) -> Predicate:
        predicate = self.disjunction()
        if self.token.kind != "end":
            raise FilterError(
                f"expected AND, OR or the end, but found {self._describe()}", self.token.position
            )
        return predicate

    def disjunction(self) -> Predicate:
        return _combined(self._joined(("OR", "||"), self.conjunction), every=False)

    def conjunction(self) -> Predicate:
        return _combined(self._joined(("AND", "&&"), self.negation), every=True)

    def _joined(self, words: tuple[str, str], operand: Callable[[], Predicate]) -> list[Predicate]:
        """operand (word operand)*: AND binds tighter than OR, as in X-Ray."""
        parts = [operand()]
        while self.token.upper in words:
            self.take()
            parts.append(operand())
        return parts

    def negation(self) -> Predicate:
        if self.token.text == "!" or self.token.upper == "NOT":
            self.take()
            inner = self.negation()
            return lambda analysis: not inner(analysis)
        if self.token.text == "(":
            self.take()
            inner = self.disjunction()
            self.expect(")")
            return inner
        return self.condition()

    def condition(self) -> Predicate:
        token = self.take()
        if token.kind != "word":
            raise FilterError(f"expected a keyword but found {_found(token)}", token.position)
        keyword = token.text.lower()
        if keyword in BOOLEAN_KEYWORDS:
            return self.boolean(BOOLEAN_KEYWORDS[keyword])
        if keyword in NUMBER_KEYWORDS:
            return self.number(NUMBER_KEYWORDS[keyword], token.text)
        if keyword in STRING_KEYWORDS:
            return self.string(STRING_KEYWORDS[keyword], token.text)
        if keyword == "annotation" or keyword.startswith("annotation."):
            return self.annotation(token)
        if keyword in ("service", "id"):
            return self.service(token)
        raise FilterError(
            f"unknown keyword {token.text!r}; supported: {', '.join(KEYWORDS)}", token.position
        )

    def boolean(self, get: Callable[[Analysis], bool]) -> Predicate:
        if self.token.text not in ("=", "!="):
            return get
        negate = self.take().text == "!="
        expected = self.boolean_literal() != negate
        return lambda analysis: get(analysis) == expected

    def boolean_literal(self) -> bool:
        token = self.take()
        if token.upper not in ("TRUE", "FALSE"):
            raise FilterError(f"expected true or false but found {token.text!r}", token.position)
        return token.upper == "TRUE"

    def number(self, get: Callable[[Analysis], float | int | None], name: str) -> Predicate:
        op_token = self.take()
        compare = NUMBER_OPS.get(op_token.text)
        if compare is None:
            raise FilterError(
                f"{name} takes one of {' '.join(NUMBER_OPS)} and a number", op_token.position
            )
        value = self.literal(("number",), name)

        def predicate(analysis: Analysis) -> bool:
            actual = get(analysis)
            return actual is not None and compare(actual, value)

        return predicate

    def string(self, get: Callable[[Analysis], list[str]], name: str) -> Predicate:
        op_token = self.take()
        compare = STRING_OPS.get(op_token.upper)
        if compare is None:
            raise FilterError(
                f"{name} takes one of {', '.join(STRING_OPS)} and a quoted string",
                op_token.position,
            )
        value = self.literal(("string",), name)
        return lambda analysis: any(compare(actual, value) for actual in get(analysis))

    def literal(self, kinds: tuple[str, ...], name: str) -> Value:
        token = self.take()
        if token.kind == "string" and "string" in kinds:
            return _unquote(token.text)
        if token.kind == "number" and "number" in kinds:
            return float(token.text)
        if token.kind == "word" and token.upper in ("TRUE", "FALSE") and "boolean" in kinds:
            return token.upper == "TRUE"
        wanted = " or ".join("a quoted string" if k == "string" else f"a {k}" for k in kinds)
        raise FilterError(
            f"{name} must be compared with {wanted}, not {_found(token)}", token.position
        )

    def annotation(self, token: Token) -> Predicate:
        if token.text.lower() == "annotation":
            self.expect("[")
            key_token = self.take()
            if key_token.kind not in ("word", "string"):
                raise FilterError("expected an annotation key", key_token.position)
            key = _unquote(key_token.text) if key_token.kind == "string" else key_token.text
            self.expect("]")
        else:
            key = token.text[len("annotation.") :]
        if not key:
            raise FilterError("expected an annotation key after 'annotation.'", token.position)
        if self.token.text not in NUMBER_OPS and self.token.upper not in STRING_OPS:
            return lambda analysis: analysis.annotation(key) is not None
        op_token = self.take()
        value = self.literal(("string", "number", "boolean"), f"annotation.{key}")
        table = STRING_OPS if isinstance(value, str) else NUMBER_OPS
        compare = table.get(op_token.upper)
        if compare is None or (isinstance(value, bool) and op_token.text not in ("=", "!=")):
            raise FilterError(
                f"operator {op_token.text!r} does not apply to {value!r}", op_token.position
            )
        kind = type(value)

        def predicate(analysis: Analysis) -> bool:
            for actual, _ in analysis.annotation(key) or ():
                if type(actual) is kind and compare(actual, value):
                    return True
            return False

        return predicate

    def service(self, token: Token) -> Predicate:
        self.expect("(")
        if token.text.lower() == "service" and self.token.text.lower() == "id":
            self.take()
            predicate = self.service(Token("word", "id", self.token.position))
            self.expect(")")
        elif token.text.lower() == "service":
            name_token = self.take()
            if name_token.kind != "string":
                raise FilterError(
                    'expected a quoted service name, as in service("name")', name_token.position
                )
            name = _unquote(name_token.text)
            self.expect(")")
            predicate = _named(name, None)
        else:
            predicate = self.service_id()
        if self.token.text == "{":
            raise FilterError(
                "filters on a service's own requests (service(...) { ... }) are not supported",
                self.token.position,
            )
        return predicate

    def service_id(self) -> Predicate:
        fields: dict[str, str] = {}
        while True:
            key = self.take()
            if key.text not in ("name", "type"):
                raise FilterError("id() takes name: and type:", key.position)
            self.expect(":")
            value = self.take()
            if value.kind != "string":
                raise FilterError("expected a quoted string", value.position)
            fields[key.text] = _unquote(value.text)
            if self.token.text != ",":
                break
            self.take()
        self.expect(")")
        return _named(fields.get("name"), fields.get("type"))


def _named(name: str | None, kind: str | None) -> Predicate:
    if name is not None and kind is not None:
        return lambda analysis: (name, kind) in analysis.services
    if name is not None:
        return lambda analysis: name in analysis.service_names

    def predicate(analysis: Analysis) -> bool:
        for node_name, node_type in analysis.services:
            if (name is None or node_name == name) and (kind is None or node_type == kind):
                return True
        return False

    return predicate


def _combined(parts: list[Predicate], every: bool) -> Predicate:
    """All (AND) or any (OR) of `parts`; two parts, the usual case, without a generator."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        first, second = parts
        if every:
            return lambda analysis: first(analysis) and second(analysis)
        return lambda analysis: first(analysis) or second(analysis)
    test = all if every else any
    return lambda analysis: test(part(analysis) for part in parts)


def _found(token: Token) -> str:
    return "the end of the expression" if token.kind == "end" else repr(token.text)


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])
