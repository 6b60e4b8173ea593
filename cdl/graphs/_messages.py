"""Every user-facing error text of `cdl.graphs`, in one place."""


def length_mismatch(what: str, count: int, other: str, other_count: int) -> str:
    """Two arrays of a graph that must have one row per edge (or node) disagree."""
    return f"Graph has {count} {what} but {other_count} {other}; they must match."


def index_out_of_range(side: str, edge: int, node: int, num_nodes: int) -> str:
    """An edge names a node the graph does not have."""
    verb = "sends from" if side == "senders" else "receives at"
    return (
        f"Graph edge {edge} {verb} node {node}, but the graph has "
        f"{_counted(num_nodes, 'node')} (indices 0..{num_nodes - 1})."
    )


def index_out_of_range_traced(side: str, num_nodes: int) -> str:
    """An edge names a node the graph does not have, found under a transformation."""
    verb = "sends from" if side == "senders" else "receives at"
    return (
        f"Graph: an edge {verb} a node outside 0..{num_nodes - 1} (the graph has "
        f"{num_nodes} nodes); the indices were traced, so which edge is not known."
    )


def _counted(count: int, noun: str) -> str:
    """``"1 edge"``, ``"3 edges"``: `count` and `noun`, plural unless one."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _edges(count: int, kind: str = "") -> str:
    """``"1 edge"``, ``"3 edges"`` (``"1 padding edge"`` with `kind`)."""
    return _counted(count, f"{kind}edge")


def no_num_nodes(num_edges: int) -> str:
    """A graph with edges was given neither `num_nodes` nor node features."""
    return (
        f"Graph has {_edges(num_edges)} but no num_nodes and no node features to "
        f"count its nodes by: give num_nodes=... (or nodes=...)."
    )


def bad_empty(value: object, dtype: str) -> str:
    """`aggregate` was given an `empty` value its folded rows cannot hold."""
    return (
        f"aggregate: empty must be one number that the folded rows, of dtype "
        f"{dtype}, hold exactly, but was given {value!r}."
    )


def bad_graph_mask(dtype: object) -> str:
    """A graph mask that is not booleans (or ints 0 and 1)."""
    return (
        f"Graph graph_mask must be booleans, True for real graphs and False for "
        f"padding (or ints 0 and 1), but was given an array of {dtype}."
    )


def inexact_int_features(
    what: str, row: int, value: int, dtype: str, exact: int
) -> str:
    """An integer feature that the cast to floats would round to another number."""
    wider = ", or enable float64 (jax_enable_x64)" if dtype == "float32" else ""
    return (
        f"Graph {what} features are integers, read as {dtype}, which holds "
        f"integers exactly only up to {exact:,}, but row {row} holds {value:,}: "
        f"it would be read as another number. Scale the feature or split a large "
        f"id into smaller columns{wider}."
    )


def not_real_features(what: str, dtype: object) -> str:
    """A feature table of complex numbers, strings or objects."""
    hint = (
        "; a complex table would lose its imaginary part (pass its real and "
        "imaginary parts as columns)"
        if str(dtype).startswith("complex")
        else ""
    )
    return (
        f"Graph {what} features must be real numbers (float, int or bool), but "
        f"were given an array of {dtype}{hint}."
    )


def scalar_features(what: str, dtype: object) -> str:
    """A feature table given as one number."""
    return (
        f"Graph {what} features must be a table with one row per {what} (a vector "
        f"is one column), but were given a single {dtype} number."
    )


def bad_num_nodes(num_nodes: object) -> str:
    """`num_nodes` is not a whole number of nodes."""
    return (
        f"Graph num_nodes must be a whole number, 0 or more, but was given "
        f"{num_nodes!r}."
    )


def rows_mismatch(what: str, rows: int, expected: int, unit: str) -> str:
    """A feature table has the wrong number of rows."""
    return (
        f"Graph {what} features have {_counted(rows, 'row')}, but the graph has "
        f"{_counted(expected, unit.removesuffix('s'))}."
    )


def no_node_features(num_nodes: int) -> str:
    """`Graph.inputs` was called on a graph without node features."""
    return (
        f"Graph with {num_nodes} nodes has no node features: build it with "
        f"`nodes=...`, or call the layer on `(graph, features)` directly."
    )


def counts_mismatch(what: str, total: int, expected: int) -> str:
    """The per-graph counts of a batch do not add up to the table's size."""
    return (
        f"Graph per-graph {what} counts add up to {total}, but the table has "
        f"{expected} {what}."
    )


