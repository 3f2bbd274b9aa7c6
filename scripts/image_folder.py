"""Write a built-in dataset's images as a PNG image folder, for ``--dataset imagefolder``.

    python scripts/image_folder.py digits OUT [--size 32] [--meta-per-class 0]
    python scripts/image_folder.py mnist OUT --data-root ../shared/data/mnist --train-count 10000

``OUT/train/<class>/NNNNN.png`` and ``OUT/test/<class>/NNNNN.png`` hold the dataset's own
training and test split (digits: its fixed stratified 1,437 / 360 split; MNIST: the first
``--train-count`` training images and every test image), resized with bilinear resampling to
``--size`` pixels and stored as RGB, so the images go through exactly the path a practitioner's
own folder takes (files, decoding, resizing, the default model, ResNet-8). With
``--meta-per-class K`` the first K training images of each class go to ``OUT/meta/<class>/``
instead (a trusted meta set apart from the training folder). ``NNNNN`` is the image's position
in its source split, so a row of ``instances.csv`` can be traced back.

An existing ``OUT`` is refused rather than mixed with what is already there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, uninstalled
from gdw.config import DataConfig, DataError  # noqa: E402
from gdw.data.sources import read_source  # noqa: E402

DATASETS = ("digits", "mnist")


def write_split(
    folder: Path, images: np.ndarray, labels: np.ndarray, positions: np.ndarray, size: int
) -> int:
    """Writes ``images`` (uint8 ``[N, ch, H, W]``) as ``folder/<label>/<position>.png``."""
    for image, label, position in zip(images, labels, positions):
        target = folder / str(int(label))
        target.mkdir(parents=True, exist_ok=True)
        picture = Image.fromarray(image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0))
        picture = picture.resize((size, size), Image.Resampling.BILINEAR).convert("RGB")
        picture.save(target / f"{int(position):05d}.png")
    return int(labels.size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=DATASETS)
    parser.add_argument("out", type=Path, help="the folder to create")
    parser.add_argument("--data-root", default="data", help="the dataset's files (MNIST)")
    parser.add_argument("--size", type=int, default=32, help="side in pixels (default: 32)")
    parser.add_argument(
        "--train-count", type=int, metavar="N", help="only the first N training images"
    )
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
    if not 8 <= args.size <= 512 or args.meta_per_class < 0 or (args.train_count or 1) < 1:
        print(
            "error: --size must be in 8..512, --meta-per-class >= 0 and --train-count >= 1",
            file=sys.stderr,
        )
        return 2
    try:
        source = read_source(DataConfig(dataset=args.dataset, data_root=args.data_root))
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    count = args.train_count or source.train.labels.size
    images, labels = source.train.images[:count], source.train.labels[:count]
    positions = np.arange(labels.size)
    meta = np.zeros(labels.size, dtype=bool)
    for label in np.unique(labels):
        meta[np.flatnonzero(labels == label)[: args.meta_per_class]] = True
    test = source.test
    counts = {
        "train": write_split(
            args.out / "train", images[~meta], labels[~meta], positions[~meta], args.size
        ),
        "test": write_split(
            args.out / "test", test.images, test.labels, np.arange(test.labels.size), args.size
        ),
    }
    if meta.any():
        counts["meta"] = write_split(
            args.out / "meta", images[meta], labels[meta], positions[meta], args.size
        )
    print(f"wrote {args.out}: " + ", ".join(f"{n} {split}" for split, n in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
