"""Pure functions over Python source, shared by the runtime and the build step.

Standard library only: this package is loaded into the user's program.
"""

from hcride.analysis.diff import TypeChange, changed_statements, removed_statements, type_changes
from hcride.analysis.shapes import ClassShape, class_shape, diff_shapes
from hcride.analysis.statements import (
    ModuleTable,
    Statement,
    decode_source,
    source_digest,
    split_module,
)

__all__ = [
    "ClassShape",
    "ModuleTable",
    "Statement",
    "TypeChange",
    "changed_statements",
    "class_shape",
    "decode_source",
    "diff_shapes",
    "removed_statements",
    "source_digest",
    "split_module",
    "type_changes",
]
