"""Atomic writes: complete files with ordinary permissions, no temporary files left behind."""

import os
import stat

from catransformers.io import atomic_write_json, atomic_write_text


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a" / "out.txt"
    atomic_write_text(str(target), "one")
    atomic_write_text(str(target), "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_atomic_write_uses_the_umask_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_json(str(tmp_path / "x.json"), {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.json").stat().st_mode) == 0o644
