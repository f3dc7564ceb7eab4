"""The guide's complex keywords: `annotation.KEY`, `service(...)`, `edge(...)`, `id(...)`,
`group.name`/`group.arn`, and `rootcause.*` (in filter_rootcause.py) (the developer guide,
"Using filter expressions": complex keywords, the id function).

A cheap test on the trace's analysis comes first; only when a filter has braces, or asks
for root causes, are the trace's documents read again (detail.py, rootcause.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from .analysis import CLIENT_TYPE, Analysis, NodeKey
from .detail import Traced
from .filter_rootcause import rootcause
from .filter_terms import EDGE, EDGE_FROM_ANALYSIS, SERVICE, SERVICE_FROM_ANALYSIS, Context

if TYPE_CHECKING:
    from .filters import Parser, Token

Predicate = Callable[[Any], bool]
DEFAULT_GROUP = "Default"
ID_FIELDS = ("name", "type", "account.id")
GUIDE_ON_ANNOTATIONS = (
    'the guide: "You can\'t use this keyword in combination with the service or edge keyword"'
)


class Selector(NamedTuple):
    """What service("name") or id(name:, type:, account.id:) picks; None matches anything."""

    name: str | None = None
    type: str | None = None
    account: str | None = None

    def picks(self, node: NodeKey) -> bool:
        return (
            node[1] != CLIENT_TYPE
            and (self.name is None or node[0] == self.name)
            and (self.type is None or node[1] == self.type)
        )

    def in_trace(self, analysis: Analysis, node: NodeKey) -> bool:
        if self.account is None:
            return self.picks(node)
        return self.picks(node) and (node, self.account) in analysis.accounts


def complex_condition(parser: Parser, context: Context, token: Token) -> Predicate | None:
    """The condition a complex keyword starts, or None when `token` is not one."""
    keyword = token.text.lower()
    if keyword == "annotation" or keyword.startswith("annotation."):
        handler: Callable[[Parser, Token], Predicate] = annotation
    elif keyword in ("service", "id"):
        handler = service
    elif keyword == "edge":
        handler = edge
    elif keyword in ("group.name", "group.arn"):
        handler = group
    elif keyword == "json" or keyword.startswith("rootcause"):
        handler = rootcause
    else:
        return None
    if not context.complex_keywords:
        why = f"; {GUIDE_ON_ANNOTATIONS}" if handler is annotation else ""
        raise parser.error(f"{token.text} cannot be used inside {context.name}{why}", token)
    return handler(parser, token)


# --- annotation.KEY ------------------------------------------------------------------------


def annotation(parser: Parser, token: Token) -> Predicate:
    from .filters import NUMBER_OPS, STRING_OPS

    if token.text.lower() == "annotation":
        parser.expect("[")
        key_token = parser.take()
        if key_token.kind not in ("word", "string"):
            raise parser.error("expected an annotation key", key_token)
        key = _text(key_token)
        parser.expect("]")
    else:
        key = token.text[len("annotation.") :]
    if not key:
        raise parser.error("expected an annotation key after 'annotation.'", token)
    if parser.token.text not in NUMBER_OPS and parser.token.upper not in STRING_OPS:
        return lambda trace: trace.analysis().annotation(key) is not None
    op_token = parser.take()
    value = parser.literal(("string", "number", "boolean"), f"annotation.{key}")
    table = STRING_OPS if isinstance(value, str) else NUMBER_OPS
    compare = table.get(op_token.upper)
    if compare is None or (isinstance(value, bool) and op_token.text not in ("=", "!=")):
        raise parser.error(f"operator {op_token.text!r} does not apply to {value!r}", op_token)
    kind = type(value)

    def predicate(trace: Traced) -> bool:
        for actual, _ in trace.analysis().annotation(key) or ():
            if type(actual) is kind and compare(actual, value):
                return True
        return False

    return predicate


# --- service(...), edge(...), id(...) --------------------------------------------------------


def service(parser: Parser, token: Token) -> Predicate:
    parser.expect("(")
    if token.text.lower() == "id":  # id(...) on its own picks services, as service(id(...))
        selector = id_arguments(parser)
    elif parser.token.text == ")":
        parser.take()
        selector = Selector()  # service(): every node on the map
    else:
        selector = endpoint(parser)
        parser.expect(")")
    braces = parser.braces(SERVICE, SERVICE_FROM_ANALYSIS)
    if braces is None:
        if selector.type is None and selector.account is None and selector.name is not None:
            name = selector.name
            return lambda trace: name in trace.analysis().service_names
        return lambda trace: _has_node(trace.analysis(), selector)
    inner = braces.predicate
    if braces.quick:

        def quick(trace: Traced) -> bool:
            analysis = trace.analysis()
            return any(
                selector.in_trace(analysis, node[0]) and inner(node) for node in analysis.nodes
            )

        return quick

    def predicate(trace: Traced) -> bool:
        if not _has_node(trace.analysis(), selector):
            return False
        return any(
            selector.picks(segment.node)
            and (selector.account is None or segment.entity.account_id == selector.account)
            and inner(segment)
            for segment in trace.detail().segments
        )

    return predicate


def edge(parser: Parser, token: Token) -> Predicate:
    parser.expect("(")
    source = endpoint(parser)
    parser.expect(",")
    target = endpoint(parser)
    parser.expect(")")
    braces = parser.braces(EDGE, EDGE_FROM_ANALYSIS)

    def has_edge(analysis: Analysis) -> bool:
        return any(
            source.in_trace(analysis, call[0]) and target.in_trace(analysis, call[1])
            for call in analysis.edges
        )

    if braces is None:
        return lambda trace: has_edge(trace.analysis())
    inner = braces.predicate
    if braces.quick:

        def quick(trace: Traced) -> bool:
            analysis = trace.analysis()
            return any(
                source.in_trace(analysis, call[0])
                and target.in_trace(analysis, call[1])
                and inner(call)
                for call in analysis.edges
            )

        return quick

    def predicate(trace: Traced) -> bool:
        analysis = trace.analysis()
        if not has_edge(analysis):
            return False
        return any(
            source.in_trace(analysis, call.source)
            and target.in_trace(analysis, call.target)
            and inner(call)
            for call in trace.detail().calls
        )

    return predicate


def endpoint(parser: Parser) -> Selector:
    """A quoted service name or id(...)."""
    if parser.token.kind == "string":
        return Selector(_text(parser.take()))
    if parser.token.text.lower() == "id":
        parser.take()
        parser.expect("(")
        return id_arguments(parser)
    raise parser.error(
        f'expected a quoted service name or id(...), as in service("name"), '
        f"but found {parser.token.describe()}"
    )


def id_arguments(parser: Parser) -> Selector:
    """`name: "...", type: "...", account.id: "..."` (any of them) and the closing ')'."""
    fields: dict[str, str] = {}
    while parser.token.text != ")":
        key = parser.take()
        if key.text not in ID_FIELDS:
            raise parser.error(f"id() takes {', '.join(f'{f}:' for f in ID_FIELDS)}", key)
        parser.expect(":")
        value = parser.take()
        if value.kind != "string":
            raise parser.error(f"{key.text}: expected a quoted string", value)
        fields[key.text] = _text(value)
        if parser.token.text == ",":
            parser.take()
    parser.expect(")")
    return Selector(fields.get("name"), fields.get("type"), fields.get("account.id"))


def _has_node(analysis: Analysis, selector: Selector) -> bool:
    return any(selector.in_trace(analysis, node) for node in analysis.services)


# --- group.name, group.arn -------------------------------------------------------------------


def group(parser: Parser, token: Token) -> Predicate:
    op = parser.take()
    if op.text not in ("=", "!="):
        raise parser.error(f"{token.text} takes = or != and a quoted group name", op)
    value = str(parser.literal(("string",), token.text))
    named = value if token.text.lower() == "group.name" else value.rpartition("/")[2]
    if named != DEFAULT_GROUP or (token.text.lower() == "group.arn" and ":group/" not in value):
        raise parser.error(
            f"{token.text} {value!r}: groups are not supported here; only the Default group "
            "(every trace) exists",
            token,
        )
    matches = op.text == "="
    return lambda trace: matches


def _text(token: Token) -> str:
    from .filters import unquote

    return unquote(token.text) if token.kind == "string" else token.text
