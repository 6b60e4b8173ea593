"""Recursion schemes over polynomial functors, lowered to `jax.lax.scan`."""

from ._automata import (
    DecoderCell as DecoderCell,
    FiniteMealyCell as FiniteMealyCell,
    Mealy as Mealy,
    Moore as Moore,
)
from ._brackets import bracket_table as bracket_table, read_brackets as read_brackets
from ._cells import (
    ChildSumTreeLSTMCell as ChildSumTreeLSTMCell,
    ElmanCell as ElmanCell,
    GRUCell as GRUCell,
    LSTMCell as LSTMCell,
    TreeLSTMCell as TreeLSTMCell,
    TreeRNNCell as TreeRNNCell,
)
from ._envelope import Envelope as Envelope, Envelopes as Envelopes
from ._functor import (
    Constructor as Constructor,
    Functor as Functor,
    Layer as Layer,
    ListF as ListF,
    MealyF as MealyF,
    MooreF as MooreF,
    NatF as NatF,
    NonEmptyF as NonEmptyF,
    RoseF as RoseF,
    StreamF as StreamF,
    TreeF as TreeF,
    pattern as pattern,
    polynomial as polynomial,
)
from ._generalised import (
    Codistributive as Codistributive,
    Distributive as Distributive,
    dist_ana as dist_ana,
    dist_apo as dist_apo,
    dist_cata as dist_cata,
    dist_futu as dist_futu,
    dist_histo as dist_histo,
    dist_para as dist_para,
    dist_zygo as dist_zygo,
    gana as gana,
    gcata as gcata,
    ghylo as ghylo,
)
from ._list import (
    ListAlgebra as ListAlgebra,
    ListCoalgebra as ListCoalgebra,
    PaddedList as PaddedList,
    Suffix as Suffix,
    batch_lists as batch_lists,
    foldl as foldl,
)
from ._natural import Natural as Natural, Slot as Slot, choose as choose
from ._plain import Case as Case, Function as Function
from ._schemes import (
    ana as ana,
    apo as apo,
    cata as cata,
    cataM as cataM,
    chrono as chrono,
    coelgot as coelgot,
    dyna as dyna,
    elgot as elgot,
    encoder_decoder as encoder_decoder,
    futu as futu,
    histo as histo,
    hoist as hoist,
    hylo as hylo,
    mutu as mutu,
    para as para,
    postpro as postpro,
    prepro as prepro,
    unfold as unfold,
    upwards as upwards,
    zygo as zygo,
)
from ._tree import (
    Algebra as Algebra,
    NodeTable as NodeTable,
    Rows as Rows,
    Subtree as Subtree,
    tree_table as tree_table,
)
from ._tree_folds import History as History
from ._tree_unfolds import Coalgebra as Coalgebra, Unfolded as Unfolded