def negative_count(what: str, index: int, count: int) -> str:
    """A per-graph count is negative."""
    return f"Graph {index} of the batch has {count} {what}; counts must be >= 0."


def crossing_edge(edge: int, graph: int, first: int, last: int, node: int) -> str:
    """An edge of one graph of a batch touches a node of another graph."""
    return (
        f"Graph edge {edge} belongs to graph {graph} of the batch (nodes "
        f"{first}..{last}), but touches node {node} of another graph."
    )


def not_integer(what: str, dtype: object) -> str:
    """Edge indices must be integers."""
    return f"Graph {what} must be an integer array, not {dtype}."


def mixed_features(what: str) -> str:
    """Graphs batched together must all have, or all lack, a feature table."""
    return (
        f"cannot batch graphs where some have {what} features and others do not; "
        f"give every graph {what} features or none."
    )


def not_a_graph_in_batch(index: int, value: object) -> str:
    """`batch` was given something that is not a `Graph`."""
    hint = (
        " (a (graph, features) pair? batch the graphs; their nodes hold the features)"
        if isinstance(value, tuple)
        else ""
    )
    return (
        f"batch needs a sequence of cdl.graphs.Graph, but item {index} is a "
        f"{type(value).__name__}{hint}."
    )


def empty_batch() -> str:
    """`batch` was given no graph."""
    return "cannot batch an empty list of graphs; give at least one graph."


def bad_pad_size(name: str, value: object) -> str:
    """`pad` was given a size that is not a whole number >= 0."""
    return f"pad: {name} must be an int >= 0, but was given {value!r}."


def not_a_graph(owner: str, value: object) -> str:
    """A function on graphs was given something else."""
    return (
        f"{owner} needs a cdl.graphs.Graph, but was given {type(value).__name__}; "
        f"build one with Graph(...) or Graph.from_edge_list(...)."
    )


def bad_negative_slope(value: object) -> str:
    """`GraphAttention` was given a slope that is not a finite number."""
    return (
        f"GraphAttention: negative_slope must be a finite number (0.2 in GAT), but "
        f"was given {value!r}."
    )


def padding_too_small(what: str, have: int, asked: int) -> str:
    """`pad` was asked for a size below the graph's own."""
    return f"cannot pad a graph with {have} {what} to {asked} {what}; ask for more."


def padding_needs_node(num_edges: int) -> str:
    """Padding edges need a padding node to point at."""
    return (
        f"cannot add {_edges(num_edges, 'padding ')} without a padding node: ask "
        f"for more nodes than the graph has."
    )


def padding_needs_graph() -> str:
    """Padding nodes need a padding graph to belong to."""
    return (
        "cannot add padding nodes or edges without a padding graph: ask for more "
        "graphs than the batch has."
    )


def traced(what: str) -> str:
    """An operation that reads sizes was called under a transformation."""
    return f"{what} reads the sizes of the graphs and cannot run under jax.jit."


def node_rows(layer: str, num_nodes: int, shape: tuple[int, ...]) -> str:
    """A layer was given a node table without one row per node of its graph."""
    return (
        f"{layer} reads one row of node features per node, but the graph has "
        f"{num_nodes} nodes and the features have shape {shape}."
    )


def not_a_vector(what: str, shape: tuple[int, ...]) -> str:
    """Edge indices must be one-dimensional."""
    return f"Graph {what} must be a vector, one entry per edge, not of shape {shape}."


def not_a_permutation(num_nodes: int, given: object) -> str:
    """`Graph.permute` was given something other than a permutation of the nodes."""
    return (
        f"Graph.permute needs a permutation of the {num_nodes} nodes "
        f"(each of 0..{num_nodes - 1} once), but was given {given}."
    )


def permutation_across_graphs(new: int, graph: int, old: int, other: int) -> str:
    """`Graph.permute` of a batch would move a node from one graph to another."""
    return (
        f"Graph.permute: new node {new} of graph {graph} of the batch would be old "
        f"node {old} of graph {other}; in a batch, a permutation must map each "
        f"graph's nodes among themselves."
    )


def feature_widths(
    what: str, first: tuple[int, ...], index: int, other: tuple[int, ...]
) -> str:
    """Graphs batched together must have feature rows of one shape."""
    return (
        f"cannot batch graphs whose {what} features differ: graph 0 has rows of "
        f"shape {first}, graph {index} of shape {other}."
    )


