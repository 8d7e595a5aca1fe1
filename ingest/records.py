"""What ingesters yield: nodes, relationships and rejected records.

Every ingester is `parse(path, **options) -> Iterator[Node | Rel | Rejected]`.
Ingesters never talk to a store; `ingest.pipeline` validates, resolves,
batches and writes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from graph.ids import rel_id


@dataclass
class Node:
    label: str
    props: dict[str, Any]  # must hold id, name, sources; other keys from the schema
    origin: str | None = None  # "line 12", "row 3", "entry 5": where in the file, for quarantine

    @property
    def id(self) -> str:
        return self.props["id"]


@dataclass
class Rel:
    type: str
    src: str
    src_label: str
    dst: str
    dst_label: str
    props: dict[str, Any] = field(default_factory=dict)  # sources + schema properties
    key: str = ""  # distinguishes several relationships of one type between the same pair
    origin: str | None = None

    def __post_init__(self):
        # hash only when no id is given (setdefault would hash every record, then discard it)
        if "id" not in self.props:
            self.props["id"] = rel_id(self.type, self.src, self.dst, self.key)

    @property
    def id(self) -> str:
        return self.props["id"]


@dataclass
class Rejected:
    """A record that could not be read or does not fit the schema. Goes to quarantine."""
    file: str
    record: str  # line number, JSON pointer, row number...
    field: str | None
    reason: str
    raw: Any = None

    def __post_init__(self):
        # Undecodable bytes read with surrogateescape (or JSON's "\ud800") are lone surrogates, which
        # no UTF-8 quarantine file can hold: keep them visible as \udcff escapes instead.
        self.record, self.field, self.reason = (_printable(x) for x in (self.record, self.field, self.reason))
        self.raw = _printable(self.raw)

    def line(self) -> str:
        where = f"{self.file}:{self.record}" + (f" [{self.field}]" if self.field else "")
        return f"{where}: {self.reason}"


Record = Union[Node, Rel, Rejected]


def _printable(v: Any, depth: int = 0) -> Any:
    """`v` with lone surrogates in its strings (and dict keys) escaped; other values unchanged."""
    if isinstance(v, str):
        try:
            v.encode("utf-8")
            return v
        except UnicodeEncodeError:
            return v.encode("utf-8", "backslashreplace").decode("utf-8")
    if depth > 50:  # raw values are for people to read; a pathological nesting is cut, never a crash
        return repr(v)[:1000]
    if isinstance(v, dict):
        return {_printable(k, depth + 1): _printable(x, depth + 1) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_printable(x, depth + 1) for x in v]
    return v
