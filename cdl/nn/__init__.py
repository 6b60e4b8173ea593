"""Layers of cdl: concrete Para morphisms."""

from ._activations import (
    Gelu as Gelu,
    LogSoftmax as LogSoftmax,
    Relu as Relu,
    Sigmoid as Sigmoid,
    Softmax as Softmax,
    Tanh as Tanh,
)
from ._attention import (
    CrossAttention as CrossAttention,
    PaddedCrossAttention as PaddedCrossAttention,
    PaddedSelfAttention as PaddedSelfAttention,
    SelfAttention as SelfAttention,
    causal_mask as causal_mask,
    dot_product_attention as dot_product_attention,
)
from ._conv import Conv1d as Conv1d, Conv2d as Conv2d
from ._conv_transpose import (
    ConvTranspose1d as ConvTranspose1d,
    ConvTranspose2d as ConvTranspose2d,
)
from ._dropout import Dropout as Dropout, inference_mode as inference_mode
from ._embedding import Embedding as Embedding
from ._lift import Lifted as Lifted, lift as lift
from ._linear import Bias as Bias, Linear as Linear
from ._norm import LayerNorm as LayerNorm
from ._norms import BatchNorm as BatchNorm, RMSNorm as RMSNorm
from ._pool import (
    AvgPool1d as AvgPool1d,
    AvgPool2d as AvgPool2d,
    GlobalAvgPool as GlobalAvgPool,
    MaxPool1d as MaxPool1d,
    MaxPool2d as MaxPool2d,
)
from ._positional import (
    LearnedPositions as LearnedPositions,
    RotaryEmbedding as RotaryEmbedding,
    SinusoidalPositions as SinusoidalPositions,
)
from ._residual import Block as Block, residual as residual
from ._sequence import (
    Each as Each,
    SequenceMean as SequenceMean,
    Transpose as Transpose,
)
from ._shape import Concat as Concat, Flatten as Flatten, Reshape as Reshape
from ._upsample import Upsample as Upsample
