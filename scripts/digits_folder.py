"""Write scikit-learn's 8x8 digits as a 32x32 PNG image folder, for ``--dataset imagefolder``.

    python scripts/digits_folder.py OUT [--size 32] [--meta-per-class 0]

``OUT/train/<digit>/NNNN.png`` and ``OUT/test/<digit>/NNNN.png`` hold the same 1,437 / 360
split as ``--dataset digits`` (its fixed stratified split), upscaled with bilinear resampling
to ``size`` pixels and stored as RGB, so the images go through exactly the path a
practitioner's own folder takes (files, decoding, resizing, the default model). With
``--meta-per-class K`` the first K training images of each class go to ``OUT/meta/<digit>/``
instead (a trusted meta set apart from the training folder). ``NNNN`` is the image's position
in the digits' training (or test) split, so a row of ``instances.csv`` can be traced back.

An existing ``OUT`` is refused rather than mixed with what is already there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, uninstalled
from gdw.config import DataConfig  # noqa: E402
from gdw.sources import read_digits  # noqa: E402


def write_split(folder: Path, images: np.ndarray, labels: np.ndarray, size: int) -> int:
    """Writes ``images`` (uint8 ``[N, 1, 8, 8]``) as ``folder/<label>/NNNN.png``; the count."""
    for position, (image, label) in enumerate(zip(images, labels)):
        target = folder / str(int(label))
        target.mkdir(parents=True, exist_ok=True)
        picture = Image.fromarray(image[0]).resize((size, size), Image.Resampling.BILINEAR)
        picture.convert("RGB").save(target / f"{position:04d}.png")
    return int(labels.size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the folder to create")
    parser.add_argument("--size", type=int, default=32, help="side in pixels (default: 32)")
    parser.add_argument(
        "--meta-per-class",
        type=int,
        default=0,
        metavar="K",
        help="move the first K training images of each class to OUT/meta/ (default: 0, none)",
    )
    args = parser.parse_args(argv)
    if args.out.exists():
        print(f"error: {args.out} exists; give a new folder", file=sys.stderr)
        return 2
    if not 8 <= args.size <= 512 or args.meta_per_class < 0:
        print("error: --size must be in 8..512 and --meta-per-class >= 0", file=sys.stderr)
        return 2
    source = read_digits(DataConfig())
    images, labels = source.train.images, source.train.labels
    meta = np.zeros(labels.size, dtype=bool)
    for label in np.unique(labels):
        meta[np.flatnonzero(labels == label)[: args.meta_per_class]] = True
    counts = {"train": write_split(args.out / "train", images[~meta], labels[~meta], args.size)}
    counts["test"] = write_split(
        args.out / "test", source.test.images, source.test.labels, args.size
    )
    if meta.any():
        counts["meta"] = write_split(args.out / "meta", images[meta], labels[meta], args.size)
    print(f"wrote {args.out}: " + ", ".join(f"{n} {split}" for split, n in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
