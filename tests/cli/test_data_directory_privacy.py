"""Every file the service writes is for its own user only, even in a data directory that an
earlier install (or an operator's mkdir) left readable by others; and a secret key anyone could
guess is refused."""

from __future__ import annotations

import stat
from pathlib import Path

from intake.settings import Settings
from tests.cli.helpers import intake


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _everything(root: Path) -> list[Path]:
    return [root, *root.rglob("*")]


def test_a_fresh_database_in_an_open_directory_is_private(tmp_path: Path):
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    done = intake("migrate", data_dir=data)
    assert done.returncode == 0, done.stderr
    assert (data / "intake.db").exists()
    for path in _everything(data):
        assert _mode(path) & 0o077 == 0, (path, oct(_mode(path)))


def test_files_left_readable_by_an_earlier_install_are_made_private(tmp_path: Path):
    data = tmp_path / "var"
    (data / "logs").mkdir(parents=True)
    done = intake("migrate", data_dir=data)
    assert done.returncode == 0, done.stderr
    (data / "logs" / "intake.log").write_text("{}\n")
    for path in _everything(data):
        path.chmod(0o755 if path.is_dir() else 0o644)
    fixed = Settings.from_env({"INTAKE_DATA_DIR": str(data)}).prepare_data_dir()
    assert fixed >= 4  # the directory, logs/, the log and the database at least
    assert _mode(data / "intake.db") == 0o600
    assert _mode(data / "logs" / "intake.log") == 0o600
    assert _mode(data / "logs") == 0o700 and _mode(data) == 0o700
    assert Settings.from_env({"INTAKE_DATA_DIR": str(data)}).prepare_data_dir() == 0


def test_a_predictable_secret_key_is_refused_with_a_clear_message(tmp_path: Path):
    for weak in ("a" * 32, "ab" * 20, "0123456789" * 4):
        done = intake("migrate", data_dir=tmp_path / "var", INTAKE_SECRET_KEY=weak)
        assert done.returncode == 1, weak
        assert "INTAKE_SECRET_KEY is too predictable" in done.stderr
        assert weak not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    strong = "k7#Qz9!mW2pL@x4vR8sT1yB6nC3jF5hD0gE"
    assert intake("migrate", data_dir=tmp_path / "var", INTAKE_SECRET_KEY=strong).returncode == 0
