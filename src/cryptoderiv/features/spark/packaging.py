"""Ship the library to Spark executors: a zip of the ``cryptoderiv`` package for ``--py-files``."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import cryptoderiv

log = logging.getLogger(__name__)


def build_library_zip(destination: str | Path) -> Path:
    """Zip the installed ``cryptoderiv`` package (Python sources and ``py.typed``) for ``--py-files``.

    Parameters
    ----------
    destination : str or pathlib.Path
        Path of the zip to write (overwritten) or a directory to write ``cryptoderiv.zip`` into.

    Returns
    -------
    pathlib.Path
        The zip written. The executors still need the library's dependencies (numpy, pandas, numba,
        pyarrow) in their Python environment.
    """
    package_dir = Path(cryptoderiv.__file__).resolve().parent
    target = Path(destination)
    if target.is_dir():
        target = target / "cryptoderiv.zip"
    count = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(package_dir.rglob("*")):
            if path.is_file() and path.suffix in {".py", ".typed"} and "__pycache__" not in path.parts:
                archive.write(path, Path("cryptoderiv") / path.relative_to(package_dir))
                count += 1
    log.info("library zip %s: %d files", target, count)
    return target
