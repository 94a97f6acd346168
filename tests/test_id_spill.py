"""Ids spilled to disk come back at exactly the positions asked for."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipeline.id_spill import IdSpill


def test_take_reads_back_the_ids_at_the_positions_asked_across_batches() -> None:
    spill = IdSpill()
    values = [f"id-{i}" if i % 7 else None for i in range(2500)]
    spill.append(pa.array(values[:1000]))
    spill.append(pa.chunked_array([values[1000:1001], values[1001:2500]], pa.string()))
    spill.append(pa.array([], pa.string()))
    assert spill.records == 2500
    positions = np.array([0, 1, 6, 7, 999, 1000, 1001, 2499])
    assert spill.take(positions).to_pylist() == [values[p] for p in positions]
    spill.close()


def test_take_of_nothing() -> None:
    spill = IdSpill()
    spill.append(pa.array(["a", "b"]))
    assert spill.take(np.empty(0, np.int64)).to_pylist() == []
    spill.close()
    empty = IdSpill()
    assert empty.take(np.array([], np.int64)).to_pylist() == []
    empty.close()
