"""Recursion schemes over polynomial functors, lowered to `jax.lax.scan`."""

from ._automata import (
    DecoderCell as DecoderCell,
    FiniteMealyCell as FiniteMealyCell,
    Mealy as Mealy,
    Moore as Moore,
    encoder_decoder as encoder_decoder,
    unfold as unfold,
)
from ._brackets import bracket_table as bracket_table, read_brackets as read_brackets
from ._cata import cata as cata
from ._cells import (
    ElmanCell as ElmanCell,
    GRUCell as GRUCell,
    LSTMCell as LSTMCell,
    TreeLSTMCell as TreeLSTMCell,
    TreeRNNCell as TreeRNNCell,
)
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
from ._hoist import (
    chrono as chrono,
    hoist as hoist,
    postpro as postpro,
    prepro as prepro,
)
from ._list import (
    ListAlgebra as ListAlgebra,
    ListCoalgebra as ListCoalgebra,
    PaddedList as PaddedList,
    Suffix as Suffix,
    batch_lists as batch_lists,
    foldl as foldl,
)
from ._monadic import cataM as cataM
from ._natural import Natural as Natural, Slot as Slot, choose as choose
from ._plain import Case as Case, Function as Function
from ._shortcut import coelgot as coelgot, dyna as dyna, elgot as elgot
from ._tree import (
    Algebra as Algebra,
    NodeTable as NodeTable,
    Rows as Rows,
    Subtree as Subtree,
    tree_table as tree_table,
)
from ._tree_folds import (
    History as History,
    histo as histo,
    mutu as mutu,
    para as para,
    upwards as upwards,
    zygo as zygo,
)
from ._unfold import (
    Coalgebra as Coalgebra,
    Unfolded as Unfolded,
    ana as ana,
    apo as apo,
    futu as futu,
    hylo as hylo,
)
