"""Constants that broadcast as a layer's weights do: one value per output feature (along the last axis) or one
per channel (the axis after the batch). A constant of the right size but another shape broadcasts otherwise in
ONNX, so it is not taken for one."""


def last_axis_vector(array, size):
    """``array`` as a vector of ``size`` when its shape is (1, ..., 1, size), else None."""
    if array.size == size and array.ndim >= 1 and array.shape[-1] == size:
        return array.reshape(size)
    return None


def channel_vector(array, sample_rank, channels):
    """``array`` as a vector of ``channels`` when it broadcasts over a batch of samples of ``sample_rank`` dims
    one value per channel: shape (C,), (C, 1, ..., 1) or (1, C, 1, ..., 1), right-aligned; else None."""
    if array.ndim > sample_rank + 1:
        return None
    padded = (1,) * (sample_rank + 1 - array.ndim) + tuple(array.shape)
    if padded[0] == 1 and padded[1] == channels and all(d == 1 for d in padded[2:]):
        return array.reshape(channels)
    return None
