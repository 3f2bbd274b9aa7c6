"""What a batch of uint8 images goes through before a model sees it: the standard CIFAR
augmentation and the per-channel normalisation. Whole batches at once, on their device."""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["augment_batch", "normalize"]


def normalize(
    images: torch.Tensor,
    mean: Sequence[float] | torch.Tensor,
    std: Sequence[float] | torch.Tensor,
) -> torch.Tensor:
    """Scale uint8 images ``[N, ch, H, W]`` to [0, 1] and standardise each channel.

    Args:
        images: uint8 ``[N, ch, H, W]``.
        mean, std: one value per channel. Float32 tensors on the device of ``images`` are used
            as they are; sequences are copied to that device at every call, which on a GPU
            makes the host wait for it, so code that normalises at every step builds the
            tensors once (as :class:`gdw.training.stepper.Stepper` does).

    Returns:
        float32 ``[N, ch, H, W]`` on the device of ``images``: ``(x / 255 - mean) / std``.
    """
    if len(mean) != images.shape[1] or len(std) != images.shape[1]:
        raise ValueError(
            f"mean and std need one value per channel ({images.shape[1]}), "
            f"got {len(mean)} and {len(std)}"
        )
    mean_t = torch.as_tensor(mean, dtype=torch.float32, device=images.device).view(1, -1, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32, device=images.device).view(1, -1, 1, 1)
    return (images.to(torch.float32) / 255.0 - mean_t) / std_t


def augment_batch(
    images: torch.Tensor, generator: torch.Generator, *, padding: int = 4
) -> torch.Tensor:
    """Random crop of the reflect-padded image plus random horizontal flip, per image.

    The standard CIFAR augmentation, done for the whole batch with one gather: each output
    pixel is read from the reflect-padded image at a random shift of up to ``padding``
    pixels, and the columns are reversed for a random half of the images.

    Args:
        images: ``[N, ch, H, W]`` of any dtype, ``H, W > padding``.
        generator: source of the shifts and flips, on the device of ``images``.
        padding: the largest shift in pixels.

    Returns:
        a new tensor of the shape, dtype and device of ``images``.
    """
    if images.ndim != 4:
        raise ValueError(f"images must be [N, ch, H, W], got shape {tuple(images.shape)}")
    n, _, height, width = images.shape
    if not 0 <= padding < min(height, width):
        raise ValueError(f"padding must be in 0..{min(height, width) - 1}, got {padding}")
    if generator.device.type != images.device.type:
        raise ValueError(f"generator is on {generator.device} but images are on {images.device}")
    device = images.device
    shifts = torch.randint(0, 2 * padding + 1, (2, n), generator=generator, device=device)
    flips = torch.rand(n, generator=generator, device=device) < 0.5
    offsets = shifts - padding  # [2, N]
    rows = _reflect(offsets[0, :, None] + torch.arange(height, device=device), height)  # [N, H]
    cols = _reflect(offsets[1, :, None] + torch.arange(width, device=device), width)  # [N, W]
    cols = torch.where(flips[:, None], cols.flip(1), cols)
    batch = torch.arange(n, device=device)[:, None, None]
    # Advanced indices around a slice put their broadcast dims first: [N, H, W, ch].
    out = images[batch, :, rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous()


def _reflect(positions: torch.Tensor, size: int) -> torch.Tensor:
    """Map positions in ``-size+1 .. 2*size-2`` into ``0..size-1`` as reflect padding does."""
    positions = positions.abs()
    return torch.where(positions >= size, 2 * (size - 1) - positions, positions)
