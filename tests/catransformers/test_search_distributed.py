"""Distributed evaluation with Dask: equal to the serial run, survives a killed worker."""

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("dask.distributed")

import cloudpickle  # noqa: E402  (a dask dependency)

from catransformers.errors import ConfigError  # noqa: E402
from catransformers.search import load_spec, run_search  # noqa: E402
from catransformers.search.distributed import DaskEvaluator, dask_backend  # noqa: E402

# Ship this module's helper classes to the workers by value (the test module is not importable there).
cloudpickle.register_pickle_by_value(sys.modules[__name__])

pytestmark = pytest.mark.slow

SMALL = {"search.population": 16, "search.generations": 3, "search.seed": 7}


def _csv(folder: Path, name: str) -> str:
    return (folder / name).read_text()


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    run_search(load_spec(None, SMALL), str(out))
    return out


@dataclass
class _DiesOnce:
    """Wraps the design evaluator; the first call on any worker kills that worker's process."""

    fn: object
    marker: str

    @property
    def accuracy_metric(self):
        return self.fn.accuracy_metric

    def __call__(self, chunk):
        if not os.path.exists(self.marker):
            Path(self.marker).write_text("killed once")
            os._exit(1)  # the worker dies mid-evaluation
        return self.fn(chunk)


def test_local_cluster_equals_serial(serial, tmp_path):
    with dask_backend(workers=2) as backend:
        run_search(load_spec(None, SMALL), str(tmp_path), evaluator=backend)
    for name in ("evaluations.csv", "pareto.csv"):
        assert _csv(tmp_path, name) == _csv(serial, name)


def test_killed_worker_costs_only_a_retry(serial, tmp_path):
    marker = str(tmp_path / "killed")
    out = tmp_path / "run"
    with dask_backend(workers=2) as backend:
        client = backend(None).client
        factory = lambda fn: DaskEvaluator(_DiesOnce(fn, marker), client)  # noqa: E731
        run_search(load_spec(None, SMALL), str(out), evaluator=factory)
    assert os.path.exists(marker)  # a worker really died
    for name in ("evaluations.csv", "pareto.csv"):
        assert _csv(out, name) == _csv(serial, name)


def test_backend_arguments_are_checked():
    with pytest.raises(ConfigError, match="exactly one of workers"):
        with dask_backend():
            pass
    with pytest.raises(ConfigError, match="--workers: 0"):
        with dask_backend(workers=0):
            pass


def test_cli_workers_is_quiet_and_has_no_dashboard(tmp_path):
    # Dask's INFO logs stay off stderr (our one-line progress is the output); no dashboard on :8787.
    import subprocess

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.run(
        [sys.executable, "-m", "catransformers", "search", "--population", "6", "--generations", "2", "--workers", "2",
         "--out", str(tmp_path / "r"), "--no-report", "--no-progress"],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "INFO" not in proc.stderr and "8787" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert len(proc.stderr.splitlines()) <= 2, proc.stderr  # at most an estimator warning or two, never Dask's chatter


def test_cli_bad_inputs_are_refused_before_a_cluster_starts(tmp_path, capsys, monkeypatch):
    from catransformers.cli import main
    from catransformers.search import distributed

    def no_cluster(*args, **kwargs):
        raise AssertionError("a cluster was started for a run whose inputs are bad")

    monkeypatch.setattr(distributed, "dask_backend", no_cluster)
    for argv in (["--workers", "2", "--data", str(tmp_path / "missing.csv")], ["--workers", "2", "--model", "nope"], ["--scheduler", "tcp://"]):
        assert main(["search", "--out", str(tmp_path / "r"), "--no-progress", *argv]) == 2
        err = capsys.readouterr().err
        assert "error" in err and "Traceback" not in err
