"""X-Amzn-Trace-Id values a client, a proxy or an attacker may send, as a Hypothesis strategy.

Every value is a valid HTTP field value (no control characters): anything else is refused by
uvicorn's HTTP parser with its own text/plain 400 before the application sees the request.
Non-ASCII text goes out as the UTF-8 bytes a client would send: HTTP clients encode header
strings as Latin-1, so each value is the Latin-1 reading of those bytes (as Starlette reads them).
"""

from __future__ import annotations

from hypothesis import strategies as st

from tracing._header import MAX_HEADER_CHARS

HEX = "0123456789abcdef"
# Printable characters of any script, spaces and tabs: what an HTTP field value may carry.
FIELD_TEXT = st.text(
    st.characters(exclude_categories=["Cc", "Cs"], include_characters="\t"), max_size=40
)


def _hex(size: int) -> st.SearchStrategy[str]:
    return st.text(HEX, min_size=size, max_size=size)


def _near_hex(size: int) -> st.SearchStrategy[str]:
    """Almost an id: a character too many or too few, upper case, or not hex at all."""
    return st.one_of(
        _hex(size - 1),
        _hex(size + 1),
        _hex(size).map(str.upper),
        st.text("0123456789abcdefgxyzXYZ-_", min_size=size, max_size=size),
        FIELD_TEXT,
    )


VALID_ROOTS = st.builds("1-{}-{}".format, _hex(8), _hex(24))
ROOTS = st.one_of(
    VALID_ROOTS,
    st.builds("{}-{}-{}".format, st.sampled_from(["0", "2", "01", ""]), _hex(8), _hex(24)),
    st.builds("1-{}-{}".format, _near_hex(8), _near_hex(24)),
    FIELD_TEXT,
)
PARENTS = st.one_of(_hex(16), _near_hex(16))
SAMPLED = st.one_of(st.sampled_from(["0", "1", "?"]), FIELD_TEXT)
KEYS = st.sampled_from(["Root", "Parent", "Sampled", "Self", "Lineage", "root", "", "Root "])


def _known_fields(
    draw: st.DrawFn,
    roots: st.SearchStrategy[str],
    parents: st.SearchStrategy[str],
    sampled: st.SearchStrategy[str],
) -> list[str]:
    """A Root, perhaps a Parent, perhaps a Sampled decision, drawn from these."""
    fields = [f"Root={draw(roots)}"]
    if draw(st.booleans()):
        fields.append(f"Parent={draw(parents)}")
    if draw(st.booleans()):
        fields.append(f"Sampled={draw(sampled)}")
    return fields


@st.composite
def _fields(draw: st.DrawFn) -> str:
    """Root, Parent, Sampled and other fields in any order, any of them broken or repeated."""
    fields = _known_fields(draw, ROOTS, PARENTS, SAMPLED)
    extra = draw(st.lists(st.tuples(KEYS, FIELD_TEXT), max_size=2))
    fields.extend(f"{key}={value}" for key, value in extra)
    if draw(st.booleans()):
        fields.append(draw(FIELD_TEXT))  # a part without "="
    ordered = draw(st.permutations(fields))
    separator = draw(st.sampled_from([";", "; ", " ;", ";;", ","]))
    return separator.join(ordered)


@st.composite
def _valid(draw: st.DrawFn) -> str:
    """A header the services continue: a root, perhaps a parent, perhaps a sampling decision."""
    fields = _known_fields(draw, VALID_ROOTS, _hex(16), st.sampled_from(["0", "1", "?"]))
    return ";".join(fields)


def _oversized(value: str) -> str:
    """A well-formed header pushed past the size the services honour."""
    return value + ";" + "Padding=" + "x" * MAX_HEADER_CHARS


def _as_sent(text: str) -> str:
    # HTTP clients refuse to send leading whitespace; servers strip it anyway.
    return text.lstrip().encode().decode("latin-1")


def trace_header_values() -> st.SearchStrategy[str]:
    return st.one_of(_valid(), _fields(), FIELD_TEXT, _valid().map(_oversized)).map(_as_sent)
