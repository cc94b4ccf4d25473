"""What differs between the CPython versions a program may run on (3.10-3.14), for
patching: which attributes of a function carry its definition, a class's first line,
the type parameters a generic class's members see. Standard library only."""

from __future__ import annotations

import sys
import types
from typing import Any

LAZY_ANNOTATIONS = sys.version_info >= (3, 14)
"""PEP 649/749: a function's ``__annotations__`` is computed by its ``__annotate__``
on first access, which evaluates names (possibly imported only under TYPE_CHECKING)."""

_BASE_FIELDS = ("__code__", "__defaults__", "__kwdefaults__", "__doc__")


def function_fields(donor: types.FunctionType) -> tuple[str, ...]:
    """The attributes a patched function takes from ``donor`` (its new version).

    3.12+: ``__type_params__`` (``def f[T]``). 3.14+: ``__annotate__``, read without
    evaluating anything (setting it drops the target's cached annotations, so they are
    computed from the new code when asked for), except for a function whose
    annotations are already plain data (``from __future__ import annotations``:
    ``__annotate__`` is None), which copies ``__annotations__``. Before 3.14:
    ``__annotations__``, a dict made at definition time."""
    fields = _BASE_FIELDS
    if sys.version_info >= (3, 12):
        fields += ("__type_params__",)
    if LAZY_ANNOTATIONS and getattr(donor, "__annotate__", None) is not None:
        return (*fields, "__annotate__")
    return (*fields, "__annotations__")


def shift_first_line(cls: type, delta: int, undo: Any) -> None:
    """3.13+: a class's ``__firstlineno__`` (what ``inspect.getsource`` reads) moved
    ``delta`` lines with its source. ``undo`` is the batch's ``UndoLog``."""
    first = cls.__dict__.get("__firstlineno__")
    if delta and isinstance(first, int):
        undo.later_attr(cls, "__firstlineno__", first + delta, same_behaviour=True)


def type_param_names(cls: type) -> dict[str, Any]:
    """The type parameters of ``class C[T]`` by name: what the body's members see."""
    params = cls.__dict__.get("__type_params__", ())
    return {p.__name__: p for p in params if hasattr(p, "__name__")}


def merge_module_annotations(ns: dict[str, Any], scratch: dict[str, Any], undo: Any) -> None:
    """A statement run on its own (a new annotated global, a re-evaluated ``Final``)
    made its own annotations in ``scratch``: add them to the module's, keeping the
    older names (``typing.get_type_hints(module)`` sees both). Before 3.14 the module
    has an ``__annotations__`` dict; from 3.14 an ``__annotate__`` function, replaced
    by one that asks the old and the new in turn (and the cached dict is dropped)."""
    new_dict = scratch.get("__annotations__")
    if isinstance(new_dict, dict) and new_dict and new_dict is not ns.get("__annotations__"):
        old_dict = ns.get("__annotations__")
        merged = {**old_dict, **new_dict} if isinstance(old_dict, dict) else dict(new_dict)
        undo.set_item(ns, "__annotations__", merged)
    new_fn = scratch.get("__annotate__")
    if not LAZY_ANNOTATIONS or not callable(new_fn) or new_fn is ns.get("__annotate__"):
        return
    old_fn = ns.get("__annotate__")
    undo.set_item(ns, "__annotate__", _combined(old_fn if callable(old_fn) else None, new_fn))
    if isinstance(ns.get("__annotations__"), dict) and "__annotations__" not in scratch:
        undo.del_item(ns, "__annotations__")  # 3.14's cache of the old __annotate__'s result


def _combined(old: Any, new: Any) -> Any:
    def __annotate__(format: int) -> dict[str, Any]:  # noqa: A002 - the protocol's name
        import annotationlib  # 3.14+

        if format not in (annotationlib.Format.VALUE, annotationlib.Format.FORWARDREF,
                          annotationlib.Format.STRING):
            raise NotImplementedError
        out: dict[str, Any] = {}
        for part in (old, new):
            if part is not None:
                out.update(annotationlib.call_annotate_function(part, format))
        return out

    return __annotate__


def renew_class_type_params(live: type, node: Any, ns: dict[str, Any], filename: str,
                            undo: Any) -> None:
    """``class Box[T]`` became ``class Box[T, U]``: give the live class the new type
    parameters (made by running the new header around an empty body) before its
    members are run, so that they see ``U``. Nothing when the names did not change."""
    import ast

    params = getattr(node, "type_params", None) or []
    old = type_param_names(live)
    if [getattr(p, "name", None) for p in params] == list(old):
        return
    shell = ast.ClassDef(name=live.__name__, bases=[], keywords=[], body=[ast.Pass()],
                         decorator_list=[], type_params=params)
    ast.copy_location(shell, node)
    ast.fix_missing_locations(shell)
    scratch: dict[str, Any] = {}
    exec(compile(ast.Module([shell], []), filename, "exec", dont_inherit=True),  # noqa: S102
         ns, scratch)
    made = scratch[live.__name__].__type_params__
    undo.set_attr(live, "__type_params__", made)
    if "__parameters__" in live.__dict__:
        undo.set_attr(live, "__parameters__", made)
