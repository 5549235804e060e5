"""engine.vision.datasets.vision: the batched loading path of the datasets."""


import numpy as np
import pytest

import engine
from engine.vision.datasets import (
    CIFAR10,
    MNIST,
)

from .dataset_files import (
    make_cifar,
    make_mnist,
)

# ---------------------------------------------------------------------------------------- DataLoader path

def test_batched_loader_path_matches_per_sample_collation(tmp_path):
    transforms = pytest.importorskip("engine.vision.transforms", reason="engine.vision.transforms not available")
    from engine.utils.data import DataLoader, default_collate

    make_cifar(tmp_path)
    make_mnist(tmp_path / "MNIST" / "raw")
    to_tensor = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    idx = [5, 0, 3, 1]
    for ds in (CIFAR10(tmp_path, transform=to_tensor), MNIST(tmp_path, transform=to_tensor),
               CIFAR10(tmp_path, transform=to_tensor, target_transform=lambda t: t * 2)):
        fast = ds.__getbatch__(idx)
        slow = default_collate([ds[i] for i in idx])
        assert fast is not NotImplemented
        np.testing.assert_array_equal(fast[0].numpy(), slow[0].numpy())
        assert fast[1].tolist() == slow[1].tolist() and fast[1].dtype == slow[1].dtype
        batches = list(DataLoader(ds, batch_size=4))
        assert sum(len(y) for _, y in batches) == len(ds)

    plain = CIFAR10(tmp_path)
    assert plain.__getbatch__([0, 1]) is NotImplemented
    with pytest.raises(TypeError, match="PIL"):  # PIL images do not collate, as with PyTorch
        next(iter(DataLoader(plain, batch_size=2)))
    assert isinstance(plain, engine.utils.data.Dataset)
