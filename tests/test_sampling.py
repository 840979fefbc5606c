import itertools

import pytest

from dasl.train.sampling import ResumableBatchSampler


def _take(sampler, n):
    return list(itertools.islice(iter(sampler), n))


def test_resume_from_any_batch_matches_the_uninterrupted_stream():
    full = _take(ResumableBatchSampler(10, 3, seed=1), 12)  # 3 batches per epoch: 4 epochs
    for k in (0, 2, 3, 7):
        assert _take(ResumableBatchSampler(10, 3, seed=1, start=k), 12 - k) == full[k:]


def test_epochs_are_permutations_and_carry_their_number():
    batches = _take(ResumableBatchSampler(9, 3, seed=0), 6)
    first = [i for b in batches[:3] for i, _ in b]
    assert sorted(first) == list(range(9))
    assert {e for b in batches[:3] for _, e in b} == {0} and {e for b in batches[3:] for _, e in b} == {1}
    assert first != [i for b in batches[3:] for i, _ in b]


def test_ranks_take_disjoint_shares():
    a = [i for b in _take(ResumableBatchSampler(12, 2, seed=0, rank=0, world=2), 3) for i, _ in b]
    b = [i for b in _take(ResumableBatchSampler(12, 2, seed=0, rank=1, world=2), 3) for i, _ in b]
    assert not set(a) & set(b) and len(set(a) | set(b)) == 12


def test_too_small_dataset_is_an_error():
    with pytest.raises(ValueError, match="cannot fill"):
        ResumableBatchSampler(3, 4)
