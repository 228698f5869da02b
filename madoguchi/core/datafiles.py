"""What the importers of the ward's data files (catalog, forms, …) share."""

from __future__ import annotations


class DataFileError(Exception):
    """A problem at ``file``:``line`` of a data file; nothing was imported."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")
