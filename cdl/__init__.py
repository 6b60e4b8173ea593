"""cdl: categorical deep learning on JAX.

Architectures are morphisms of the category Para, built from typed layers with
``>>`` (sequential) and ``@`` (parallel) composition.
"""

from ._para import (
    Compose as Compose,
)
from ._para import (
    CompositionError as CompositionError,
)
from ._para import (
    Para as Para,
)
from ._para import (
    SpaceError as SpaceError,
)
from ._para import (
    Tensor as Tensor,
)
from ._reparam import (
    Reparam as Reparam,
)
from ._reparam import (
    freeze as freeze,
)
from ._reparam import (
    parameters as parameters,
)
from ._reparam import (
    reparam as reparam,
)
from ._reparam import (
    repeat as repeat,
)
from ._reparam import (
    tie as tie,
)
from ._space import (
    ProductSpace as ProductSpace,
)
from ._space import (
    Space as Space,
)
from ._space import (
    SpaceVar as SpaceVar,
)
from ._space import (
    TensorSpace as TensorSpace,
)
from ._space import (
    space_of as space_of,
)
from ._structure import (
    Add as Add,
)
from ._structure import (
    Copy as Copy,
)
from ._structure import (
    Discard as Discard,
)
from ._structure import (
    Fst as Fst,
)
from ._structure import (
    Identity as Identity,
)
from ._structure import (
    Snd as Snd,
)
from ._structure import (
    Swap as Swap,
)
from .nn import (
    Bias as Bias,
)
from .nn import (
    Concat as Concat,
)
from .nn import (
    Conv1d as Conv1d,
)
from .nn import (
    Conv2d as Conv2d,
)
from .nn import (
    Dropout as Dropout,
)
from .nn import (
    Embedding as Embedding,
)
from .nn import (
    Flatten as Flatten,
)
from .nn import (
    Gelu as Gelu,
)
from .nn import (
    LayerNorm as LayerNorm,
)
from .nn import (
    Linear as Linear,
)
from .nn import (
    LogSoftmax as LogSoftmax,
)
from .nn import (
    Relu as Relu,
)
from .nn import (
    Reshape as Reshape,
)
from .nn import (
    Sigmoid as Sigmoid,
)
from .nn import (
    Softmax as Softmax,
)
from .nn import (
    Tanh as Tanh,
)
from .nn import (
    inference_mode as inference_mode,
)
from . import graphs as graphs
from .graphs import (
    CoKleisli as CoKleisli,
    Graph as Graph,
    GraphAction as GraphAction,
    GraphAttention as GraphAttention,
    GraphConv as GraphConv,
    GraphError as GraphError,
    MessagePassing as MessagePassing,
    OnNodes as OnNodes,
    Propagate as Propagate,
    Readout as Readout,
)
from .schemes import (
    Algebra as Algebra,
    Constructor as Constructor,
    DecoderCell as DecoderCell,
    ElmanCell as ElmanCell,
    FiniteMealyCell as FiniteMealyCell,
    Functor as Functor,
    GRUCell as GRUCell,
    Layer as Layer,
    ListAlgebra as ListAlgebra,
    ListCoalgebra as ListCoalgebra,
    ListF as ListF,
    LSTMCell as LSTMCell,
    Mealy as Mealy,
    MealyF as MealyF,
    Moore as Moore,
    MooreF as MooreF,
    NatF as NatF,
    NodeTable as NodeTable,
    NonEmptyF as NonEmptyF,
    PaddedList as PaddedList,
    RoseF as RoseF,
    StreamF as StreamF,
    Suffix as Suffix,
    TreeF as TreeF,
    TreeLSTMCell as TreeLSTMCell,
    TreeRNNCell as TreeRNNCell,
    ana as ana,
    apo as apo,
    batch_lists as batch_lists,
    cata as cata,
    encoder_decoder as encoder_decoder,
    foldl as foldl,
    futu as futu,
    histo as histo,
    hylo as hylo,
    mutu as mutu,
    para as para,
    polynomial as polynomial,
    tree_table as tree_table,
    unfold as unfold,
    zygo as zygo,
)
from . import optics as optics
from .optics import (
    SGD as SGD,
    AbstractLens as AbstractLens,
    AbstractLoss as AbstractLoss,
    AbstractOptimiser as AbstractOptimiser,
    AbstractParaLens as AbstractParaLens,
    AbstractTangentMap as AbstractTangentMap,
    AdaGrad as AdaGrad,
    Adam as Adam,
    AdversarialCost as AdversarialCost,
    BinaryCrossEntropy as BinaryCrossEntropy,
    DataError as DataError,
    FitResult as FitResult,
    Learner as Learner,
    Lens as Lens,
    MeanSquaredError as MeanSquaredError,
    MetaLearner as MetaLearner,
    Momentum as Momentum,
    Nesterov as Nesterov,
    RMSProp as RMSProp,
    SoftmaxCrossEntropy as SoftmaxCrossEntropy,
    TrainState as TrainState,
    accuracy as accuracy,
    data_parallel as data_parallel,
    fit as fit,
    forward_derivative as forward_derivative,
    from_optax as from_optax,
    load_checkpoint as load_checkpoint,
    reverse_derivative as reverse_derivative,
    save_checkpoint as save_checkpoint,
)
from .draw import (
    Diagram as Diagram,
    draw as draw,
)
from .equivariance import (
    AbstractAction as AbstractAction,
    Basis as Basis,
    DirectSum as DirectSum,
    EquivariantLinear as EquivariantLinear,
    IndexAction as IndexAction,
    MatrixAction as MatrixAction,
    Monoid as Monoid,
    Pointwise as Pointwise,
    Pool as Pool,
    assert_equivariant as assert_equivariant,
    check_action as check_action,
    equivariance_error as equivariance_error,
    equivariant_basis as equivariant_basis,
    equivariant_mlp as equivariant_mlp,
    image_action as image_action,
    invariant_basis as invariant_basis,
    is_equivariant as is_equivariant,
    permutation_action as permutation_action,
    signal_action as signal_action,
    trivial_action as trivial_action,
)
