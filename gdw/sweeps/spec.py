"""The grid of a sweep: its methods, corruption settings and seeds, and the training they share.

A sweep trains every method on every setting with every seed. The same seed means the same meta
split, the same corrupted labels, the same initial weights and the same batch order for every
method, so differences between methods can be paired by seed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from gdw.config import ConfigError, RunConfig
from gdw.registry import method_ids
from gdw.sweeps.presets import Setting

__all__ = ["SweepSpec", "run_identity", "run_name"]

# where a run goes and its files are, not what it is
_IGNORED = ("device", "data.data_root", "data.download", "data.noise_file", "noise_file")


def run_name(method: str, setting: Setting, seed: int) -> str:
    """The run folder's name, e.g. ``gdw-uniform-0.4-imb1-seed0``."""
    return f"{method}-{setting.key}-seed{seed}"


@dataclass(frozen=True)
class SweepSpec:
    """The grid of a sweep and the training shared by all of its runs.

    Attributes:
        base: the shared configuration; its noise, imbalance, seed, method and name are
            replaced per run.
        methods: methods to compare, registered ones (:func:`gdw.registry.method_ids`).
        settings: corruption settings.
        seeds: the seeds; each run of one seed sees the same data for every method.
        preset: the preset's name, if the grid came from one.
        noise_file: the file of human labels of the human-noise settings (``None``: the
            dataset's usual file under the data root); where the file is, not what the sweep is.
    """

    base: RunConfig
    methods: tuple[str, ...]
    settings: tuple[Setting, ...]
    seeds: tuple[int, ...]
    preset: str | None = None
    noise_file: str | None = None

    def __post_init__(self) -> None:
        known = method_ids()
        if not self.methods:
            raise ConfigError(f"a sweep needs at least one method of: {', '.join(known)}")
        for method in self.methods:
            if method not in known:
                raise ConfigError(f"method {method!r} is not one of: {', '.join(known)}")
        if len(set(self.methods)) < len(self.methods):
            raise ConfigError(f"methods {','.join(self.methods)} name a method twice")
        if not self.settings or len(set(self.settings)) < len(self.settings):
            raise ConfigError("a sweep needs at least one setting, each given once")
        if not self.seeds or any(
            isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in self.seeds
        ):
            raise ConfigError(f"seeds must be whole numbers >= 0, got {list(self.seeds)}")
        if len(set(self.seeds)) < len(self.seeds):
            raise ConfigError(f"seeds {list(self.seeds)} name a seed twice")

    def runs(self) -> list[RunConfig]:
        """Every run, seed by seed: an interrupted sweep has whole seeds of every setting."""
        planned = []
        for seed in self.seeds:
            for setting in self.settings:
                data = dataclasses.replace(self.base.data, **setting.to_dict(), seed=seed)
                if setting.noise == "human":
                    data = dataclasses.replace(data, noise_file=self.noise_file)
                for method in self.methods:
                    name = run_name(method, setting, seed)
                    planned.append(self.base.replace(data=data, method=method, name=name))
        return planned

    def to_dict(self) -> dict[str, Any]:
        record = {
            "preset": self.preset,
            "methods": list(self.methods),
            "settings": [setting.to_dict() for setting in self.settings],
            "seeds": list(self.seeds),
            "base": self.base.to_dict(),
        }
        if self.noise_file is not None:
            record["noise_file"] = self.noise_file
        return record

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> SweepSpec:
        return cls(
            base=RunConfig.from_dict(record["base"]),
            methods=tuple(record["methods"]),
            settings=tuple(Setting(**setting) for setting in record["settings"]),
            seeds=tuple(int(seed) for seed in record["seeds"]),
            preset=record.get("preset"),
            noise_file=record.get("noise_file"),
        )

    def differences(self, other: SweepSpec) -> list[str]:
        """What differs from ``other``, as ``name (here X, there Y)``; the device is ignored."""
        mine, theirs = _flat(self.to_dict()), _flat(other.to_dict())
        return [
            f"{key.removeprefix('base.')} ({_short(mine.get(key))} here, "
            f"{_short(theirs.get(key))} there)"
            for key in sorted(set(mine) | set(theirs))
            if key.removeprefix("base.") not in _IGNORED and mine.get(key) != theirs.get(key)
        ]


def _flat(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def run_identity(config: RunConfig) -> dict[str, Any]:
    """What a run of a sweep is, flattened (``data.noise``: ``uniform``), without where it runs
    and where its files are: two runs with equal identities train the same."""
    return {k: v for k, v in _flat(config.to_dict()).items() if k not in _IGNORED}
