"""What the pages see of a job: a :class:`JobInfo` snapshot, taken under the job manager's lock
(:mod:`app.server.job_manager`), which no later change of the job alters."""

from __future__ import annotations

from dataclasses import dataclass

from gdw import RunConfig

__all__ = ["ACTIVE", "JobInfo"]

ACTIVE = ("queued", "starting", "running")


@dataclass(frozen=True)
class JobInfo:
    """A snapshot of one job.

    Attributes:
        job_id: the manager's name for it (``job-3``), known before a run folder exists.
        state: ``queued``, ``starting`` (loading data), ``running``, ``finished`` (the run
            folder says how it ended), ``cancelled`` (never started) or ``failed`` (refused
            before a run folder was made; ``error`` says why).
        run_id: the run folder's name once training has started (at once for a resume).
        resume: the job continues run ``run_id`` from its checkpoint.
        epochs: with ``resume``, the total the run is trained on to (``None``: its own).
        queue_position: 1 for the next job to start on its device; ``None`` unless queued.
    """

    job_id: str
    config: RunConfig
    device: str
    group: str | None
    state: str = "queued"
    run_id: str | None = None
    error: str | None = None
    stop_requested: bool = False
    queue_position: int | None = None
    resume: bool = False
    epochs: int | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE
