"""Recursion schemes over polynomial functors, lowered to `jax.lax.scan`."""

from ._cata import cata as cata
from ._cells import ElmanCell as ElmanCell
from ._cells import GRUCell as GRUCell
from ._cells import LSTMCell as LSTMCell
from ._list import ListAlgebra as ListAlgebra
from ._list import ListCoalgebra as ListCoalgebra
from ._list import PaddedList as PaddedList
from ._list import Suffix as Suffix
from ._list import ana as ana
from ._list import apo as apo
from ._list import batch_lists as batch_lists
from ._list import foldl as foldl
from ._list import futu as futu
from ._list import histo as histo
from ._list import hylo as hylo
from ._list import mutu as mutu
from ._list import para as para
from ._list import zygo as zygo
