"""Layers of cdl: concrete Para morphisms."""

from ._activations import (
    Gelu as Gelu,
    LogSoftmax as LogSoftmax,
    Relu as Relu,
    Sigmoid as Sigmoid,
    Softmax as Softmax,
    Tanh as Tanh,
)
from ._conv import Conv1d as Conv1d, Conv2d as Conv2d
from ._dropout import Dropout as Dropout, inference_mode as inference_mode
from ._embedding import Embedding as Embedding
from ._linear import Bias as Bias, Linear as Linear
from ._norm import LayerNorm as LayerNorm
from ._shape import Concat as Concat, Flatten as Flatten, Reshape as Reshape
