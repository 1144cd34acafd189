"""Local disk spool for batches the database could not take.

One Parquet file per batch, named ``<sequence>-<table>.parquet``; a file appears atomically (written to a
temporary name, then renamed) and is deleted only after its rows were committed. Replay goes in sequence
order. A crash between commit and delete replays the batch once more, which the storage writer's idempotent
upsert absorbs: nothing is lost and nothing is stored twice.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{12})-([a-z_]+)\.parquet$")


class Spool:
    """A directory of spooled batches.

    Parameters
    ----------
    directory : Path
        Created if missing.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        existing = [int(m.group(1)) for m in map(_NAME.match, os.listdir(self.directory)) if m]
        self._next = max(existing, default=0) + 1

    def put(self, table: str, frame: pd.DataFrame) -> Path:
        """Write one batch; returns its file."""
        name = f"{self._next:012d}-{table}.parquet"
        self._next += 1
        final = self.directory / name
        tmp = self.directory / f".{name}.tmp"
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        logger.debug("spooled %d %s rows to %s", len(frame), table, final.name)
        return final

    def files(self) -> list[Path]:
        """Spooled batches, oldest first."""
        return sorted(self.directory / n for n in os.listdir(self.directory) if _NAME.match(n))

    def __len__(self) -> int:
        return len(self.files())

    def rows(self) -> int:
        """Rows held in the spool."""
        return sum(pq.ParquetFile(p).metadata.num_rows for p in self.files())

    def pending(self) -> Iterator[tuple[Path, str, pd.DataFrame]]:
        """``(file, table, frame)`` of every spooled batch, oldest first; delete a file with :meth:`done`."""
        for path in self.files():
            match = _NAME.match(path.name)
            assert match is not None
            yield path, match.group(2), pq.read_table(path).to_pandas()

    @staticmethod
    def done(path: Path) -> None:
        """Forget a replayed batch."""
        path.unlink(missing_ok=True)
