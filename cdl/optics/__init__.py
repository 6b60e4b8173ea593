"""Learning as composition: lenses, derivatives, losses, optimisers, learners."""

from ._callbacks import (
    Callback as Callback,
    CSVLogger as CSVLogger,
    EarlyStopping as EarlyStopping,
    TensorBoardLogger as TensorBoardLogger,
)
from ._checkpoint import (
    Checkpoint as Checkpoint,
    CheckpointError as CheckpointError,
    check_directory as check_directory,
    has_checkpoint as has_checkpoint,
    load_checkpoint as load_checkpoint,
    save_checkpoint as save_checkpoint,
)
from ._data import (
    AbstractData as AbstractData,
    Arrays as Arrays,
    DataError as DataError,
    Graphs as Graphs,
    Trees as Trees,
    as_data as as_data,
)
from ._distributed import global_batch as global_batch, place_state as place_state
from ._fit import (
    FitResult as FitResult,
    NonFiniteLossError as NonFiniteLossError,
    TrainingInterrupted as TrainingInterrupted,
    check_data as check_data,
    fit as fit,
)
from ._learner import (
    Learner as Learner,
    TrainState as TrainState,
    data_parallel as data_parallel,
)
from ._lens import (
    AbstractLens as AbstractLens,
    ComposeLens as ComposeLens,
    IdentityLens as IdentityLens,
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
    LossShapeError as LossShapeError,
    Masked as Masked,
    MeanSquaredError as MeanSquaredError,
    SoftmaxCrossEntropy as SoftmaxCrossEntropy,
)
from ._meta import MetaLearner as MetaLearner, unroll as unroll
from ._metric import (
    AbstractMetric as AbstractMetric,
    Accuracy as Accuracy,
    accuracy as accuracy,
)
from ._optimiser import (
    SGD as SGD,
    AbstractOptimiser as AbstractOptimiser,
    AbstractScaledOptimiser as AbstractScaledOptimiser,
    AdaGrad as AdaGrad,
    Adam as Adam,
    AdamState as AdamState,
    Momentum as Momentum,
    Nesterov as Nesterov,
    OptaxOptimiser as OptaxOptimiser,
    RMSProp as RMSProp,
    ScheduleState as ScheduleState,
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
    TensorTangentMap as TensorTangentMap,
    forward_derivative as forward_derivative,
    reverse_derivative as reverse_derivative,
    split_parameters as split_parameters,
)
from ._save import load as load, save as save
from ._sharding import (
    FSDP as FSDP,
    AbstractParameterRule as AbstractParameterRule,
    ByFunction as ByFunction,
    ByPath as ByPath,
    by_path as by_path,
    fsdp as fsdp,
)