def edge_width(layer: str, expected: int, given: int) -> str:
    """A layer's messages expect edge features of another width."""
    has = f"edge features of width {given}" if given else "no edge features"
    return (
        f"{layer} expects edge features of width {expected}, but the graph has {has}."
    )


def unsized(layer: str, part: str, space: object) -> str:
    """A message-passing layer needs its parts to act on vectors of known size."""
    return (
        f"{layer} needs its {part} map to act on vectors of known size, but its "
        f"{part} map has space {space!r}."
    )


def split_mismatch(layer: str, detail: str) -> str:
    """The message and update maps of a layer do not fit together."""
    return f"{layer}: the message and update maps do not fit together: {detail}."


def no_weights(layer: str) -> str:
    """Semiring propagation needs edge weights."""
    return (
        f"{layer} needs edge weights: build the graph with edge features "
        f"(one column per weight)."
    )


def pairs_not_integer(dtype: object) -> str:
    """`Graph.from_edge_list` was given pairs that are not node numbers."""
    return (
        f"Graph.from_edge_list needs (sender, receiver) pairs of node numbers "
        f"(integers), but was given {dtype} pairs."
    )


def not_pairs(shape: tuple[int, ...]) -> str:
    """`Graph.from_edge_list` was given something other than pairs."""
    return (
        f"Graph.from_edge_list needs (sender, receiver) pairs, an array of shape "
        f"(e, 2), but was given shape {shape}."
    )


def feature_not_numbers(where: str, name: str) -> str:
    """A networkx attribute read as features is not numbers."""
    return (
        f"Graph.from_networkx: {where}'s {name!r} is not a number or a sequence of "
        f"numbers."
    )


def feature_shapes(
    where: str, name: str, shape: object, first: str, first_shape: object
) -> str:
    """Networkx attributes read as features differ in shape."""
    return (
        f"Graph.from_networkx: {where}'s {name!r} has shape {shape}, where {first}'s "
        f"has {first_shape}: features must have one shape."
    )


def missing_attribute(where: str, name: str, present: list[str]) -> str:
    """A networkx node or edge lacks the attribute read as features."""
    return (
        f"Graph.from_networkx: {where} has no attribute {name!r} (it has "
        f"{present or 'none'})."
    )


def message_rows(shape: tuple[int, ...], num_edges: int) -> str:
    """`aggregate` was given messages without one row per edge."""
    return (
        f"aggregate needs one message per edge, but the graph has {_edges(num_edges)} "
        f"and the messages have shape {shape}."
    )


def not_a_monoid(value: object) -> str:
    """A semiring's sum is not one of the graphs package's monoids."""
    return (
        f"Semiring: plus must be a commutative monoid of cdl.graphs (Sum(), Min(), "
        f"Max(), Monoid(op, unit), ...), but was given {value!r}."
    )


def clrs_bad_graph(n: object, p: object) -> str:
    """`clrs.er_graph` was given no nodes or a probability outside [0, 1]."""
    return f"er_graph: expected n >= 1 and p in [0, 1], got n={n}, p={p!r}."


def clrs_bad_weights(shape: tuple[int, ...]) -> str:
    """`clrs.bellman_ford` was given weights that are not a square matrix."""
    return (
        f"bellman_ford: weights must be a square matrix [n, n] (0: no edge), "
        f"got shape {shape}."
    )


def clrs_weights_not_real(dtype: object) -> str:
    """`clrs.bellman_ford` was given weights that are not real numbers."""
    return (
        f"bellman_ford: weights must be real numbers (float, int or bool; 0: no "
        f"edge), got an array of {dtype}."
    )


def clrs_not_finite(i: int, j: int, value: float) -> str:
    """`clrs.bellman_ford` was given a NaN or infinite weight."""
    return (
        f"bellman_ford: weight [{i}, {j}] is {value}; weights must be finite "
        f"(0 marks a missing edge)."
    )


def clrs_bad_source(n: int, source: object) -> str:
    """`clrs.bellman_ford` was given a source that is not a node."""
    return f"bellman_ford: source must be a node in [0, {n}), got {source!r}."


def clrs_negative_cycle(source: int, nodes: list[int]) -> str:
    """Bellman-Ford still improves after n rounds: a negative cycle is reachable."""
    return (
        f"bellman_ford: a cycle of negative weight is reachable from source "
        f"{source} (distances of nodes {nodes} still fall after n rounds), so "
        f"there are no shortest paths."
    )


