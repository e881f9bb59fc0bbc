"""What a load did: per file and in total (the load_log rows, the task's XCom, the Asset event's extra)."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from pathlib import Path


class NothingLoaded(RuntimeError):
    """Every record a load read was quarantined."""


@dataclasses.dataclass
class FileResult:
    path: str
    status: str  # loaded | skipped | quarantined
    rows_in: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    nul_stripped: int = 0  # NUL characters removed from the file's records (the records themselves load)
    reason: str | None = None

    @property
    def channel(self) -> str:
        return Path(self.path).stem

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated + self.unchanged


@dataclasses.dataclass
class LoadSummary:
    files: list[FileResult] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    batches: int = 0
    batches_retried: int = 0  # batches PostgreSQL rejected, retried file by file

    def total(self, field: str) -> int:
        return sum(getattr(f, field) for f in self.files)

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)

    def by_channel(self) -> dict[str, dict[str, int]]:
        channels: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for f in self.files:
            for field in ("rows_in", "inserted", "updated", "unchanged", "quarantined", "nul_stripped"):
                channels[f.channel][field] += getattr(f, field)
        return {name: dict(counts) for name, counts in sorted(channels.items())}

    @property
    def quarantined_everything(self) -> bool:
        """Records were read and every one was quarantined: nothing of the lake reached the warehouse."""
        return self.total("rows_in") > 0 and self.total("quarantined") == self.total("rows_in")

    def check_something_loaded(self) -> None:
        """Raise NothingLoaded when every record read was quarantined: such a load is a failure, not a success."""
        if self.quarantined_everything:
            reasons = Counter()
            for f in self.files:
                for reason in (f.reason or "unknown").split("; "):
                    reasons[reason] += 1
            said = "; ".join(f"{reason} ({n} file(s))" for reason, n in reasons.most_common(3))
            raise NothingLoaded(f"all {self.total('rows_in')} records read from {len(self.files)} file(s) were"
                                f" quarantined, none loaded: {said}. The records and a note on each are under"
                                " the lake's quarantine/ folder.")

    def as_dict(self) -> dict:
        return {
            "files": len(self.files),
            "files_loaded": self.count("loaded"),
            "files_skipped": self.count("skipped"),
            "files_quarantined": sum(f.status == "quarantined" or f.quarantined > 0 for f in self.files),
            "rows_in": self.total("rows_in"),
            "inserted": self.total("inserted"),
            "updated": self.total("updated"),
            "unchanged": self.total("unchanged"),
            "quarantined": self.total("quarantined"),
            "nul_stripped": self.total("nul_stripped"),
            "batches": self.batches,
            "batches_retried": self.batches_retried,
            "seconds": round(self.seconds, 2),
        }
