"""The installed packages whose version differs from the lock: `pip list --format=json | python3
.ci/differ.py requirements-test.txt` prints "name lock -> installed", one a line (.ci/run)."""

import json
import re
import sys
from pathlib import Path

VENV_OWN = {"pip", "setuptools"}  # what `python3 -m venv` puts there, not what pyproject asks for


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main() -> None:
    text = Path(sys.argv[1]).read_text()
    lock = {norm(n): v for n, v in re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", text, re.M)}
    for pkg in sorted(json.load(sys.stdin), key=lambda p: norm(p["name"])):
        was = lock.get(norm(pkg["name"]))
        if was is not None and was != pkg["version"] and norm(pkg["name"]) not in VENV_OWN:
            print(f"  {pkg['name']} {was} -> {pkg['version']}")


main()
