"""Learning as composition: lenses, derivatives, losses, optimisers, learners."""

from ._checkpoint import (
    Checkpoint as Checkpoint,
    has_checkpoint as has_checkpoint,
    load_checkpoint as load_checkpoint,
    save_checkpoint as save_checkpoint,
)
from ._fit import (
    DataError as DataError,
    FitResult as FitResult,
    check_data as check_data,
    fit as fit,
)
from ._learner import (
    Learner as Learner,
    TrainState as TrainState,
    accuracy as accuracy,
    data_parallel as data_parallel,
)
from ._lens import (
    AbstractLens as AbstractLens,
    ComposeLens as ComposeLens,
    Lens as Lens,
    TensorLens as TensorLens,
    at as at,
    first as first,
    second as second,
)
from ._loss import (
    AbstractLoss as AbstractLoss,
    AdversarialCost as AdversarialCost,
    BinaryCrossEntropy as BinaryCrossEntropy,
    MeanSquaredError as MeanSquaredError,
    SoftmaxCrossEntropy as SoftmaxCrossEntropy,
)
from ._meta import MetaLearner as MetaLearner, unroll as unroll
from ._optimiser import (
    SGD as SGD,
    AbstractOptimiser as AbstractOptimiser,
    AdaGrad as AdaGrad,
    Adam as Adam,
    AdamState as AdamState,
    Momentum as Momentum,
    Nesterov as Nesterov,
    OptaxOptimiser as OptaxOptimiser,
    RMSProp as RMSProp,
    from_optax as from_optax,
)
from ._para_lens import (
    AbstractParaLens as AbstractParaLens,
    AbstractTangentMap as AbstractTangentMap,
    ComposeParaLens as ComposeParaLens,
    ComposeTangentMap as ComposeTangentMap,
    ForwardDerivative as ForwardDerivative,
    ReverseDerivative as ReverseDerivative,
    TensorParaLens as TensorParaLens,
    forward_derivative as forward_derivative,
    reverse_derivative as reverse_derivative,
    split_parameters as split_parameters,
)
