"""`type: ignore` comments stay few and explained: each names its error code and says which stub lacks what.

An ignore hides whatever else goes wrong on its line, so the tree keeps under `LIMIT` of them and every one
reads `# type: ignore[code]  # reason` (mypy's warn_unused_ignores drops those that no longer hide anything).
"""

from __future__ import annotations

import io
import re
import subprocess
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 30
MARKER = re.compile(r"type:\s*ignore")
EXPLAINED = re.compile(r"#\s*type:\s*ignore\[[a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*\]\s+#\s*\S.{3,}")


def python_files() -> list[Path]:
    """The project's own Python files: what git tracks (never a virtualenv CI or a person made beside it)."""
    listed = subprocess.run(["git", "ls-files", "-z", "*.py"], cwd=ROOT, capture_output=True, check=True).stdout
    return sorted(ROOT / name for name in listed.decode().split("\0") if name and (ROOT / name).exists())


def ignore_comments(path: Path) -> list[tuple[int, str]]:
    """(line, comment) of each comment in the file that says `type: ignore` (strings and docstrings aside)."""
    source = path.read_text(encoding="utf-8")
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [
        (token.start[0], token.string)
        for token in tokens
        if token.type == tokenize.COMMENT and MARKER.search(token.string)
    ]


def all_ignores() -> list[tuple[str, int, str]]:
    return [
        (str(path.relative_to(ROOT)), line, comment)
        for path in python_files()
        for line, comment in ignore_comments(path)
    ]


def test_the_tree_has_fewer_than_the_limit_of_type_ignores() -> None:
    found = all_ignores()
    assert len(found) < LIMIT, f"{len(found)} type: ignore comments (limit {LIMIT}):\n" + "\n".join(
        f"{path}:{line}: {comment}" for path, line, comment in found
    )


def test_every_type_ignore_names_its_code_and_gives_a_reason() -> None:
    unexplained = [
        f"{path}:{line}: {comment}" for path, line, comment in all_ignores() if not EXPLAINED.search(comment)
    ]
    assert not unexplained, "write `# type: ignore[code]  # which stub lacks what`:\n" + "\n".join(unexplained)


def test_the_check_sees_an_unexplained_ignore(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "x = f()  # type: ignore\ny = g()  # type: ignore[arg-type]\nz = h()  # type: ignore[misc]  # stub lacks h\n"
        's = "# type: ignore"\n',
        encoding="utf-8",
    )
    comments = ignore_comments(sample)
    assert [line for line, _ in comments] == [1, 2, 3]
    assert [bool(EXPLAINED.search(comment)) for _, comment in comments] == [False, False, True]
