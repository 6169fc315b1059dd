#!/usr/bin/env python3
"""Count `Any` in the annotations of streamtop's code (issue 27's target: fewer than 100).

    python .ci/count_any.py            # the total, and per 1,000 lines
    python .ci/count_any.py --files    # also per file, most first
    python .ci/count_any.py --list     # also every place (file:line: the annotation)

An annotation is a parameter's, a return's or an annotated assignment's (`x: Any = ...`), in any
function or class; each `Any` in it counts (`dict[str, Any]` is 1, `Callable[[Any], Any]` 2),
whether written `Any` or `typing.Any`. Strings (`"Any"`) and comments do not count, nor `cast(Any,
...)` or a type alias's right-hand side. Lines: every line of every .py file under streamtop/.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def annotations(tree: ast.AST) -> Iterator[ast.expr]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
                if arg is not None and arg.annotation is not None:
                    yield arg.annotation
            if node.returns is not None:
                yield node.returns
        elif isinstance(node, ast.AnnAssign):
            yield node.annotation


def anys(annotation: ast.expr) -> int:
    return sum(
        1
        for n in ast.walk(annotation)
        if (isinstance(n, ast.Name) and n.id == "Any") or (isinstance(n, ast.Attribute) and n.attr == "Any")
    )


def count(path: Path) -> tuple[int, int, list[tuple[int, str]]]:
    """(Any in annotations, lines, [(line, annotation)]) of one file."""
    source = path.read_text()
    places = [(a.lineno, ast.unparse(a)) for a in annotations(ast.parse(source)) for _ in range(anys(a))]
    return len(places), source.count("\n") + 1, places


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", action="store_true", help="per file, most first")
    parser.add_argument("--list", action="store_true", help="every place")
    parser.add_argument("root", nargs="?", default=str(ROOT / "streamtop"))
    args = parser.parse_args(argv)
    root = Path(args.root)
    per_file = {p: count(p) for p in sorted(root.rglob("*.py"))}
    total = sum(n for n, _, _ in per_file.values())
    lines = sum(n for _, n, _ in per_file.values())
    if args.files or args.list:
        for path, (n, _, places) in sorted(per_file.items(), key=lambda kv: -kv[1][0]):
            if n:
                print(f"{n:5d}  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
                if args.list:
                    for line, text in places:
                        print(f"         {line}: {text}")
    print(
        f"{total} Any in annotations in {lines:,} lines ({1000 * total / max(lines, 1):.1f} per 1,000 lines)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
