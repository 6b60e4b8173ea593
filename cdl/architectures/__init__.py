"""Architectures people build, as composites of cdl's layers.

Each is a readable ``>>``/``@`` expression behind a short builder: a GPT-style
decoder, a ViT, ResNets (with batch normalisation's state on a wire) and U-Nets.
Every one is checked as it is built and runs on one example; map it over a batch
with `jax.vmap`.

>>> import jax, cdl
>>> from cdl.architectures import gpt
>>> gpt(vocab=50, dim=32, depth=2, heads=4, max_length=64, key=jax.random.key(0)).cod
float[n,50]
"""

from ._find import layers_of as layers_of
from ._resnet import (
    basic_block as basic_block,
    conv_bn as conv_bn,
    residual_with_state as residual_with_state,
    resnet as resnet,
    resnet18 as resnet18,
    with_state as with_state,
)
from ._transformer import (
    generate as generate,
    gpt as gpt,
    transformer_block as transformer_block,
    vit as vit,
)
from ._unet import double_conv as double_conv, unet as unet
from ._wiring import AddWithState as AddWithState, Regroup as Regroup
