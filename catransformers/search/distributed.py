"""Spread a population's evaluation over a Dask cluster: a local one (`workers=N`) or an existing one.

Dask (the `distributed` extra) is imported only here, when a cluster is asked for. A population
is cut into chunks; each chunk is one Dask task running the same picklable `DesignEvaluator`
the serial backend calls, so the results are those of the serial run. A worker that dies
mid-task only costs a re-run of its tasks elsewhere (Dask reschedules them; `retries` also
re-runs tasks that raised).
"""

from __future__ import annotations

import contextlib
import logging
import re
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..errors import ConfigError
from .backend import Designs, DesignEvaluator, Metrics, concat_metrics, split_designs

__all__ = ["check_address", "DaskEvaluator", "dask_backend"]

log = logging.getLogger(__name__)


def _run_chunk(fn: DesignEvaluator, chunk: Designs) -> tuple[Metrics, str | None]:
    metrics = fn(chunk)
    return metrics, fn.accuracy_metric


@dataclass(eq=False)
class DaskEvaluator:
    """A PopulationEvaluator that maps chunks of the population over a dask.distributed Client."""

    fn: DesignEvaluator
    client: Any
    chunk_size: int | None = None  # None: about two chunks per worker thread
    retries: int = 2
    accuracy_metric: str | None = field(default=None, init=False)

    def evaluate(self, designs: Designs) -> Metrics:
        n = len(next(iter(designs.values())))
        if n == 0:
            return self.fn(designs)
        size = self.chunk_size or max(1, math.ceil(n / (2 * max(1, _threads(self.client)))))
        chunks = split_designs(designs, size)
        # pure=False: equal chunks from two generations are still two tasks (no stale cache hits).
        futures = self.client.map(_run_chunk, [self.fn] * len(chunks), chunks, pure=False, retries=self.retries)
        parts = self.client.gather(futures)
        if self.accuracy_metric is None:
            self.accuracy_metric = next((label for _, label in parts if label), None)
        return concat_metrics([metrics for metrics, _ in parts])


_ADDRESS = re.compile(r"^(?:(tcp|tls|ws|wss|inproc|ucx)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")


def check_address(address: str) -> None:
    """A Dask scheduler address, `[PROTOCOL://]HOST:PORT`, checked before any connection is tried."""
    m = _ADDRESS.match(address.strip())
    if not m or not 1 <= int(m.group(3)) <= 65535:
        raise ConfigError(f"--scheduler: {address!r} is not allowed; allowed: a scheduler address [tcp://]HOST:PORT with PORT 1-65535, e.g. tcp://127.0.0.1:8786")


def _threads(client: Any) -> int:
    try:
        return sum(client.nthreads().values())
    except Exception:  # a client that cannot say: one chunk per design batch is still correct
        return 1


@contextlib.contextmanager
def dask_backend(
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    retries: int = 2,
    threads_per_worker: int = 1,
) -> Iterator[Callable[[DesignEvaluator], DaskEvaluator]]:
    """Context manager yielding a backend factory for `run_search(..., evaluator=factory)`.

    workers=N starts a LocalCluster of N worker processes (closed on exit); scheduler=ADDRESS
    joins an existing cluster (left running on exit).
    """
    if (workers is None) == (scheduler is None):
        raise ConfigError("distributed: give exactly one of workers (a local cluster) or scheduler (an address)")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers: {workers} is not allowed; must be >= 1")
    if scheduler is not None:
        check_address(scheduler)
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("distributed: dask is not installed; install the extra: pip install 'catransformers[distributed]'") from None
    cluster = None
    try:
        if workers is not None:
            # no dashboard; the scheduler's bare HTTP server (health routes) on a free local port, not :8787
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=threads_per_worker, processes=True, dashboard_address=None,
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            )
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise ConfigError(f"--scheduler: cannot reach {scheduler!r} ({exc})") from None
        log.info("dask: %d worker(s), %d thread(s)", len(client.scheduler_info()["workers"]), _threads(client))
        try:
            yield lambda fn: DaskEvaluator(fn, client, chunk_size=chunk_size, retries=retries)
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()