def clrs_bad_sample(count: object, p: object) -> str:
    """`clrs.sample` was given no graphs or no edge probabilities."""
    return (
        f"sample: expected count >= 1 and a tuple of at least one p (e.g. TRAIN_P "
        f"or (0.5,)), got count={count}, p={p!r}."
    )


def clrs_bad_sample_graphs(nodes: object, p: object) -> str:
    """`clrs.sample` was given no nodes or a probability outside [0, 1]."""
    return (
        f"sample: expected nodes >= 1 and every p in [0, 1], got nodes={nodes}, "
        f"p={p!r}."
    )


def clrs_shapes(
    predicted: tuple[int, ...], pointers: tuple[int, ...], *, scores: bool = False
) -> str:
    """`clrs.pointer_accuracy` was given arrays of different shapes."""
    hint = (
        ": these look like scores over the candidates; predict the pointers "
        "with their argmax over the last axis"
        if scores
        else ""
    )
    return (
        f"pointer_accuracy: predicted shape {predicted} != pointers shape "
        f"{pointers}{hint}."
    )


def clrs_not_nodes(name: str, held: str) -> str:
    """`clrs.pointer_accuracy` was given pointers that are not node indices."""
    return (
        f"pointer_accuracy: {name} must be node indices (whole numbers), but "
        f"hold {held}; predict the pointers with the argmax over the candidates."
    )


def clrs_not_a_node(name: str, value: object, nodes: int) -> str:
    """`clrs.pointer_accuracy` was given a pointer to a node the graphs lack."""
    return (
        f"pointer_accuracy: {name} must be node indices in [0, {nodes}) (the last "
        f"axis has one entry per node), but hold {value!r}."
    )


def segment_rows(logits: tuple[int, ...], segments: tuple[int, ...]) -> str:
    """`segment_softmax` was given logits and segment ids of different lengths."""
    return (
        f"segment_softmax needs one segment id per row of logits, but the logits "
        f"have shape {logits} and the segment ids {segments}."
    )


def bool_messages(monoid: str) -> str:
    """`aggregate` of bool messages by a monoid of arithmetic."""
    return (
        f"aggregate: cannot take the {monoid} of bool messages (JAX neither adds "
        f"nor multiplies bools); cast them (messages.astype(jnp.int32) counts the "
        f"True ones), or fold them with Max() (any) or Min() (all)."
    )


def not_an_array(owner: str, name: str, value: object) -> str:
    """`owner` was given a list (or another non-array) for `name`."""
    return (
        f"{owner}: {name} must be an array, but was given "
        f"{type(value).__name__} {value!r:.60}; pass jnp.asarray({name})."
    )


def bad_segment_count(count: object) -> str:
    """`segment_softmax` was given a number of segments that is not an int >= 0."""
    return (
        f"segment_softmax: num_segments must be a whole number >= 0 (the number "
        f"of nodes), but was given {count!r}."
    )


def segment_ids_not_ints(dtype: object) -> str:
    """`segment_softmax` was given segment ids that are not integers."""
    return (
        f"segment_softmax: segment_ids must be integers (the receiver of each "
        f"edge), but have dtype {dtype}."
    )


def segment_outside(row: int, segment: int, count: int) -> str:
    """`segment_softmax` was given a segment id outside ``0..count-1``."""
    return (
        f"segment_softmax: row {row} has segment id {segment}, outside 0..{count - 1} "
        f"({count} segments), so it belongs to no segment."
    )


def clrs_bad_seed(seed: object) -> str:
    """`clrs.sample` was given a seed NumPy cannot take."""
    return (
        f"sample: seed must be an int >= 0 (or a NumPy generator), got "
        f"{type(seed).__name__} {seed!r}."
    )


def clrs_nothing_to_score() -> str:
    """`clrs.pointer_accuracy` was given no pointers."""
    return "pointer_accuracy: there are no pointers to score (shape has a 0)."


_AGGREGATORS = {
    "sum": "Sum",
    "add": "Sum",
    "mean": "Mean",
    "max": "Max",
    "min": "Min",
    "product": "Product",
    "prod": "Product",
    "mul": "Product",
    "logsumexp": "LogSumExp",
}


