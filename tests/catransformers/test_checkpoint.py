"""Checkpoints are data with hashes: damaged, truncated, foreign or old-format ones are refused in one line;
one run per results folder (a lock with the owner's pid); leftover temporaries are cleaned."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from catransformers.cli import main
from catransformers.errors import CATransformersError, ConfigError, DataError
from catransformers.search import Interrupted, load_spec, run_search
from catransformers.search.checkpoint import LOCK_FILE, RunLock

OVERRIDES = {"search.population": 8, "search.generations": 4}


def _spec(**extra):
    return load_spec(overrides={**OVERRIDES, **extra})


def _stop_after(n):
    def progress(p):
        if p.generation == n:
            raise Interrupted()

    return progress


@pytest.fixture(scope="module")
def cut(tmp_path_factory) -> Path:
    """A results folder interrupted after generation 2 of 4 (a valid checkpoint), and the full run."""
    root = tmp_path_factory.mktemp("ckpt")
    with pytest.raises(Interrupted):
        run_search(_spec(), str(root / "cut"), progress=_stop_after(2))
    run_search(_spec(), str(root / "full"))
    return root


def _copy(cut: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "run"
    shutil.copytree(cut / "cut", dst)
    return dst


def _resume(folder: Path, spec=None):
    return run_search(spec or _spec(), str(folder), resume=True)


def test_checkpoint_holds_no_pickles(cut):
    files = sorted(p.name for p in (cut / "cut" / "checkpoint").iterdir())
    assert files == ["rows.log", "state.json"]
    state = json.loads((cut / "cut" / "checkpoint" / "state.json").read_text())
    assert state["format"] == 2 and len(state["chunk_sha256"]) == state["n_chunks"] == 2
    assert b"\x80\x04\x95" not in (cut / "cut" / "checkpoint" / "rows.log").read_bytes()  # no pickle protocol header


def test_a_valid_checkpoint_resumes_to_the_uninterrupted_result(cut, tmp_path):
    folder = _copy(cut, tmp_path)
    _resume(folder)
    for name in ("evaluations.csv", "pareto.csv"):
        assert (folder / name).read_bytes() == (cut / "full" / name).read_bytes()


def _variants(folder: Path, rng: random.Random, n_flips: int):
    """(name, mutate(folder)) pairs: every way a checkpoint can go wrong that we know of."""
    ck = folder / "checkpoint"
    state_len = (ck / "state.json").stat().st_size
    log_len = (ck / "rows.log").stat().st_size

    def flip(name, pos, bit):
        def do(f):
            p = f / "checkpoint" / name
            data = bytearray(p.read_bytes())
            data[pos] ^= 1 << bit
            p.write_bytes(bytes(data))
        return do

    def truncate(name, size):
        def do(f):
            p = f / "checkpoint" / name
            p.write_bytes(p.read_bytes()[:size])
        return do

    def edit_state(key, value):
        def do(f):
            p = f / "checkpoint" / "state.json"
            doc = json.loads(p.read_text())
            doc[key] = value
            p.write_text(json.dumps(doc))
        return do

    def replace(name, data):
        def do(f):
            (f / "checkpoint" / name).write_bytes(data)
        return do

    out = []
    for _ in range(n_flips):
        out.append(("bit flip in state.json", flip("state.json", rng.randrange(state_len), rng.randrange(8))))
        out.append(("bit flip in rows.log", flip("rows.log", rng.randrange(log_len), rng.randrange(8))))
    for size in (0, 1, state_len // 2, state_len - 2):
        out.append(("truncated state.json", truncate("state.json", size)))
    for size in (0, 7, log_len // 3, log_len - 1):
        out.append(("truncated rows.log", truncate("rows.log", size)))
    for key, value in [("generation", "2"), ("generation", True), ("generation", -1), ("n_chunks", 1.5), ("hypervolume", "x"),
                       ("hypervolume", [None]), ("chunk_sha256", {}), ("log_size", None), ("timings", []), ("resume_key", 3),
                       ("format", 1), ("cache_hits", 10**6)]:
        out.append(("wrong type or value in state.json", edit_state(key, value)))
    out.append(("state.json not JSON", replace("state.json", b"\x80\x04\x95junk")))
    out.append(("state.json NaN", replace("state.json", b'{"format": NaN}')))
    out.append(("state.json a list", replace("state.json", b"[]")))
    out.append(("rows.log missing", lambda f: os.unlink(f / "checkpoint" / "rows.log")))
    out.append(("state.json a symlink", lambda f: (os.replace(f / "checkpoint" / "state.json", f / "elsewhere.json"), os.symlink(f / "elsewhere.json", f / "checkpoint" / "state.json"))))
    out.append(("old pickle format", lambda f: (os.unlink(f / "checkpoint" / "state.json"), (f / "checkpoint" / "state.pkl").write_bytes(b"\x80\x04\x95cos\nsystem\n"))))
    return out


def _foreign_rows(cut: Path, tmp_path: Path):
    """rows.log (and its hashes) from a run with another seed: internally consistent, still foreign."""
    other = tmp_path / "other"
    with pytest.raises(Interrupted):
        run_search(_spec(**{"search.seed": 7}), str(other), progress=_stop_after(2))
    return other


def _tally(counts: dict[str, list[int]], name: str, folder) -> None:
    """Try to resume from `folder`; count the try, and the refusal if it is one line."""
    c = counts.setdefault(name, [0, 0])
    c[0] += 1
    try:
        _resume(folder)
    except (DataError, ConfigError) as exc:
        assert "\n" not in str(exc)
        c[1] += 1


def refused_counts(cut: Path, tmp_path: Path, n_flips: int, seed: int = 0) -> dict[str, list[int]]:
    """Per kind of damage: [variants tried, refused with a one-line DataError/ConfigError]."""
    rng = random.Random(seed)
    counts: dict[str, list[int]] = {}
    probe = _copy(cut, tmp_path / "probe")
    for i, (name, mutate) in enumerate(_variants(probe, rng, n_flips)):
        folder = _copy(cut, tmp_path / f"v{i}")
        mutate(folder)
        _tally(counts, name, folder)
    other = _foreign_rows(cut, tmp_path)
    for name, files in [("rows.log from another seed", ["rows.log"]), ("rows.log and state.json from another seed", ["rows.log", "state.json"])]:
        folder = _copy(cut, tmp_path / name.replace(" ", "_"))
        for f in files:
            shutil.copy(other / "checkpoint" / f, folder / "checkpoint" / f)
        _tally(counts, name, folder)
    # a foreign checkpoint whose hashes are recomputed to match: the replay still refuses it
    folder = _copy(cut, tmp_path / "rehashed")
    shutil.copy(other / "checkpoint" / "rows.log", folder / "checkpoint" / "rows.log")
    mine = json.loads((folder / "checkpoint" / "state.json").read_text())
    theirs = json.loads((other / "checkpoint" / "state.json").read_text())
    from catransformers.search.checkpoint import _content_hash

    mine.update(chunk_sha256=theirs["chunk_sha256"], log_size=theirs["log_size"], n_chunks=theirs["n_chunks"])
    mine["content_sha256"] = _content_hash(mine)
    (folder / "checkpoint" / "state.json").write_text(json.dumps(mine))
    c = counts.setdefault("another seed's rows with recomputed hashes", [0, 0])
    c[0] += 1
    try:
        _resume(folder)
    except DataError as exc:
        assert "another seed" in str(exc) or "edited" in str(exc)
        c[1] += 1
    return counts


def test_damaged_and_foreign_checkpoints_are_refused(cut, tmp_path):
    counts = refused_counts(cut, tmp_path, n_flips=6)
    assert all(tried == refused for tried, refused in counts.values()), counts


@pytest.mark.slow
def test_damaged_checkpoints_are_refused_many_flips(cut, tmp_path):
    counts = refused_counts(cut, tmp_path, n_flips=150, seed=1)
    print({k: v for k, v in counts.items()})
    assert all(tried == refused for tried, refused in counts.values()), counts


def test_foreign_spec_is_refused_by_name(cut, tmp_path):
    folder = _copy(cut, tmp_path)
    with pytest.raises(ConfigError, match=r"spec differs from the checkpoint's at search.seed"):
        _resume(folder, _spec(**{"search.seed": 3}))


def test_cli_refuses_a_damaged_checkpoint_in_one_line(cut, tmp_path, capsys):
    folder = _copy(cut, tmp_path)
    p = folder / "checkpoint" / "rows.log"
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x10
    p.write_bytes(bytes(data))
    code = main(["search", "--population", "8", "--generations", "4", "--out", str(folder), "--resume", "--no-report", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert [line for line in err.splitlines() if line.strip()] == [line for line in err.splitlines() if "error" in line]
    assert "fails its sha256" in err and "Traceback" not in err


# ---------------------------------------------------------------------------------- lock


def test_a_second_run_into_a_locked_folder_is_refused(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / LOCK_FILE).write_text(json.dumps({"pid": sleeper.pid, "host": os.uname().nodename, "started_utc": "now"}))
        with pytest.raises(ConfigError, match=rf"in use by another run \(pid {sleeper.pid}"):
            run_search(_spec(), str(tmp_path))
        assert (tmp_path / LOCK_FILE).exists() and not (tmp_path / "evaluations.csv").exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    # the owner has gone: the lock is stale and the run goes ahead (and removes its own lock)
    run_search(_spec(), str(tmp_path))
    assert (tmp_path / "evaluations.csv").exists() and not (tmp_path / LOCK_FILE).exists()


@pytest.mark.parametrize("content", [b"", b"garbage", b'{"pid": "x"}', b"[1]"])
def test_an_unreadable_lock_is_stale(tmp_path, content):
    (tmp_path / LOCK_FILE).write_bytes(content)
    lock = RunLock(str(tmp_path))
    lock.acquire()
    assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
    lock.release()
    assert not (tmp_path / LOCK_FILE).exists()


def test_the_lock_is_released_when_a_run_fails(tmp_path):
    with pytest.raises(Interrupted):
        run_search(_spec(), str(tmp_path), progress=_stop_after(1))
    assert not (tmp_path / LOCK_FILE).exists()


def test_leftover_temporaries_are_cleaned_on_resume(cut, tmp_path):
    folder = _copy(cut, tmp_path)
    (folder / ".tmp-abc-evaluations.csv").write_text("half")
    (folder / "checkpoint" / ".tmp-state.json").write_text("{")
    (folder / "keep.txt").write_text("mine")
    _resume(folder)
    assert not list(folder.glob(".tmp-*")) and not list((folder / "checkpoint").glob(".tmp-*"))
    assert (folder / "keep.txt").read_text() == "mine"


# ---------------------------------------------------------------------------------- when checkpoints are written


def _same_results(a: Path, b: Path) -> None:
    for name in ("evaluations.csv", "pareto.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


class _FailsAtCall:
    """The default backend, failing on its n-th call (an evaluator crashing mid-run)."""

    def __init__(self, fn, n):
        self.fn, self.n, self.calls = fn, n, 0

    def evaluate(self, designs):
        self.calls += 1
        if self.calls == self.n:
            raise RuntimeError("evaluator crashed")
        return self.fn(designs)


def test_checkpoints_are_timed_and_a_failed_run_keeps_its_completed_generations(cut, tmp_path, monkeypatch):
    """With no checkpoint due during the run, a full run saves once (after its last generation)
    and a run whose evaluator fails in generation 3 keeps generations 1-2, which resume to the
    uninterrupted result."""
    from catransformers.search import checkpoint, runner

    saved = []
    real_save = checkpoint.Checkpoint.save
    monkeypatch.setattr(checkpoint.Checkpoint, "save", lambda self, chunks, state, keep: (saved.append(state["generation"]), real_save(self, chunks, state, keep)))
    monkeypatch.setattr(runner, "CHECKPOINT_EVERY_S", float("inf"))
    run_search(_spec(), str(tmp_path / "full"))
    assert saved == [4]
    saved.clear()
    with pytest.raises(RuntimeError, match="evaluator crashed"):
        run_search(_spec(), str(tmp_path / "failed"), evaluator=lambda fn: _FailsAtCall(fn, 3))
    assert saved == [2]
    assert json.loads((tmp_path / "failed" / "checkpoint" / "state.json").read_text())["generation"] == 2
    _resume(tmp_path / "failed")
    _same_results(tmp_path / "failed", cut / "full")


def test_a_checkpoint_save_cut_short_is_redone_cleanly(cut, tmp_path, monkeypatch):
    """Ctrl-C after a save has appended its rows but before it replaced the state: the runner
    saves again on the way out, over the partial records, and the result resumes exactly."""
    from catransformers.search import checkpoint, runner

    monkeypatch.setattr(runner, "CHECKPOINT_EVERY_S", 0.0)  # a save after every generation
    real_hash = checkpoint._content_hash
    calls = []

    def hash_then_interrupt(state):
        calls.append(state["generation"])
        if len(calls) == 3:  # generation 3's rows are in rows.log, its state not yet written
            raise KeyboardInterrupt
        return real_hash(state)

    monkeypatch.setattr(checkpoint, "_content_hash", hash_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_search(_spec(), str(tmp_path / "run"))
    monkeypatch.setattr(checkpoint, "_content_hash", real_hash)
    state = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())
    assert state["generation"] == 3 and state["n_chunks"] == 3
    assert (tmp_path / "run" / "checkpoint" / "rows.log").stat().st_size == state["log_size"]
    _resume(tmp_path / "run")
    _same_results(tmp_path / "run", cut / "full")


def test_a_killed_run_resumes_from_its_last_checkpoint(cut, tmp_path):
    """A process killed outright (no clean-up runs) loses at most the generations since its last
    save: here saves are due every generation, the kill comes after generation 3."""
    code = (
        "import os, sys\n"
        "from catransformers.search import load_spec, run_search, runner\n"
        "runner.CHECKPOINT_EVERY_S = 0.0\n"
        "def progress(p):\n"
        "    if p.generation == 3:\n"
        "        os._exit(9)\n"
        f"run_search(load_spec(overrides={OVERRIDES!r}), sys.argv[1], progress=progress)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "run")], capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    assert json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())["generation"] == 3
    assert (tmp_path / "run" / ".lock").exists()  # the killed owner's lock: stale, replaced on resume
    _resume(tmp_path / "run")
    _same_results(tmp_path / "run", cut / "full")
