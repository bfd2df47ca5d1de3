"""Layer accounting as a pass over the workload: how many times a profile charges each repeated block."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping

import numpy as np

from .errors import HardwareError
from .workload import Gemm, VectorOp, Workload

__all__ = ["BLOCK_SUFFIX", "LayerCount", "AS_LOWERED", "parse_layer_count", "repeated_blocks", "count_layers"]

# The ops of one tower's repeated layer block share a group named "<tower>.block" and one
# `repeat` array (its layer count); catransformers.workloads.lower writes them so.
BLOCK_SUFFIX = ".block"


@dataclass(frozen=True)
class LayerCount:
    """Which layers a profile charges, numbered over all repeated blocks in workload order.

    Block b holds the global layer ids offset_b .. offset_b + layers_b - 1, where offset_b is the
    sum of the layers of the blocks before it. When the workload has at least `min_blocks`
    repeated blocks, each block is charged `sum(copies[j] for layer_ids[j] in its id range)`
    times instead of its own layer count (a block no id falls into is charged 0 times); with
    fewer blocks, or an empty rule (the default), every block keeps its count.
    """

    layer_ids: tuple[int, ...] = ()
    copies: tuple[int, ...] = ()
    min_blocks: int = 2
    source: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.layer_ids)


AS_LOWERED = LayerCount()

_KEYS = ("layer_ids", "copies", "min_blocks")


def _whole_numbers(key: str, value: Any, low: int) -> tuple[int, ...]:
    if not isinstance(value, list) or not value or any(isinstance(v, bool) or not isinstance(v, int) or v < low for v in value):
        raise HardwareError(f"profile layer_count.{key}: {value!r} is not allowed; must be a non-empty list of whole numbers >= {low}")
    return tuple(value)


def parse_layer_count(table: Mapping[str, Any] | None, sources: dict[str, str]) -> LayerCount:
    """A profile's optional [layer_count] section: layer_ids, copies (lists of equal length), min_blocks."""
    if table is None:
        return AS_LOWERED
    for key in table:
        if key not in _KEYS:
            raise HardwareError(f"profile layer_count: unknown key {key!r}; allowed: {', '.join(_KEYS)}")
    values = {}
    for key in _KEYS:
        item = table.get(key)
        if not isinstance(item, Mapping) or set(item) != {"value", "unit", "source"}:
            raise HardwareError(f"profile layer_count.{key}: must be a table with exactly value, unit and source")
        values[key] = item["value"]
        sources[f"layer_count.{key}"] = item["source"]
    ids = _whole_numbers("layer_ids", values["layer_ids"], 0)
    copies = _whole_numbers("copies", values["copies"], 0)
    if len(ids) != len(copies):
        raise HardwareError(f"profile layer_count: layer_ids ({len(ids)}) and copies ({len(copies)}) must have equal length")
    if len(set(ids)) != len(ids):
        raise HardwareError(f"profile layer_count.layer_ids: {list(ids)!r} is not allowed; ids must be distinct")
    min_blocks = values["min_blocks"]
    if isinstance(min_blocks, bool) or not isinstance(min_blocks, int) or min_blocks < 1:
        raise HardwareError(f"profile layer_count.min_blocks: {min_blocks!r} is not allowed; must be a whole number >= 1")
    return LayerCount(ids, copies, min_blocks, str(sources["layer_count.layer_ids"]))


def repeated_blocks(workload: Workload) -> list[tuple[str, np.ndarray]]:
    """(group, layer count) of each repeated block, in workload order (groups ending in BLOCK_SUFFIX)."""
    blocks: dict[str, np.ndarray] = {}
    for op in workload.ops:
        if not op.group.endswith(BLOCK_SUFFIX):
            continue
        if op.group not in blocks:
            blocks[op.group] = op.repeat
        elif not np.all(blocks[op.group] == op.repeat):
            raise HardwareError(f"workload {workload.name!r}: op {op.name!r} of block {op.group!r} has another layer count than the block's first op")
    return list(blocks.items())


def count_layers(workload: Workload, rule: LayerCount) -> Workload:
    """The workload with each repeated block's `repeat` replaced by the count `rule` charges."""
    if not rule.enabled or workload.layers_counted:
        return workload
    blocks = repeated_blocks(workload)
    if len(blocks) < rule.min_blocks:
        return workload
    charged: dict[str, np.ndarray] = {}
    offset: np.ndarray = np.zeros(1, np.int64)
    for group, layers in blocks:
        count = np.zeros(np.broadcast_shapes(offset.shape, layers.shape), np.int64)
        for layer_id, copies in zip(rule.layer_ids, rule.copies):
            count = count + copies * ((offset <= layer_id) & (layer_id < offset + layers))
        charged[group] = count  # one array per block: the cost model groups ops by it
        offset = offset + layers
    ops: list[Gemm | VectorOp] = [replace(op, repeat=charged[op.group]) if op.group in charged else op for op in workload.ops]
    return Workload(tuple(ops), workload.name, workload.edges, layers_counted=True)
