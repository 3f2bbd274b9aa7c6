"""The Ray backend of a sweep: each run is one Ray task (``gdw sweep --backend ray``).

Every task calls :func:`gdw.sweeps.running.run_one`, the function the local backend calls, with the
same torch thread count, so a run gives the same numbers on either backend. Tasks write their
run folders straight into the sweep folder, so on a cluster that folder must be shared storage
mounted at the same path on every node (:meth:`RayBackend.check_writable` checks it at start).
The driver (this process) gathers the runs as they end and writes ``results.csv`` and
``summary.md`` itself (see :func:`gdw.sweeps.running.run_sweep`).

The ``gdw`` package reaches the workers through Ray's runtime environment (``py_modules``), so
a worker needs Ray, torch and the other requirements installed, not this project.

Faults: a worker or node lost mid-run is retried by Ray (``max_retries``), and the retried task
moves the half-written folder to ``unfinished/``; a run that raises ends ``failed`` and the
others go on; closing the event stream (Ctrl-C, a stop) cancels the tasks still pending or
running, which end ``stopped``.

A Ray this backend starts on this machine runs its workers at niceness 0
(:data:`WORKER_NICENESS`), not at Ray's 15, so that the runs share the machine fairly with other
work; a cluster's workers run at the niceness its operator gave ``ray start``
(``RAY_worker_niceness`` in its environment).

Ray is imported only when a :class:`RayBackend` is entered: ``gdw`` works without it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
import uuid
from collections.abc import Generator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from gdw.config import ConfigError, DataError, RunConfig
from gdw.sweeps.ray_worker import run_task, write_probe
from gdw.sweeps.running import RunEvent, SweepSink
from gdw.training.failures import failure_message

__all__ = ["WORKER_NICENESS", "RayBackend"]

_PACKAGE = Path(__file__).resolve().parents[1]  # the gdw package, shipped to the workers
_POLL_SECONDS = 0.5  # how often the driver looks for runs that have started
_CANCEL_SECONDS = 10.0  # how long cancelled runs get to write their "stopped" status
_PROBE_SECONDS = 300.0  # a probe waits for a worker to start (and a cluster to scale up)
_PROBE_SLOTS = 64  # probes per node at most
_INSTALL = "pip install -e '.[ray]' (or pip install -r requirements-ray.txt)"
WORKER_NICENESS = 0
"""Niceness of the workers of a Ray the sweep starts on this machine. Ray's own default is 15,
which lets any other process on the machine starve the runs: a digits sweep of 18 runs took
610 s on Ray against 86 s on the local backend while one other training process ran. At 0 the
runs compete with other processes as the local backend's do."""
_NICENESS_VARIABLE = "RAY_worker_niceness"  # Ray's system setting, read from the environment


def _import_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise ConfigError(f"--backend ray needs Ray, which is not installed: {_INSTALL}") from None
    return ray


