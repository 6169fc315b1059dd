"""Count `Any` in type annotations over streamtop/ (issue #27's measure).

Counted: every `Any` (or `typing.Any`) inside a parameter's or a return's annotation, an annotated
assignment (`x: T = ...`, fields included), a type alias (`X: TypeAlias = ...`, `type X = ...`, or a
module-level `X = <subscripted type mentioning Any>`), and `cast(<type>, ...)`'s first argument.
String annotations are parsed too. Prints the total, the count per 1,000 lines and the count per module
(largest first); `--list` prints each occurrence as path:line and its kind: `*args/**kwargs`, a
`textual generic` (App[Any], Screen[Any], ...) or `other` (a raw reply, forwarded arguments, ...: each
of those to be read).

    python .ci/count_any.py [--list] [ROOT]
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path

TEXTUAL_GENERICS = {"App", "Screen", "ModalScreen", "DataTable", "Reactive", "Worker"}
ARGS, TEXTUAL, OTHER = "*args/**kwargs", "textual generic", "other"


def _is_any(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "Any") or (
        isinstance(node, ast.Attribute) and node.attr == "Any"
    )


def _anys(node: ast.AST | None, kind: str = OTHER) -> list[tuple[int, str]]:
    """(line, kind) of each `Any` inside one annotation expression."""
    if node is None:
        return []
    textual = {
        id(sub.slice)
        for sub in ast.walk(node)
        if isinstance(sub, ast.Subscript)
        and isinstance(sub.value, ast.Name)
        and sub.value.id in TEXTUAL_GENERICS
    }
    lines: list[tuple[int, str]] = []
    for sub in ast.walk(node):
        if _is_any(sub):
            lines.append((sub.lineno, TEXTUAL if id(sub) in textual else kind))
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            try:
                inner = ast.parse(sub.value, mode="eval")
            except SyntaxError:
                continue
            lines.extend((sub.lineno, k) for _, k in _anys(inner.body, kind))
    return lines


def _looks_like_alias(value: ast.expr) -> bool:
    """`X = dict[str, Any]` / `X = Callable[..., Any]` / `X = A | B` at module level."""
    return isinstance(value, ast.Subscript | ast.BinOp)


def count_file(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    lines: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            a = node.args
            for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs]:
                lines.extend(_anys(arg.annotation))
            for arg in (a.vararg, a.kwarg):
                if arg is not None:
                    lines.extend(_anys(arg.annotation, ARGS))
            lines.extend(_anys(node.returns))
        elif isinstance(node, ast.AnnAssign):
            lines.extend(_anys(node.annotation))
            ann = node.annotation
            if (isinstance(ann, ast.Name) and ann.id == "TypeAlias") or (
                isinstance(ann, ast.Attribute) and ann.attr == "TypeAlias"
            ):
                lines.extend(_anys(node.value))
        elif type(node).__name__ == "TypeAlias":  # `type X = ...` (3.12+)
            lines.extend(_anys(getattr(node, "value", None)))
        elif isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if name == "cast" and node.args:
                lines.extend(_anys(node.args[0]))
    for stmt in tree.body:  # module-level aliases without `TypeAlias`
        if isinstance(stmt, ast.Assign) and _looks_like_alias(stmt.value):
            lines.extend(_anys(stmt.value))
    return sorted(lines)


def main(argv: list[str]) -> int:
    show = "--list" in argv
    args = [a for a in argv if a != "--list"]
    root = Path(args[0]) if args else Path(__file__).resolve().parent.parent / "streamtop"
    per: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    total_lines = 0
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        total_lines += len(path.read_text().splitlines())
        rel = path.relative_to(root.parent).as_posix()
        for line, kind in count_file(path):
            per[rel] += 1
            kinds[kind] += 1
            found.append(f"{rel}:{line}  {kind}")
    total = sum(per.values())
    if show:
        print("\n".join(found))
    print(f"Any in annotations: {total} ({1000 * total / max(total_lines, 1):.1f} per 1,000 lines)")
    print("  " + ", ".join(f"{kinds[k]} {k}" for k in (ARGS, TEXTUAL, OTHER)))
    for rel, n in per.most_common():
        print(f"{n:5d}  {rel}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:  # `| head -1`: the total was read
        sys.exit(0)
