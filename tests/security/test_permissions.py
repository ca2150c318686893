"""What salesops writes is never readable by other users: folders 0700/0750, files 0600/0640."""

from __future__ import annotations

import os
import stat

from click.testing import CliRunner

from salesops.cli import main


def _world_accessible(root) -> list[str]:
    """Everything under root (the server's data directory aside) that other users can read or enter."""
    found = []
    for path in [root, *root.rglob("*")]:
        if "pgdata" in path.relative_to(root).parts:
            continue
        if path.lstat().st_mode & (stat.S_IROTH | stat.S_IWOTH | stat.S_IXOTH):
            found.append(f"{stat.filemode(path.lstat().st_mode)} {path}")
    return found


def test_demo_data_writes_nothing_other_users_can_read(tmp_path):
    home = tmp_path / "parent" / "home"
    before = os.umask(0o022)  # a usual login umask: salesops must not rely on a strict one
    try:
        result = CliRunner().invoke(main, ["demo-data", "--scale", "0.01"],
                                    env={"SALESOPS_HOME": str(home), "SALESOPS_LANDING_URI": None})
        assert os.umask(0o022) == 0o022  # the command gave the caller's umask back
    finally:
        os.umask(before)
    assert result.exit_code == 0, result.output
    files = [p for p in home.rglob("*") if p.is_file()]
    assert len(files) >= 10 and any(p.suffix == ".csv" for p in files)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert _world_accessible(home) == []
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o077 in (0, 0o040) for p in files)  # 0600 or 0640