def _host_port(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of ``HOST:PORT`` or ``ray://HOST:PORT``; ``None`` for ``auto``."""
    if address == "auto":
        return None
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(
            f"--ray-address {address!r} is not HOST:PORT (e.g. 10.0.0.5:6379, as printed by "
            "'ray start --head'), 'auto' or ray://HOST:PORT"
        )
    return host.strip("[]"), int(port)


def _check_reachable(address: str) -> None:
    """Fails fast on a ``host:port`` nothing listens on (``ray.init`` would retry for minutes)."""
    host_port = _host_port(address)
    if host_port is None:
        return
    try:
        socket.create_connection(host_port, timeout=5).close()
    except OSError as exc:
        raise ConfigError(
            f"cannot reach a Ray cluster at {address} ({exc.strerror or exc}); start one with "
            "'ray start --head' and pass the address it prints, or drop --ray-address to run on "
            "this machine"
        ) from None


def _auth_hint(address: str | None) -> str:
    """What to try when joining a cluster failed and the token may be missing: 'ray start'
    turns token authentication on by default since Ray 2.59, and a client sends the token
    only with RAY_AUTH_MODE=token."""
    if address is None or os.environ.get("RAY_AUTH_MODE") == "token":
        return ""
    return (
        "; if the cluster uses token authentication (what 'ray start' does by default), run "
        "with RAY_AUTH_MODE=token and its token in ~/.ray/auth_token or RAY_AUTH_TOKEN "
        "('ray get-auth-token' on the head prints it)"
    )


def _node_resources(node: dict[str, Any]) -> tuple[float, float]:
    resources = node.get("Resources") or {}
    return float(resources.get("CPU", 0)), float(resources.get("GPU", 0))


def _task_error(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return failure_message(cause)
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


class RayBackend:
    """Runs each run of a sweep as a Ray task, as many at once as the cluster's resources allow.

    Use it as a context manager around :func:`gdw.sweeps.running.run_sweep`::

        with RayBackend(cpus_per_run=1) as backend:
            run_sweep(spec, out, backend=backend)

    Entering connects to the cluster at ``address`` (``None``: start a Ray on this machine, its
    workers at :data:`WORKER_NICENESS`) with :attr:`runtime_env`, which ships the ``gdw``
    package to the workers, and checks that some node can give one run its resources; leaving
    shuts down that Ray. A Ray already initialised
    in this process is used as it is: initialise it with ``runtime_env=RayBackend.runtime_env``
    unless its workers can import ``gdw`` already.

    Args:
        address: a cluster's ``HOST:PORT`` (``ray start --head`` prints it), ``auto`` or
            ``ray://HOST:PORT``; ``None`` starts a local Ray.
        cpus_per_run: CPUs Ray reserves for each run (fractions allowed).
        gpus_per_run: GPUs Ray reserves for each run (fractions allowed). A run given GPUs has
            a worker process of its own (CUDA is set up once per process: a reused worker would
            train on its first run's GPU and keep that run's cache) and ``device="auto"`` trains
            on them; given none, ``auto`` is the CPU (Ray 2.60 no longer hides a node's GPUs).
        threads: torch threads of each run (the local backend's ``--threads``).
        max_retries: times Ray reruns a run whose worker or node was lost.

    Raises:
        ConfigError: a value out of range (here); on entering, Ray is not installed, the address
            is unreachable, or no node has the resources of one run.
    """

    def __init__(
        self,
        *,
        address: str | None = None,
        cpus_per_run: float = 1.0,
        gpus_per_run: float = 0.0,
        threads: int = 1,
        max_retries: int = 3,
    ) -> None:
        if not cpus_per_run > 0:
            raise ConfigError(f"--cpus-per-run must be > 0, got {cpus_per_run:g}")
        if not gpus_per_run >= 0 or (gpus_per_run > 1 and gpus_per_run != int(gpus_per_run)):
            raise ConfigError(
                f"--gpus-per-run must be a fraction in [0, 1] or a whole number, got "
                f"{gpus_per_run:g}"
            )
        if threads < 1:
            raise ConfigError(f"--threads must be a whole number >= 1, got {threads}")
        if address is not None:
            _host_port(address)  # a malformed address fails here, before anything starts
        self.address = address
        self.cpus_per_run = float(cpus_per_run)
        self.gpus_per_run = float(gpus_per_run)
        self.threads = int(threads)
        self.max_retries = int(max_retries)
        self._ray: ModuleType | None = None
        self._started_ray = False

    runtime_env: dict[str, Any] = {
        "py_modules": [str(_PACKAGE)],
        "excludes": ["__pycache__", "*.pyc"],
    }
    """Ray's runtime environment of the sweep's job: the ``gdw`` package, uploaded to every
    worker (a local path is only accepted by ``ray.init``, not per task)."""

    def __enter__(self) -> RayBackend:
        ray = _import_ray()
        if not ray.is_initialized():
            if self.address is not None:
                _check_reachable(self.address)
            try:
                ray.init(
                    address=self.address or "local",
                    runtime_env=self.runtime_env,
                    include_dashboard=False,
                    log_to_driver=False,  # runs write their folders; errors come back as results
                    logging_level=logging.ERROR,
                    **self._local_system_config(),
                )
            except (ConnectionError, RuntimeError, ValueError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
                where = self.address or "this machine"
                raise ConfigError(
                    f"cannot start or join Ray on {where}: {first}{_auth_hint(self.address)}"
                ) from None
            self._started_ray = True
        self._ray = ray
        try:
            self.check_resources()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _local_system_config(self) -> dict[str, Any]:
        """Ray's settings of a Ray this backend starts on this machine: workers at the
        niceness of other processes (:data:`WORKER_NICENESS`), unless ``RAY_worker_niceness``
        says otherwise. A cluster's workers run as its operator set them (``ray start``)."""
        if self.address is not None or _NICENESS_VARIABLE in os.environ:
            return {}
        return {"_system_config": {"worker_niceness": WORKER_NICENESS}}

    def __exit__(self, *exc_info: Any) -> None:
        if self._started_ray and self._ray is not None:
            self._ray.shutdown()
        self._started_ray = False
        self._ray = None

    def _alive_nodes(self) -> list[dict[str, Any]]:
        assert self._ray is not None, "use RayBackend as a context manager"
        return [node for node in self._ray.nodes() if node.get("Alive")]

    def _fitting_nodes(self) -> list[dict[str, Any]]:
        return [
            node
            for node in self._alive_nodes()
            if _node_resources(node)[0] >= self.cpus_per_run
            and _node_resources(node)[1] >= self.gpus_per_run
        ]

    def check_resources(self) -> None:
        """Raises ``ConfigError`` unless some node can give one run its CPUs and GPUs."""
        if self._fitting_nodes():
            return
        nodes = "; ".join(
            f"{cpus:g} CPUs, {gpus:g} GPUs"
            for cpus, gpus in map(_node_resources, self._alive_nodes())
        )
        raise ConfigError(
            f"no node of the Ray cluster can give a run {self.cpus_per_run:g} CPUs and "
            f"{self.gpus_per_run:g} GPUs (its nodes: {nodes or 'none'}); lower --cpus-per-run or "
            "--gpus-per-run, or add a node that has them"
        )

    def _slots(self, node: dict[str, Any]) -> int:
        """How many runs ``node`` can hold at once."""
        cpus, gpus = _node_resources(node)
        slots = int(cpus // self.cpus_per_run)
        return min(slots, int(gpus // self.gpus_per_run)) if self.gpus_per_run else slots

    def check_writable(self, out: Path) -> None:
        """Raises ``ConfigError`` unless workers on every node that can take a run write files
        into ``out`` that this process then sees (on a cluster: ``out`` is shared storage).

        The probes have a run's resources, one per run a node can hold at once (at most
        :data:`_PROBE_SLOTS`), so they also start the workers the runs then reuse, all at once.
        """
        ray = self._ray
        assert ray is not None, "use RayBackend as a context manager"
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        probe = ray.remote(write_probe)
        resources = {"num_cpus": self.cpus_per_run, "num_gpus": self.gpus_per_run}
        refs: dict[Any, tuple[str, str]] = {}  # probe -> (node, token)
        for node in self._fitting_nodes():
            strategy = NodeAffinitySchedulingStrategy(node_id=node["NodeID"], soft=False)
            options = probe.options(scheduling_strategy=strategy, max_retries=0, **resources)
            for _ in range(min(self._slots(node), _PROBE_SLOTS)):
                token = uuid.uuid4().hex
                ref = options.remote(str(out), token)
                refs[ref] = (node.get("NodeManagerAddress", node["NodeID"]), token)
        shared = "on a cluster --out must be shared storage mounted at the same path on every node"
        try:
            for ref, (node, token) in refs.items():
                try:
                    ray.get(ref, timeout=_PROBE_SECONDS)
                except ray.exceptions.GetTimeoutError:
                    raise ConfigError(
                        f"no Ray worker on node {node} started within {_PROBE_SECONDS:g} s; check "
                        "the cluster ('ray status')"
                    ) from None
                except ray.exceptions.RayError as exc:
                    raise ConfigError(
                        f"a Ray worker on node {node} cannot write to {out} ({_task_error(exc)}); "
                        f"{shared}"
                    ) from None
                if not (out / f".ray-probe-{token}").is_file():
                    raise ConfigError(
                        f"a Ray worker on node {node} wrote to {out} on its own disk, not where "
                        f"this machine sees it; {shared}"
                    )
        finally:
            for _, token in refs.values():
                (out / f".ray-probe-{token}").unlink(missing_ok=True)

    def _worker_config(self, config: RunConfig) -> RunConfig:
        """``config`` with an absolute data folder and label file (a worker does not start in
        this folder); without GPUs per run, ``auto`` is the CPU."""
        data = config.data
        root = str(Path(data.data_root).expanduser().absolute())
        noise_file = data.noise_file
        if noise_file is not None:
            noise_file = str(Path(noise_file).expanduser().absolute())
        data = dataclasses.replace(data, data_root=root, noise_file=noise_file)
        device = "cpu" if config.device == "auto" and not self.gpus_per_run else config.device
        return config.replace(data=data, device=device)

    def __call__(
        self,
        out: Path,
        todo: Sequence[RunConfig],
        *,
        stop_event: threading.Event | None = None,
        sinks: Sequence[SweepSink] = (),
    ) -> Generator[RunEvent, None, None]:
        """Submits every run of ``todo``; yields ``running`` as a run's folder appears, and its
        end as its task returns. ``sinks`` get no epochs: the runs train in other processes."""
        ray = self._ray
        assert ray is not None, "use RayBackend as a context manager"
        out = Path(out).absolute()
        self.check_writable(out)
        # Resources of ray.remote itself: only there do GPUs give each run a fresh worker.
        task = ray.remote(
            num_cpus=self.cpus_per_run,
            num_gpus=self.gpus_per_run,
            max_calls=1 if self.gpus_per_run else 0,  # 0: a CPU worker takes run after run
            max_retries=self.max_retries,
            retry_exceptions=False,  # an exception is the run's failure, not a lost worker
        )(run_task)
        pending = {
            task.remote(str(out), self._worker_config(config), self.threads): config.name
            for config in todo
        }
        running: set[str] = set()
        try:
            while pending:
                if stop_event is not None and stop_event.is_set():
                    return
                # Back as soon as a run ends (then with every run ended by now), so that a run
                # is counted ended before the one its worker starts next is counted running.
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=_POLL_SECONDS)
                if ready:
                    ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0)
                for ref in ready:
                    name = pending.pop(ref)
                    if name not in running:
                        running.add(name)
                        yield RunEvent(name, "running")
                    yield self._result(ref, name)
                for name in pending.values():
                    if name not in running and (out / "runs" / name).is_dir():
                        running.add(name)
                        yield RunEvent(name, "running")
        finally:
            if pending:
                for ref in pending:
                    ray.cancel(ref)  # a running task gets a KeyboardInterrupt: ends "stopped"
                ray.wait(list(pending), num_returns=len(pending), timeout=_CANCEL_SECONDS)

    def _result(self, ref: Any, name: str) -> RunEvent:
        ray = self._ray
        assert ray is not None
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            if isinstance(exc.cause, (ConfigError, DataError)):
                raise exc.cause from None  # bad input: every run would fail the same
            return RunEvent(name, "failed", _task_error(exc))
        except ray.exceptions.RayError as exc:  # the worker or node was lost, retries spent
            return RunEvent(name, "failed", _task_error(exc))
