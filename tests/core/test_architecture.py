"""The layout DESIGN.md promises, as tests: channel adapters translate and the core decides, so
an adapter reaches storage only for plain value types and the keyring; and storage is split by
concern into modules small enough to read in one sitting."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = ("intake/voice", "intake/mail")
ALLOWED_FROM_STORAGE = {"storage.values", "storage.crypto"}
MAX_STORAGE_LINES = 350


def _storage_imports(path: Path) -> set[str]:
    """Every storage module a file imports, at any depth (type-only imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if node.module == "storage":
                found.update(n for n in names[1:])
            elif node.module.startswith("storage."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "storage")
    return found


def _adapter_files() -> list[Path]:
    return sorted(p for d in ADAPTERS for p in (ROOT / d).rglob("*.py"))


@pytest.mark.parametrize("path", _adapter_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_channel_adapters_import_no_repository(path: Path):
    forbidden = _storage_imports(path) - ALLOWED_FROM_STORAGE
    assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"


def test_the_import_rule_sees_a_repository_import(tmp_path: Path):
    """The check itself can fail: each way of importing a repository is caught."""
    sample = tmp_path / "adapter.py"
    sample.write_text(
        "import storage.records\n"
        "from storage import outbox\n"
        "from storage.turns import ThreadTurns\n"
        "def f():\n    from storage.concerns import ConcernStore\n"
        "from storage.values import Contact\n"
    )
    assert _storage_imports(sample) - ALLOWED_FROM_STORAGE == {
        "storage.records",
        "storage.outbox",
        "storage.turns",
        "storage.concerns",
    }


def test_the_core_imports_no_repository_either():
    for path in sorted((ROOT / "intake/core").rglob("*.py")):
        forbidden = _storage_imports(path) - {"storage.values"}
        assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (ROOT / "storage").glob("*.py")),
    ids=lambda p: p.name,
)
def test_no_storage_module_is_over_350_lines(path: Path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_STORAGE_LINES, f"{path.name} has {lines} lines"
