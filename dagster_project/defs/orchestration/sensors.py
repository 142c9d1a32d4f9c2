"""New landing files trigger ingestion on their own, once per batch of files."""

import hashlib

import dagster as dg

from dagster_project.defs.jobs import landing_ingestion_job
from dagster_project.lib.ingestion.landing import event_file_format, is_incomplete
from dagster_project.settings import Settings


def landing_batch_key(landing_dir) -> tuple[str, list[str]] | None:
    """A key for the complete event files in the folder (names, sizes, mtimes): the same
    batch always gives the same key, so a run_key never launches it twice."""
    if not landing_dir.exists():
        return None
    files = sorted(
        p
        for p in landing_dir.iterdir()
        if p.is_file() and not is_incomplete(p.name) and event_file_format(p.name)
    )
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16], [p.name for p in files]


@dg.sensor(
    name="landing_files_sensor",
    job=landing_ingestion_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Launch ingestion when the landing folder holds a new batch of complete files "
    "(names ending in .tmp or .partial, or starting with '.', are still being written).",
)
def landing_files_sensor(context: dg.SensorEvaluationContext):
    batch = landing_batch_key(Settings.from_env().landing)
    if batch is None:
        return dg.SkipReason("no complete event files in the landing folder")
    key, names = batch
    if key == context.cursor:
        return dg.SkipReason(f"batch {key} ({len(names)} files) already launched")
    context.update_cursor(key)
    return dg.RunRequest(run_key=f"landing-{key}", tags={"landing_files": str(len(names))})
