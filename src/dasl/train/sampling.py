"""A never-ending batch sampler that resumes exactly and shards across processes.

Epoch ``e`` is a permutation drawn from ``(seed, e)``; process ``rank`` of ``world`` takes every
``world``-th index of it and cuts it into full batches. Batches are numbered from 0 across epochs; a
sampler built with ``start = k`` hands out batch ``k`` first, so a trainer that counts the batches it has
*consumed* (not the ones a data loader prefetched) resumes on exactly the next one.

Each item is yielded as ``(index, epoch)`` so that a dataset can seed the item's augmentation from it,
independent of worker processes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dasl.errors import OptionError


class ResumableBatchSampler:
    def __init__(
        self, size: int, batch_size: int, seed: int = 0, rank: int = 0, world: int = 1, start: int = 0
    ) -> None:
        if size < batch_size * world:
            raise OptionError(f"{size} items cannot fill a batch of {batch_size} on {world} process(es)")
        self.size, self.batch_size, self.seed, self.rank, self.world = size, batch_size, seed, rank, world
        self.start = start

    @property
    def batches_per_epoch(self) -> int:
        return self.size // (self.batch_size * self.world)

    def _indices(self, epoch: int) -> np.ndarray:
        order = np.random.default_rng([self.seed, epoch]).permutation(self.size)
        return order[self.rank :: self.world]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        number = self.start
        while True:
            epoch, position = divmod(number, self.batches_per_epoch)
            mine = self._indices(epoch)
            for pos in range(position, self.batches_per_epoch):
                chosen = mine[pos * self.batch_size : (pos + 1) * self.batch_size]
                yield [(int(i), epoch) for i in chosen]
            number = (epoch + 1) * self.batches_per_epoch
