"""Live globals of one module, fetched lazily page by page through ``Session.inspect``.

The model never blocks: every request goes out with a callback, and the reply is
merged when it arrives (in the GUI thread). A child list is fetched ``PAGE`` items
at a time as the view scrolls (``canFetchMore``/``fetchMore``). A container of more
than ``CHUNK`` items is shown as ranges (``[0 … 999]``, ``[1000 … 1999]``, ...; nested
for very large ones) so that no node ever has more than ``CHUNK`` rows: the tree
view lays out every row of an expanded node (a Python call each) whenever rows are
added, so unbounded paging would make each page slower than the last. A list of ten
million elements costs a thousand range rows and a page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from hcride.ide.models.base import ColumnsModel
from hcride.ide.theme import Theme

MARKS = {
    "preserved": "The last reload kept its live value (its assignment did not run again).",
    "initialized": "New in the last reload: its assignment ran once.",
    "reevaluated": "A Final constant: the last reload evaluated it again.",
    "stale": "Preserved, but its initializer changed: the live value is the old one.\n"
             "Right click: run the new initializer now.",
    "re-initialized": "Its new initializer was run on request (right click, Variables pane).",
}
"""The Reload column's words (short, so that the column stays narrow) and what they mean
(the cell's tooltip)."""
PAGE = 200
CHUNK = 1000
"""At most this many rows under one node: bigger containers are split into ranges."""
MAX_VALUE_CHARS = 300
Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()
Reply = Callable[[bool, Any, "str | None"], None]
Inspector = Callable[..., None]
"""``inspector(what, module=..., path=..., offset=..., limit=..., callback=reply)``;
the reply must be delivered in the GUI thread."""
KeyRole = Qt.ItemDataRole.UserRole + 1


@dataclass(eq=False)
class VarNode:
    key: Any
    name: str
    type: str = ""
    value: str = ""
    expandable: bool = False
    size: int | None = None
    parent: VarNode | None = None
    children: list[VarNode] = field(default_factory=list)
    total: int | None = None
    loading: bool = False
    changed: bool = False
    status: str = ""
    """What the last reload did to a global (``preserved``, ``initialized``...)."""
    position: int = 0
    """This node's row under its parent (kept up to date by the model)."""
    lo: int | None = None
    """A range node (items ``lo`` to ``hi - 1`` of its container) when not None."""
    hi: int = 0

    def path(self) -> list[Any]:
        keys: list[Any] = []
        node: VarNode | None = self
        while node is not None and node.parent is not None:
            if node.lo is None:  # a range is not a step into the data
                keys.append(node.key)
            node = node.parent
        return keys[::-1]

    def row(self) -> int:
        return self.position if self.parent else 0

    @property
    def base(self) -> int:
        """The container offset of this node's first child."""
        return self.lo or 0

    @property
    def span(self) -> int | None:
        """How many items this node's children cover (None: unknown)."""
        return self.hi - self.lo if self.lo is not None else self.size

    @property
    def ranged(self) -> bool:
        """Children are ranges, not items."""
        span = self.span
        return self.parent is not None and span is not None and span > CHUNK


def ranges(lo: int, hi: int) -> list[tuple[int, int]]:
    """Split ``[lo, hi)`` into at most ``CHUNK`` ranges of ``CHUNK * 10**k`` items."""
    step = CHUNK
    while (hi - lo + step - 1) // step > CHUNK:
        step *= 10
    return [(a, min(hi, a + step)) for a in range(lo, hi, step)]


def _range_node(lo: int, hi: int, parent: VarNode, position: int) -> VarNode:
    return VarNode(
        key=None,
        name=f"[{lo} … {hi - 1}]",
        value=f"{hi - lo:,} items",
        expandable=True,
        parent=parent,
        position=position,
        lo=lo,
        hi=hi,
        total=None,
    )


def parse_items(data: Any) -> tuple[list[dict[str, Any]], int | None]:
    """``(items, total)`` from an inspect reply (a list, or ``{"items", "total"}``)."""
    if isinstance(data, dict):
        items = data.get("items") or data.get("globals") or data.get("children") or []
        total = data.get("total")
        return [i for i in items if isinstance(i, dict)], total if isinstance(total, int) else None
    if isinstance(data, list):
        return [i for i in data if isinstance(i, dict)], None
    return [], 0


def _node_from(item: dict[str, Any], parent: VarNode, position: int) -> VarNode:
    name = item.get("name")
    key = item.get("key", name)
    if name is None:
        name = repr(key) if not isinstance(key, int) else f"[{key}]"
    size = item.get("size", item.get("length", item.get("len")))
    value = item.get("repr", item.get("value", ""))
    return VarNode(
        key=key,
        name=str(name),
        type=str(item.get("type", "")),
        value=str(value)[:MAX_VALUE_CHARS],
        expandable=bool(item.get("expandable", item.get("has_children", False))),
        size=size if isinstance(size, int) else None,
        parent=parent,
        status=str(item.get("status") or ""),
        position=position,
    )


class VariablesModel(ColumnsModel):
    """Columns: name, type, value, reload (``preserved`` / ``initialized``)."""

    HEADERS = ("Name", "Type", "Value", "Reload")

    def __init__(self, theme: Theme, parent: Any = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.inspector: Inspector | None = None
        self.module: str | None = None
        self.root = VarNode(None, "")
        self.marks: dict[str, str] = {}
        """Top-level name -> one of ``MARKS`` (what the last reload did with it)."""
        self.error: str | None = None
        self._generation = 0

    # ---------------------------------------------------------------- feeding

    def set_module(self, module: str | None) -> None:
        """Show ``module``'s globals (None: nothing)."""
        self._generation += 1
        self.beginResetModel()
        self.module = module
        self.root = VarNode(None, "", expandable=True)
        self.error = None
        self.endResetModel()
        if module is not None:
            self._request(self.root, 0, PAGE, merge=True)

    def set_marks(self, marks: dict[str, str]) -> None:
        self.marks = marks
        if self.root.children:
            self.dataChanged.emit(self.index(0, 3), self.index(len(self.root.children) - 1, 3))

    def refresh(self, expanded: list[VarNode] | None = None) -> None:
        """Fetch again what is shown: the globals and the given expanded nodes."""
        if self.module is None or self.inspector is None:
            return
        for node in [self.root, *(expanded or [])]:
            if node.loading or node.ranged:
                continue
            limit = min(CHUNK, max(PAGE, len(node.children)))
            if node.lo is not None:
                limit = min(limit, node.hi - node.lo)
            self._request(node, node.base, limit, merge=True)

    def node(self, index: Index) -> VarNode:
        return index.internalPointer() if index.isValid() else self.root

    def index_of(self, node: VarNode) -> QModelIndex:
        if node.parent is None:
            return QModelIndex()
        return self.createIndex(node.row(), 0, node)

    def _request(self, node: VarNode, offset: int, limit: int, merge: bool) -> None:
        if self.inspector is None or self.module is None:
            return
        node.loading = True
        generation = self._generation
        what = "globals" if node is self.root else "children"

        def reply(ok: bool, data: Any, error: str | None) -> None:
            if generation != self._generation:
                return
            node.loading = False
            if not ok:
                if node is self.root:
                    self.error = error or "inspect failed"
                    self.layoutChanged.emit()
                return
            items, total = parse_items(data)
            if node.lo is not None:
                total = node.hi - node.lo  # the reply counts the whole container
            if merge:
                self._merge(node, items, total, offset)
            else:
                self._append(node, items, total)

        self.inspector(
            what, module=self.module, path=node.path(), offset=offset, limit=limit, callback=reply
        )

    def _append(self, node: VarNode, items: list[dict[str, Any]], total: int | None) -> None:
        first = len(node.children)
        fresh = [_node_from(item, node, first + n) for n, item in enumerate(items)]
        node.total = total if total is not None else (len(node.children) + len(fresh))
        if not fresh:
            node.total = len(node.children)
            return
        self.beginInsertRows(self.index_of(node), first, first + len(fresh) - 1)
        node.children.extend(fresh)
        self.endInsertRows()

    def _merge(
        self, node: VarNode, items: list[dict[str, Any]], total: int | None, offset: int
    ) -> None:
        fresh = [_node_from(item, node, n) for n, item in enumerate(items)]
        old = node.children
        parent = self.index_of(node)
        node.total = total if total is not None else len(fresh)
        paged = node is not self.root and len(old) > len(fresh)
        if [c.key for c in old[: len(fresh)]] == [c.key for c in fresh] and (
            paged or len(old) == len(fresh)
        ):
            for row, (cur, new) in enumerate(zip(old[: len(fresh)], fresh, strict=True)):
                was = cur.changed
                cur.changed = bool(cur.value != new.value or cur.type != new.type)
                resized = cur.size != new.size and bool(cur.children)
                cur.value, cur.type, cur.size = new.value, new.type, new.size
                cur.expandable = new.expandable
                cur.status = new.status
                if resized:
                    self._resized(cur)
                if cur.changed or was:
                    self.dataChanged.emit(
                        self.createIndex(row, 0, cur), self.createIndex(row, 3, cur)
                    )
            return
        previous = {c.key: c for c in old}
        first_load = not old
        for new in fresh:
            prior = previous.get(new.key)
            new.changed = bool(prior is not None and prior.value != new.value) or (
                prior is None and not first_load and node is self.root
            )
        if old:
            self.beginRemoveRows(parent, 0, len(old) - 1)
            node.children = []
            self.endRemoveRows()
        if fresh:
            self.beginInsertRows(parent, 0, len(fresh) - 1)
            node.children = fresh
            self.endInsertRows()

    def _resized(self, node: VarNode) -> None:
        """A shown container changed size: keep the ranges that did not change."""
        ranged_now = node.ranged
        had_ranges = node.children[0].lo is not None
        if ranged_now and had_ranges:
            new = ranges(0, node.size or 0)
            old = [(c.lo, c.hi) for c in node.children]
            keep = 0
            while keep < min(len(new), len(old)) and new[keep] == old[keep]:
                keep += 1
            self._replace_children(node, keep, new[keep:])
        elif ranged_now or had_ranges:
            self._replace_children(node, 0, ranges(0, node.size or 0) if ranged_now else [])
            if not ranged_now:
                node.total = None
                self.fetchMore(self.index_of(node))
        else:
            node.total = node.size

    def _replace_children(self, node: VarNode, keep: int, new: list[tuple[int, int]]) -> None:
        """Remove ``node``'s rows from ``keep`` on, then add range rows for ``new``."""
        parent = self.index_of(node)
        if len(node.children) > keep:
            self.beginRemoveRows(parent, keep, len(node.children) - 1)
            del node.children[keep:]
            self.endRemoveRows()
        if new:
            self.beginInsertRows(parent, keep, keep + len(new) - 1)
            node.children.extend(
                _range_node(lo, hi, node, keep + n) for n, (lo, hi) in enumerate(new)
            )
            self.endInsertRows()
        node.total = len(node.children) if new or keep else node.total

    # ------------------------------------------------------------ model API

    def index(self, row: int, column: int, parent: Index = ROOT) -> QModelIndex:
        # called once per fetched row at every layout of the view: keep it lean
        children = (parent.internalPointer() if parent.isValid() else self.root).children
        if 0 <= row < len(children) and 0 <= column < 4:
            return self.createIndex(row, column, children[row])
        return QModelIndex()

    def parent(self, index: Index = ROOT) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        up = index.internalPointer().parent
        if up is None or up.parent is None:
            return QModelIndex()
        return self.createIndex(up.position, 0, up)

    def rowCount(self, parent: Index = ROOT) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self.node(parent).children)

    def hasChildren(self, parent: Index = ROOT) -> bool:
        node = self.node(parent)
        if parent.isValid() and parent.column() != 0:
            return False
        return bool(node.children) or (node.expandable and node.total != 0)

    def canFetchMore(self, parent: Index) -> bool:
        node = self.node(parent)
        if node is self.root or not node.expandable or node.loading:
            return False
        if node.ranged:
            return not node.children
        return node.total is None or len(node.children) < node.total

    def fetchMore(self, parent: Index) -> None:
        node = self.node(parent)
        if not self.canFetchMore(parent):
            return
        if node.ranged:
            span = node.span or 0
            self._replace_children(node, 0, ranges(node.base, node.base + span))
            return
        limit = PAGE
        if node.lo is not None:
            limit = min(PAGE, node.hi - node.lo - len(node.children))
        self._request(node, node.base + len(node.children), limit, merge=False)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node: VarNode = index.internalPointer()
        col = index.column()
        top = node.parent is self.root
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return node.name
            if col == 1:
                return node.type + (f" [{node.size}]" if node.size is not None else "")
            if col == 2:
                return node.value
            return self._mark(node) if top else ""
        if role == Qt.ItemDataRole.ToolTipRole and col == 2:
            return node.value
        if role == Qt.ItemDataRole.ToolTipRole and col == 3 and top:
            return MARKS.get(self._mark(node))
        if role == Qt.ItemDataRole.BackgroundRole and node.changed:
            return self.theme.colour("changed_background", "#fff2b8")
        if role == Qt.ItemDataRole.ForegroundRole and col == 3 and top:
            mark = self._mark(node)
            if mark == "preserved":
                return self.theme.colour("preserved", "#1b6fb8")
            if mark in ("initialized", "re-initialized"):
                return self.theme.colour("initialized", "#1a8a3f")
            if mark == "stale":
                return self.theme.state_colour("restart needed")
        if role == KeyRole:
            return node.key
        return None

    def _mark(self, node: VarNode) -> str:
        mark = self.marks.get(node.name, "")
        if mark:
            return mark
        return node.status if node.status in ("preserved", "initialized", "reevaluated") else ""