def not_an_aggregator(owner: str, value: object) -> str:
    """An aggregation given as a string, a class or a function instead of a value."""
    fix = "cdl.graphs.Sum(), Mean(), Max(), Min(), Product() or LogSumExp()"
    if isinstance(value, str):
        name = _AGGREGATORS.get(value.lower().replace("_", ""))
        if name is not None:
            fix = f"cdl.graphs.{name}()"
        given = f"the string {value!r}"
    elif isinstance(value, type):
        fix = f"cdl.graphs.{value.__name__}(), an instance"
        given = f"the class {value.__name__}"
    elif callable(value):
        name = getattr(value, "__name__", type(value).__name__)
        fix += ", or cdl.graphs.Monoid(operation, unit) for another monoid"
        given = f"the function {name}"
    else:
        given = f"{value!r}"
    return f"{owner}: aggregate must be an aggregator such as {fix}, not {given}."


def not_a_semiring(value: object) -> str:
    """`Propagate` was given something other than a `Semiring`."""
    return (
        f"Propagate needs a cdl.graphs.Semiring such as MIN_PLUS, MAX_PLUS, "
        f"MAX_TIMES, REAL or LOG, not {value!r}."
    )


def not_a_morphism(owner: str, f: object) -> str:
    """A graph layer was given a plain function where it needs a cdl morphism."""
    name = getattr(f, "__name__", type(f).__name__)
    return (
        f"{owner} needs a cdl morphism (a cdl.Para, e.g. cdl.Relu() or "
        f"cdl.Linear(...)), not {name}: lift a function with its spaces, "
        f"cdl.lift(fn, dom=..., cod=...)."
    )


def not_a_unit(owner: str, name: str, value: object) -> str:
    """A Monoid or Semiring was given a unit that is not one real number."""
    return (
        f"{owner} {name!r}: the unit must be one real number (the identity of the "
        f"operation, e.g. 0 for addition), but was given "
        f"{type(value).__name__} {value!r}."
    )


def not_an_operation(owner: str, value: object) -> str:
    """An operation of a monoid or semiring given as something not callable."""
    return (
        f"{owner} needs an elementwise function of two arrays (e.g. jnp.maximum, "
        f"jnp.add), but was given {type(value).__name__} {value!r}."
    )


def not_a_monoid_law(name: str, equation: str, values: str) -> str:
    """A `Monoid`'s operation breaks a law of commutative monoids."""
    return (
        f"Monoid {name!r}: its operation is not a commutative monoid with this unit: "
        f"{equation} fails (at {values}), so a fold would depend on the order of "
        f"the edges; give an associative, commutative operation and its identity."
    )


def graph_inputs_with_nodes() -> str:
    """Inputs of a `GraphAction` whose graphs carry their node features."""
    return (
        "The graphs hold node features of their own besides the pair's features: "
        "pass (graph.with_nodes(None), features), as a point of the action is."
    )


def not_networkx(value: object) -> str:
    """`Graph.from_networkx` was given something other than a networkx graph."""
    return (
        f"Graph.from_networkx needs a networkx graph, but was given "
        f"{type(value).__name__}; for a list of (sender, receiver) pairs use "
        f"Graph.from_edge_list(pairs, num_nodes)."
    )


def clrs_not_a_generator(rng: object) -> str:
    """`clrs.er_graph` was given something other than a NumPy generator."""
    return (
        f"er_graph: rng must be a NumPy generator, np.random.default_rng(seed), but "
        f"was given {type(rng).__name__} {rng!r}."
    )


def bad_graph_monoid(num_nodes: int, monoid: object) -> str:
    """`GraphAction` was given a monoid that does not renumber its nodes."""
    if not hasattr(monoid, "is_group"):
        given = f"a {type(monoid).__name__}"
    elif getattr(monoid, "size", None) != num_nodes:
        given = f"{monoid!r}, which acts on {getattr(monoid, 'size', '?')} points"
    else:
        given = f"{monoid!r}, which is not a group (it writes zeros or merges nodes)"
    return (
        f"GraphAction renumbers the {num_nodes} nodes of a graph, so its monoid must "
        f"be a group of permutations of {num_nodes} points (a subgroup of S_"
        f"{num_nodes}, e.g. cdl.Monoid.cyclic({num_nodes})), but was given {given}."
    )


def listed_both_ways(a: int, b: int) -> str:
    """Text of the error raised for an undirected edge list holding both directions."""
    return (
        f"Graph.from_edge_list(..., undirected=True): the edge {a}-{b} is listed both "
        f"as ({a}, {b}) and as ({b}, {a}); undirected=True adds each edge's reverse "
        f"itself, so it would be two edges each way. List each edge once, or pass "
        f"undirected=False for a list that already holds both directions."
    )
