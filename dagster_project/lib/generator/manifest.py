"""The generator's manifest: what was planted in the landing folder, the oracle ingestion is tested against."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Manifest:
    """Counts per planted kind and the statuses the pipeline must assign them.

    `kind_counts` holds every kind (including `clean`) with the number of records written;
    `expected_status_counts` folds them into pipeline statuses, `clean` standing for
    METERED or NO_MATCHING_METERS (which of the two depends on meter filters).
    """

    seed: int
    format: str
    catalog_dir: str  # relative to the manifest's folder when inside it
    landing_dir: str  # relative to the manifest's folder
    period_start: str  # first instant of the data period (UTC)
    period_end: str  # exclusive
    recommended_as_of: str
    records_total: int
    files: list[str]
    records_per_file: dict[str, int]
    kind_counts: dict[str, int]
    kind_expected_status: dict[str, str]
    expected_status_counts: dict[str, int]
    ingestion_decided_kinds: list[str]
    ingestion_decided_status_counts: dict[str, int]
    ingestion_decided_statuses: list[str]
    catalog_dependent_statuses: list[str]
    clean_without_id: int
    bad_share: float
    planted_records_file: str  # CSV: raw_ref, source_file, line, event_id, kind, expected_status
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=False) + "\n"

    def write(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".partial")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))
