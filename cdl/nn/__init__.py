"""Layers of cdl: concrete Para morphisms."""

from ._activations import (
    Gelu as Gelu,
)
from ._activations import (
    LogSoftmax as LogSoftmax,
)
from ._activations import (
    Relu as Relu,
)
from ._activations import (
    Sigmoid as Sigmoid,
)
from ._activations import (
    Softmax as Softmax,
)
from ._activations import (
    Tanh as Tanh,
)
from ._conv import Conv1d as Conv1d
from ._conv import Conv2d as Conv2d
from ._dropout import Dropout as Dropout
from ._dropout import inference_mode as inference_mode
from ._embedding import Embedding as Embedding
from ._linear import Bias as Bias
from ._linear import Linear as Linear
from ._norm import LayerNorm as LayerNorm
from ._shape import Concat as Concat
from ._shape import Flatten as Flatten
from ._shape import Reshape as Reshape
