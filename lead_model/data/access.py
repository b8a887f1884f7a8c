"""Which of the server's files the app may read by path: hosted mode and the data folder.

A workshop laptop runs the app for the person at the keyboard, who may load any file the
machine has. A hosted app serves a team over the network, and "Load a file by path" would
let any browser read any file the server can (``/etc/passwd`` was tried). Two settings, read
from the environment when the app starts:

- ``LEAD_MODEL_HOSTED=1``: the app is hosted. Loading by path is off unless a data folder
  is set; uploads stay on (their size limit is Streamlit's ``server.maxUploadSize``).
- ``LEAD_MODEL_DATA_DIR=/srv/leads``: loading by path offers only the data files inside this
  folder (its subfolders too), hosted or not. A path that leads outside it, through ``..``
  or a symbolic link, is refused.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lead_model.errors import LeadModelError

HOSTED_ENV = "LEAD_MODEL_HOSTED"
DATA_DIR_ENV = "LEAD_MODEL_DATA_DIR"
DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz", ".parquet", ".pq")  # what "Load a file by path" lists
MAX_LISTED = 500  # files listed from the data folder; a folder holding more is named in the caption
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


@dataclass(frozen=True)
class FileAccess:
    """What "Load a file by path" may read: any path, only the files in ``data_dir``, or nothing (hosted without a folder)."""

    hosted: bool = False
    data_dir: Path | None = None  # resolved; None: no folder set

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FileAccess:
        """The settings in ``environ`` (default ``os.environ``); a value that cannot be used raises LeadModelError naming the variable."""
        environ = os.environ if environ is None else environ
        hosted_text = environ.get(HOSTED_ENV, "").strip().lower()
        if hosted_text not in _TRUE | _FALSE:
            raise LeadModelError(f"{HOSTED_ENV}={environ.get(HOSTED_ENV)!r} is not yes or no; set it to 1 (hosted for a team) or 0, or unset it.")
        folder_text = environ.get(DATA_DIR_ENV, "").strip()
        data_dir = None
        if folder_text:
            folder = Path(folder_text).expanduser()
            if not folder.is_dir():
                raise LeadModelError(f"{DATA_DIR_ENV}={folder_text!r} is not a folder on this server; set it to the folder that holds the lead files, or unset it.")
            data_dir = folder.resolve()
        return cls(hosted=hosted_text in _TRUE, data_dir=data_dir)

    @property
    def by_path(self) -> str:
        """"any" (a path is typed), "folder" (a file of ``data_dir`` is picked) or "off"."""
        if self.data_dir is not None:
            return "folder"
        return "off" if self.hosted else "any"

    def files(self, limit: int = MAX_LISTED) -> list[str]:
        """The data files under ``data_dir`` as paths relative to it, sorted, at most ``limit`` (empty without a folder).

        Hidden files and folders are skipped, and so are links leading out of the folder."""
        if self.data_dir is None:
            return []
        found: list[str] = []
        for root, dirs, names in os.walk(self.data_dir, onerror=lambda exc: None):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if name.startswith(".") or not name.lower().endswith(DATA_SUFFIXES):
                    continue
                path = Path(root) / name
                if self._inside(path):
                    found.append(path.relative_to(self.data_dir).as_posix())
                    if len(found) >= limit:
                        return found
        return found

    def resolve(self, path: str | Path) -> Path:
        """The file ``path`` names (relative to ``data_dir`` when one is set), if the app may read it; else LeadModelError.

        Nothing is read here: a missing file is the loader's sentence to give."""
        text = str(path).strip()
        if self.by_path == "off":
            raise LeadModelError(
                f"loading a file by path is off on this hosted app; upload the file instead, or ask whoever runs the app to set {DATA_DIR_ENV} to a folder of lead files."
            )
        if not text or "\0" in text:
            raise LeadModelError("no file path given; type the path of a CSV or Parquet file.")
        if self.data_dir is None:
            return Path(text).expanduser()
        candidate = Path(text)
        candidate = candidate if candidate.is_absolute() else self.data_dir / candidate
        if not self._inside(candidate):
            raise LeadModelError(
                f"{text} is outside the data folder {self.data_dir}; pick one of the files listed, or ask whoever runs the app to put the file in that folder."
            )
        return candidate.resolve()

    def _inside(self, path: Path) -> bool:
        """Whether ``path``, once '..' and links are followed, is ``data_dir`` or under it."""
        try:
            real = path.resolve()
        except (OSError, RuntimeError):  # a link loop, an unreadable folder
            return False
        return real == self.data_dir or self.data_dir in real.parents
