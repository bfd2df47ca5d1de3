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


# ---------------------------------------------------------------- never clobber, one line on failure

import errno
import json

import pytest

from catransformers.errors import CATransformersError, OutputError
from catransformers.io import follow_symlinks, read_json


def test_a_device_or_folder_is_never_replaced(tmp_path):
    with pytest.raises(OutputError, match="not a regular file"):
        atomic_write_text("/dev/full", "x")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    (tmp_path / "d").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        atomic_write_text(str(tmp_path / "d"), "x")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="not a regular file"):
        atomic_write_text(str(fifo), "x")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_symlink_is_refused_unless_asked(tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    with pytest.raises(OutputError, match="symbolic link"):
        atomic_write_text(str(link), "new")
    assert target.read_text() == "old" and link.is_symlink()
    with follow_symlinks():
        atomic_write_text(str(link), "new")
    assert target.read_text() == "new" and link.is_symlink()  # the target was written, the link kept


def test_the_existing_mode_is_kept(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    os.chmod(target, 0o640)
    atomic_write_text(str(target), "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text() == "new"


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "no space left"), (errno.EROFS, "read-only"), (errno.EACCES, "read-only")])
def test_full_or_read_only_disk_is_one_line_and_leaves_nothing(tmp_path, monkeypatch, code, words):
    target = tmp_path / "out.csv"
    target.write_text("old")

    def fail(fd):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OutputError, match=words) as info:
        atomic_write_text(str(target), "new")
    assert isinstance(info.value, CATransformersError) and "\n" not in str(info.value)
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_json_is_strict(tmp_path):
    atomic_write_json(str(tmp_path / "r.json"), {"limit": float("inf"), "x": [float("nan"), 1.5]})
    text = (tmp_path / "r.json").read_text()
    assert "Infinity" not in text and "NaN" not in text
    assert json.loads(text) == {"limit": None, "x": [None, 1.5]}
    (tmp_path / "bad.json").write_text('{"a": NaN}')
    with pytest.raises(CATransformersError, match="not valid JSON"):
        read_json(str(tmp_path / "bad.json"), "run.json")


def test_cli_outputs_are_protected(tmp_path, capsys):
    from catransformers.cli import main

    target = tmp_path / "real.csv"
    target.write_text("mine")
    (tmp_path / "link.csv").symlink_to(target)
    assert main(["sweep", "--model", "tinyclip-8m-16", "--accuracy", "none", "--out", str(tmp_path / "link.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "symbolic link" in err[0] and target.read_text() == "mine"
    assert main(["sweep", "--model", "tinyclip-8m-16", "--accuracy", "none", "--out", "/dev/full"]) == 2
    assert "not a regular file" in capsys.readouterr().err
    assert main(["--follow-symlinks", "sweep", "--model", "tinyclip-8m-16", "--accuracy", "none", "--out", str(tmp_path / "link.csv")]) == 0
    assert target.read_text().startswith("model,")


def test_a_search_that_cannot_write_says_so_in_run_json(tmp_path, monkeypatch, capsys):
    from catransformers import io as cio
    from catransformers.cli import main

    real = cio.atomic_write_bytes

    def full_for_csv(path, data):
        if path.endswith(".csv"):
            raise cio._os_error(path, OSError(errno.ENOSPC, "No space left on device"))
        return real(path, data)

    monkeypatch.setattr(cio, "atomic_write_bytes", full_for_csv)
    code = main(["search", "--population", "4", "--generations", "1", "--out", str(tmp_path / "r"), "--no-report", "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len([e for e in err if not e.startswith("WARNING")]) == 1 and "no space left" in err[-1]
    run = json.loads((tmp_path / "r" / "run.json").read_text())
    assert run["status"] == "failed" and "no space left" in run["message"]
    assert not (tmp_path / "r" / ".lock").exists()


# csv_text must write exactly what pandas writes: results folders are read back by pandas and by
# people's own scripts, and the faster writer must not change a byte of them.
import math  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from catransformers.io import _csv_cells, csv_text  # noqa: E402

_FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.sampled_from([0.0, -0.0, 1e16, 1e-5, 5e-324, 1.7976931348623157e308, 35.09519187392])
_TEXT = st.none() | st.text(alphabet=st.sampled_from(list('ab ,;"\'\n\r\t|/x0é')), max_size=8)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(-(2**62), 2**62), _FLOATS, st.booleans(), _TEXT), min_size=0, max_size=12))
def test_csv_text_is_byte_for_byte_what_pandas_writes(rows):
    frame = pd.DataFrame(rows, columns=["an int", "x,float", 'a "bool"', "text"])
    frame["strings"] = pd.array([r[3] for r in rows], dtype="string")
    frame["nullable int"] = pd.array([None if r[2] else r[0] for r in rows], dtype="Int64")
    frame["nullable bool"] = pd.array([None if r[3] is None else r[2] for r in rows], dtype="boolean")
    assert all(_csv_cells(frame[c]) is not None for c in frame.columns)  # the fast path, not pandas
    assert csv_text(frame) == frame.to_csv(index=False)


def test_csv_text_leaves_other_dtypes_to_pandas():
    frame = pd.DataFrame({
        "f32": np.array([0.1, math.nan], np.float32),  # pandas prints float32 shorter than its float64 value
        "nullable float": pd.array([1.5, None], dtype="Float64"),
        "when": pd.to_datetime(["2026-12-02", None]),
        "cat": pd.Categorical(["a", None]),
    })
    assert csv_text(frame) == frame.to_csv(index=False)
    assert csv_text(frame[["f32"]]) == frame[["f32"]].to_csv(index=False)
    one = pd.DataFrame({"x": [1.5, math.nan], "s": ["", None]})  # a row of empty cells stays a row
    assert csv_text(one[["x"]]) == one[["x"]].to_csv(index=False) == "x\n1.5\n\"\"\n"
    assert csv_text(one) == one.to_csv(index=False)
