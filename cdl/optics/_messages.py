"""Every user-facing error text of `cdl.optics`, in one place."""

import pathlib
from collections.abc import Mapping
from typing import Final

from .._messages import first_difference, shown, with_article


def subject(name: str, validation: bool = False) -> str:
    """Whose data an error is about: ``fit(model)``, or its validation data."""
    name = shown(name)
    return f"fit({name}), validation data" if validation else f"fit({name})"


def in_validation(name: str, why: str) -> str:
    """Text of the error raised when the validation data cannot be read."""
    return f"{subject(name, True)}: {why}"


def bad_validation(name: str, given: object) -> str:
    """Text of the error raised for `validation` neither a pair nor a dataset."""
    return (
        f"{subject(name, True)}: give `validation` as a pair (xs, ys) or as a "
        f"dataset (Arrays, Graphs, Trees), not {type(given).__name__}."
    )


def empty_dataset(at: str) -> str:
    """Text of the error raised when a dataset has no examples."""
    return f"{at}: the dataset is empty: give at least one example."


def length_mismatch(at: str, inputs: int, labels: int) -> str:
    """Text of the error raised when inputs and labels differ in number."""
    return (
        f"{at}: {inputs} inputs but {labels} labels: "
        f"inputs and labels must have the same leading axis."
    )


def bad_batch_size(at: str, batch_size: int, examples: int) -> str:
    """Text of the error raised for a batch size the data cannot fill."""
    return (
        f"{at}: batch size {batch_size} does not fit {examples} examples: "
        f"use a batch size between 1 and {examples}."
    )


def not_finite(at: str, which: str, count: int, index: int) -> str:
    """Text of the error raised when inputs or labels hold NaN or infinity."""
    return (
        f"{at}: the {which} hold {count} NaN or infinite "
        f"value(s), the first in example {index}: clean the data before training."
    )


def bad_inputs(at: str, expected: object, given: object, why: str) -> str:
    """Text of the error raised when examples are outside the model's domain."""
    return (
        f"{at}: each input must lie in {expected!r}, the model's domain, "
        f"but the examples are {given!r} ({why})."
    )


MOVE_DATASET_CHANNELS_FIRST: Final = (
    " For the whole array of examples the channels move to axis 1: "
    "`xs = jnp.moveaxis(xs, -1, 1)`."
)


def state_not_given(where: str) -> str:
    """What to add when a model with state is trained without its state."""
    return (
        f" The model keeps state (its StateIndex at {where}): build it with "
        f"`model, state = equinox.nn.make_with_state(build)()` and pass "
        f"`fit(..., model_state=state)`."
    )


def not_stacked(name: str, dom: object, given: object, rank: int) -> str:
    """Text of the error raised when `unroll` is given batches that are not stacked."""
    return (
        f"unroll({shown(name)}): the inputs are batches stacked as (steps, batch, "
        f"...), for a model of {dom!r} arrays of rank {rank}, but were given "
        f"{given!r}: stack the batches, xs.reshape(steps, batch_size, ...)."
    )


def state_without_stateful_model(name: str) -> str:
    """Text of the error raised for a model state given beside a model without one."""
    return (
        f"fit({shown(name)}): a model state was given (model_state=, or a "
        f"TrainState holding one), but the model keeps no state (it holds no "
        f"equinox.nn.StateIndex, as cdl.BatchNorm does): leave model_state out."
    )


def batch_outside_domain(at: str, kind: str, why: str) -> str:
    """Text of the error raised when a batch of a dataset does not fit the model."""
    return f"{at}: a batch of the {kind} does not fit the model: {why}"


def bad_labels(at: str, labels: object, outputs: object, why: str) -> str:
    """Text of the error raised when the loss cannot compare labels and outputs."""
    return (
        f"{at}: the loss cannot take labels {labels} against model outputs "
        f"{outputs}: {why}"
    )


def label_out_of_range(at: str, label: int, index: int, classes: int) -> str:
    """Text of the error raised when a class label names no output of the model."""
    return (
        f"{at}: label {label} of example {index} is not a class of the "
        f"model's {classes} outputs: labels must lie in 0..{classes - 1}."
    )


def labels_past_classes(loss: str, classes: int) -> str:
    """Text of the error raised (as the program runs) for a label that is no class."""
    return (
        f"{loss}: a label is not a class of the {classes} logits: labels must lie "
        f"in 0..{classes - 1}."
    )


def label_outside_unit(at: str, index: int, value: float) -> str:
    """Text of the error raised when a binary target lies outside [0, 1]."""
    return (
        f"{at}: label {value:.6g} of example {index} is outside [0, 1]: give targets "
        f"between 0 and 1 (map classes -1/1 to 0/1)."
    )


def indivisible_batch(at: str, batch_size: int, devices: int) -> str:
    """Text of the error raised when a batch cannot be split across devices."""
    return (
        f"{at}: batch size {batch_size} cannot be split evenly across "
        f"{devices} devices: use a multiple of {devices}."
    )


def start_mismatch(name: str, what: str, path: str, expected: str, given: str) -> str:
    """Text of the error raised when `fit` starts from a model unlike the learner's."""
    name = shown(name)
    return (
        f"fit({name}): {what} differs from the learner's model at {path}: the "
        f"learner has {expected} there, {what} {given}. Start from the model the "
        f"learner was built from (or one built alike), or build the learner "
        f"around this model."
    )


def nothing_to_train(name: str, frozen: int) -> str:
    """Text of the error raised when `fit` is given a model without parameters."""
    if frozen:
        why = f"all {frozen} of its parameter arrays are frozen (cdl.freeze)"
        hint = (
            "Freeze only the layers meant to stay fixed, and leave the part to "
            "train as it is"
        )
    else:
        why = "it has no parameters"
        hint = "Give it a layer with weights (cdl.Linear, …)"
    return (
        f"fit({shown(name)}): the model has nothing to train: {why}, so every "
        f"step would leave it as it is. {hint}, or run the model without fit."
    )


def checkpoint_mismatch(path: object, why: str) -> str:
    """Text of the error raised when a checkpoint does not fit the learner."""
    return (
        f"checkpoint {path} does not match this learner and model ({why}): "
        f"delete it or point `checkpoint=` at a fresh directory."
    )


def optimiser_state_changed() -> str:
    """Why a checkpoint whose parameters fit does not: the optimiser's state."""
    return (
        "; its parameters fit, so the optimiser's state is laid out otherwise:"
        " the optimiser changed (a schedule given or taken away, another optax"
        " chain, other parameters frozen or trained)"
    )


def checkpoint_other_run(
    path: object,
    saved: Mapping[str, str],
    given: Mapping[str, str],
    why: str | None,
) -> str:
    """Text of the error raised when a checkpoint was written by another run."""

    def run(r: Mapping[str, str]) -> str:
        return f"{shown(str(r.get('model')))} with {r.get('optimiser')}"

    models = first_difference(str(saved.get("model")), str(given.get("model")))
    detail = "; ".join(
        part for part in (f"the models' {models}" if models else "", why) if part
    )
    detail = f" ({detail})" if detail else ""
    return (
        f"checkpoint {path} does not match this learner and model: it was written "
        f"by a run training {run(saved)}, and this one trains {run(given)}{detail}; "
        f"resuming would load its parameters and optimiser state into another "
        f"model or optimiser. Resume with the model and optimiser that wrote it, or "
        f"point `checkpoint=` at a fresh directory (to start from its parameters on "
        f"purpose, read them with `load_checkpoint(directory, "
        f"old_learner.init(old_model))`)."
    )


def unknown_key_impl(path: object, impl: str) -> str:
    """Text of the error raised when a checkpoint's key has an unknown PRNG."""
    return (
        f"checkpoint {path} holds a key of the PRNG implementation {impl!r}, "
        f"which this JAX does not know: resume with the JAX version (and any "
        f"registered PRNG implementation) that wrote it."
    )


def checkpoint_leaf(where: str, expected: str, given: str, theirs: str) -> str:
    """Why a checkpoint or model file does not fit: one of its arrays differs."""
    return f"it holds {given} at {where} where {theirs} {expected}"


def leaf_only_saved(where: str, given: str, theirs: str) -> str:
    """Why a file does not fit: it holds an array the model no longer has."""
    return f"it holds {given} at {where}, which {theirs} not"


def leaf_only_given(where: str, expected: str, theirs: str) -> str:
    """Why a file does not fit: the model has an array the file does not hold."""
    return f"{theirs} {expected} at {where}, which it does not hold"


def x64_hint(expected: str, given: str) -> str:
    """What to add when a file's array differs from the model's in bits only."""
    wide = {"float32": "float64", "int32": "int64", "uint32": "uint64"}
    if wide.get(expected) == given:
        return " (it was written with jax_enable_x64 on, and this process has it off)"
    if wide.get(given) == expected:
        return " (it was written with jax_enable_x64 off, and this process has it on)"
    return ""


def checkpoint_ends(where: str) -> str:
    """Why a checkpoint or model file does not fit: its arrays end too soon."""
    return f"its arrays end before {where}: it was saved from a smaller model"


def checkpoint_longer(left: int) -> str:
    """Why a checkpoint or model file does not fit: arrays are left over."""
    return f"{left} bytes of arrays are left over: it was saved from a larger model"


def checkpoint_unwritable(path: object, why: str) -> str:
    """Text of the error raised when checkpoints cannot be written to a directory."""
    return (
        f"checkpoint directory {path} cannot hold checkpoints ({why}): "
        f"point `checkpoint=` at a writable directory."
    )


def checkpoint_in_use(path: object, holder: str) -> str:
    """Text of the error raised for a checkpoint directory another run writes to."""
    return (
        f"checkpoint directory {path} is in use by another run ({holder}): two "
        f"runs saving there would remove each other's checkpoints, and a resume "
        f"would read either's. Wait for that run to end, or point `checkpoint=` "
        f"at another directory."
    )


def checkpoint_damaged(path: object, why: str, aside: object) -> str:
    """Text of the line printed when a checkpoint file fails its check."""
    return f"checkpoint {path} is damaged ({why}); kept as {aside}"


def checkpoint_unreadable(path: object, why: str) -> str:
    """Text of the error raised when a checkpoint's name holds nothing readable."""
    return (
        f"checkpoint {path} cannot be read ({why}): move it out of the directory, "
        "or point `checkpoint=` at a fresh one."
    )


def checkpoint_not_a_state(what: str, value: object) -> str:
    """Text of the error raised when a checkpoint function gets no TrainState."""
    return (
        f"{what}: expected a TrainState (learner.init(model), or fit(...).state), "
        f"not {type(value).__name__}."
    )


def checkpoint_bad_key(key: object) -> str:
    """Text of the error raised when `save_checkpoint` gets no PRNG key."""
    shown = repr(key) if isinstance(key, int | float | str) else type(key).__name__
    return (
        f"save_checkpoint: `key` must be a PRNG key such as jax.random.key(0), "
        f"not {shown}."
    )


def checkpoint_bad_count(what: str, value: object, least: int) -> str:
    """Text of the error raised for a bad `epoch` or `keep` of `save_checkpoint`."""
    return f"save_checkpoint: `{what}` must be an int >= {least}, not {value!r}."


def checkpoint_bad_history(name: object, values: object) -> str:
    """Text of the error raised for a history that is not lists of numbers."""
    return (
        f"save_checkpoint: history[{name!r}] must be a list of numbers (one per "
        f"epoch), not {type(values).__name__} {values!r}."
    )


def nothing_to_load(path: object, is_file: bool) -> str:
    """Text of the error raised when `load_checkpoint` finds no checkpoint file."""
    if is_file:
        return (
            f"load_checkpoint: {path} is a file: give the directory that holds "
            f"the epoch-*.ckpt files (fit's checkpoint=)."
        )
    return f"load_checkpoint: {path} holds no checkpoint (no epoch-*.ckpt file)."


def no_intact_checkpoint(path: object, damaged: list[str]) -> str:
    """Text of the error raised when no checkpoint of a directory is intact."""
    return (
        f"no intact checkpoint in {path}: "
        + "; ".join(damaged)
        + ". Delete the directory to start afresh."
    )


def only_damaged_checkpoints(path: object, aside: list[pathlib.Path]) -> str:
    """Text of the error raised when a directory holds only damaged checkpoints."""
    names = ", ".join(p.name for p in aside)
    return (
        f"no intact checkpoint in {path}: it holds only checkpoints set aside as "
        f"damaged ({names}). Delete them (or the directory) to start afresh."
    )


def loss_shapes(loss: str, labels: str, predictions: str, shape: object) -> str:
    """Text of the error raised when labels and predictions differ in shape."""
    return (
        f"{loss}: labels {labels} and predictions {predictions} differ in shape: "
        f"give labels of shape {shape}."
    )


def class_labels_shape(loss: str, labels: str, predictions: str, shape: object) -> str:
    """Text of the error raised when class labels do not match the logits."""
    return (
        f"{loss}: labels {labels} do not fit logits {predictions}: "
        f"give integer labels of shape {shape}, one class per row of logits."
    )


def loss_without_batch(
    loss: str, labels: str, predictions: str, batch_labels: object, batch: object
) -> str:
    """Text of the error raised when a loss is given one example, not a batch."""
    return (
        f"{loss}: labels {labels} and predictions {predictions} have no batch axis: "
        f"a loss averages over the leading axis of a batch; give one example as a "
        f"batch of one, labels of shape {batch_labels} and predictions of shape "
        f"{batch} (`x[None]`)."
    )


def logits_without_classes(loss: str, labels: str, predictions: str) -> str:
    """Text of the error raised when logits have no axis of classes."""
    return (
        f"{loss}: logits {predictions} have no class axis for labels {labels}: "
        f"give logits of shape (batch, classes) and integer labels of shape (batch,)."
    )


def labels_not_integer(loss: str, labels: str) -> str:
    """Text of the error raised when class labels are not integers."""
    return f"{loss}: labels {labels} must be integer class indices."


def bad_count(name: str, what: str, value: object) -> str:
    """Text of the error raised for a count argument of `fit` that is not >= 1."""
    name = shown(name)
    return f"fit({name}): `{what}` must be a positive int, not {value!r}."


def bad_on_nonfinite(name: str, value: object) -> str:
    """Text of the error raised for an unknown `on_nonfinite`."""
    name = shown(name)
    return f"fit({name}): `on_nonfinite` must be 'raise' or 'skip', not {value!r}."


def bad_key(name: str, value: object, shape: tuple[int, ...] | None = None) -> str:
    """Text of the error raised when `key` is not one PRNG key.

    `shape`: that of an array given (of keys, if `value` names them).
    """
    name = shown(name)
    given = (
        repr(value) if isinstance(value, int | float | str) else type(value).__name__
    )
    if shape is not None:
        given = f"an array of {value} of shape {shape}"
        if value == "keys":
            given += ": pass one of them (keys[0]), or split one per run"
    return (
        f"fit({name}): `key` must be a PRNG key such as jax.random.key(0), not {given}."
    )


def metric_needs_outputs(name: str, metric: str) -> str:
    """Text of the error raised for a model-level metric on whole-batch data."""
    name = shown(name)
    return (
        f"fit({name}): metric {metric!r} is a function of (model, xs, ys), which "
        f"cannot be averaged over padded batches of graphs or trees: write it as a "
        f"cdl.optics.AbstractMetric (per_example(outputs, labels))."
    )


def non_finite_loss(
    name: str, value: str, step: int, epoch: int, batch: int, saved: str
) -> str:
    """Text of the error raised when the training loss is NaN or infinite."""
    name = shown(name)
    return (
        f"fit({name}): the loss became {value} at step {step} (epoch {epoch}, "
        f"batch {batch}); the updates of that call were discarded and {saved}. "
        f"Lower the learning rate or check the data, or pass on_nonfinite='skip' "
        f"to skip such batches."
    )


def non_finite_parameters(name: str, epoch: int, saved: str) -> str:
    """Text of the error raised when the parameters became NaN or infinite."""
    name = shown(name)
    return (
        f"fit({name}): the parameters became NaN or infinite by the end of epoch "
        f"{epoch}; they were discarded and {saved}. Lower the learning rate."
    )


def nothing_saved() -> str:
    """Where a run without checkpoints stands."""
    return "nothing was saved (pass checkpoint=DIR to fit to make a run resumable)"


def no_checkpoint_yet(path: object) -> str:
    """Where a run stands before its first checkpoint."""
    return f"no epoch had finished, so {path} holds no checkpoint yet"


def checkpoint_holds(path: object, epoch: int) -> str:
    """Where a run stands with a checkpoint."""
    return (
        f"the checkpoint in {path} holds epoch {epoch}: run the same fit(..., "
        f"checkpoint={str(path)!r}) again to resume from there"
    )


def resuming(path: object, done: int, epochs: int) -> str:
    """The line printed when a run resumes from a checkpoint."""
    return f"resuming from the checkpoint in {path}: epoch {done} of {epochs} done."


def resumed_other_metrics(
    name: str, path: object, saved: list[str], wanted: list[str]
) -> str:
    """Text of the error raised when a run resumes recording other metrics."""
    return (
        f"fit({shown(name)}): the checkpoint in {path} records "
        f"{', '.join(saved)} each epoch, and this run would record "
        f"{', '.join(wanted)}: resuming would misalign the history's epochs. "
        "Resume with the metrics and validation data of the run that wrote it, "
        "or point `checkpoint=` at a fresh directory."
    )


def finished(path: object, done: int) -> str:
    """The line printed when the checkpoint holds a finished run."""
    return (
        f"the run in {path} already finished ({done} epochs): returning it; raise "
        f"`epochs` to train on, or point `checkpoint=` elsewhere to start afresh."
    )


def stopped_early(name: str, done: int, epochs: int) -> str:
    """The line printed when a callback ends a run before its last epoch."""
    name = shown(name)
    return f"fit({name}): a callback stopped the run after epoch {done} of {epochs}."


def interrupted(done: int, epochs: int, saved: str) -> str:
    """The line printed when Ctrl-C ends a run."""
    return f"interrupted after {done} of {epochs} epochs: {saved}."


def scalar_leaf(which: str, where: str) -> str:
    """Text of the error raised for a dataset leaf without an axis of examples."""
    return (
        f"the {which} hold a single number at {where}, where each leaf must be an "
        f"array with one row per example: give nested lists of numbers as one "
        f"array (jnp.asarray({'xs' if which == 'inputs' else 'ys'}))."
    )


def ragged_leaves(sizes: list[int]) -> str:
    """Text of the error raised when the leaves of a dataset differ in length."""
    return (
        f"the arrays of the dataset have different leading axes {sizes}: every "
        f"input and label array must hold one row per example."
    )


def list_of_examples(which: str, count: int, sizes: list[int]) -> str:
    """Text of the error raised for inputs given as a Python list of examples."""
    name = "xs" if which == "inputs" else "ys"
    return (
        f"the {which} are a Python list of {count} values with {sizes} rows, read "
        f"as {count} {which} each with one row per example: for a list of "
        f"sequences (or lists) of different lengths pass "
        f"cdl.batch_lists({name}, pad=True); for examples of one shape, stack "
        f"them (jnp.stack({name})); for (x, y) pairs, stack each side."
    )


def not_array_data(which: str, where: str, kind: str) -> str:
    """Text of the error raised for data that JAX cannot make an array of."""
    at = f" at {where}" if where else ""
    return (
        f"the {which}{' hold' if where else ' are'} {with_article(kind)}{at}, "
        f"which is not an array: fit takes the whole data as arrays (or tuples "
        f"and dicts of arrays) with one row per example, not an iterator of "
        f"batches: collect it first, e.g. "
        f"xs = np.concatenate([x for x, _ in batches])."
    )


def empty_step_batch(name: str) -> str:
    """Text of the error raised when a learner's step is given a batch of nothing."""
    return (
        f"Learner({shown(name)}): the batch is empty (xs holds 0 examples); a step "
        f"needs at least one example to average its loss over."
    )


def not_a_batch(name: str, kind: str, sizes: list[int]) -> str:
    """Text of the error raised when a per-example learner is given no batch."""
    name = shown(name)
    return (
        f"Learner({name}): its step maps the model over the leading axis of xs "
        f"(per_example=True), but xs, a {kind}, has arrays of leading sizes "
        f"{sizes} (0 for a scalar), not one batch axis: for a model that takes a "
        f"whole batch at once (the node table of a forest, a padded batch of "
        f"graphs) build the learner with Learner(..., per_example=False), as fit "
        f"does for such data."
    )


def model_without_state(label: str, where: str) -> str:
    """Text of the error raised when `cdl.save` is given a model without its state."""
    return (
        f"cdl.save: {label} keeps state (its StateIndex at {where}), which lives "
        f"in an equinox.nn.State beside the model, not in it: the file would lose "
        f"it (batch norm's running statistics). Save the pair: cdl.save(path, "
        f"(model, state), ...) with the state from fit(...).state.model_state, "
        f"and load it with a build returning the pair, "
        f"eqx.nn.make_with_state(build_model)(...)."
    )


def not_one_graph(index: int, graph: object) -> str:
    """Text of the error raised when a dataset entry is not one graph."""
    return (
        f"example {index} of the graphs is {type(graph).__name__}, not one "
        f"cdl.Graph: give a list of single graphs (fit batches them)."
    )


def ragged_graph_labels(lengths: list[int]) -> str:
    """Text of the error raised by graph labels of different lengths."""
    return (
        f"the labels of the graphs have different lengths {lengths} (one row per "
        f"node?), but Graphs takes one label row per graph, all of one shape (the "
        f"model ends in a readout, one row per graph): give graph-level labels."
    )


def terms_without_trees(constructor: str) -> str:
    """Text of the error raised when terms are given to fit without their functor."""
    return (
        f"the inputs are terms (a {constructor} layer first): give them with their "
        f"functor and labels as one dataset, fit(learner, model, "
        f"Trees(functor, terms, labels), ...), which tables each batch."
    )


def captured_layer(name: str, cell: str, var: str) -> str:
    """Text of the error raised when a plain function cell reads a learned layer."""
    name = shown(name)
    return (
        f"{name}: the cell {cell} reads the layer `{var}` from outside (its closure "
        f"or the module's globals), so fit would never train it: hold it in the "
        f"model, as a cell of the algebra (`cdl.Algebra(F, Name=cell)`) or as a "
        f"field of an equinox.Module whose __call__ matches on the layers."
    )


def graph_outputs() -> str:
    """Why a graph model's outputs, still a graph with features, meet no loss."""
    return (
        "the model returns the graph with its node features, where the loss "
        "compares one row per graph: end it in cdl.graphs.Readout() (and a map of "
        "each row, cdl.Each(...))."
    )


def graphs_without_nodes() -> str:
    """Text added when a batch of graphs without node features does not fit."""
    return (
        " The graphs carry no node features (nodes=None), so the model is given each "
        "batch as the cdl.Graph alone: build them with nodes= (one row per node) for "
        "layers that take (graph, node features)."
    )


def graph_labels(graphs: int, labels: int) -> str:
    """Text of the error raised when graphs and labels differ in number."""
    return f"{graphs} graphs but {labels} labels: give one label row per graph."


def labels_beside_dataset(kind: str) -> str:
    """Text of the error raised for labels given beside a dataset."""
    return f"a {kind} dataset holds its labels: pass it to fit without `ys`."


def model_damaged(path: object, why: str) -> str:
    """Text of the error raised when a saved model fails its check."""
    return f"model file {path} is damaged ({why}): save the model again."


def model_not_saved_by_cdl(path: object) -> str:
    """Text of the error raised by `cdl.load` of a file `cdl.save` did not write."""
    return (
        f"model file {path} was not written by cdl.save (its header is not cdl's): "
        "a file of equinox.tree_serialise_leaves is read with "
        "equinox.tree_deserialise_leaves(path, like)."
    )


def model_is_checkpoint(path: object) -> str:
    """Text of the error raised by `cdl.load` of a checkpoint of `fit`."""
    return (
        f"model file {path} is a checkpoint of fit, not a model file of cdl.save: "
        "read its directory with load_checkpoint(directory, learner.init(model)) "
        "and take learner.model_at(checkpoint.state)."
    )


def save_to_directory(path: object) -> str:
    """Text of the error raised by `cdl.save` given a directory."""
    return (
        f"cdl.save: {path} is a directory: give the path of the file to write, "
        f"e.g. {pathlib.Path(str(path)) / 'model.cdl'}."
    )


def load_from_directory(path: object, checkpoints: bool) -> str:
    """Text of the error raised by `cdl.load` given a directory."""
    text = f"cdl.load: {path} is a directory: give the path of the file cdl.save wrote"
    if checkpoints:
        return (
            f"{text}; it holds checkpoints of fit: read them with "
            "load_checkpoint(directory, learner.init(model)) and take "
            "learner.model_at(checkpoint.state)."
        )
    return text + "."


def model_mismatch(path: object, why: str) -> str:
    """Text of the error raised when a saved model does not fit the structure."""
    return (
        f"model file {path} does not fit the model built ({why}): build the "
        f"model with the code and hyperparameters it was saved from."
    )


def mixed_graph_features(name: str) -> str:
    """Text of the error raised when only some graphs carry a feature table."""
    name = shown(name)
    return f"some graphs have {name} features and some have none: give all or none."


def validation_kind(name: str, train: str, validation: str) -> str:
    """Text of the error raised when validation data differ in kind from training."""
    name = shown(name)
    return (
        f"fit({name}): the training data are {train} but the validation data "
        f"{validation}: give validation data of the same kind."
    )


def bad_parameter_rule(rule: object) -> str:
    """Text of the error raised for a parameter rule of no known kind."""
    return (
        f"params={rule!r} is not a parameter rule: give fsdp(...), a mapping of "
        f"path patterns to PartitionSpecs, or a function (path, array) -> "
        f"PartitionSpec | None."
    )


def bad_spec(path: str, leaf: object, spec: object, why: str) -> str:
    """Text of the error raised when a parameter's PartitionSpec does not fit it."""
    shape = getattr(leaf, "shape", "?")
    return (
        f"parameter {path} of shape {tuple(shape)}: {spec!r} {why}: give a spec "
        f"with one entry per dimension at most, naming mesh axes that divide it."
    )


def no_batch_axis(axes: object) -> str:
    """Text of the error raised for a mesh without the data axis."""
    return (
        f"the mesh has axes {axes} but no 'batch' axis: name the axis the data "
        f"are split along 'batch'."
    )


def data_parallel_not_a_learner(value: object) -> str:
    """Text of the error raised when `data_parallel` is given no learner."""
    return (
        f"data_parallel: the first argument must be a Learner(model, loss, "
        f"optimiser), not {type(value).__name__}."
    )


def bad_devices(devices: object) -> str:
    """Text of the error raised when `data_parallel` is given no devices."""
    return (
        f"data_parallel: `devices` must be a jax.sharding.Mesh with a 'batch' "
        f"axis or a non-empty sequence of JAX devices (e.g. jax.devices()[:2]), "
        f"not {type(devices).__name__} {devices!r}."
    )


def bad_fsdp(axis: object, min_size: object) -> str:
    """Text of the error raised for `fsdp` arguments of the wrong kind."""
    return (
        f"fsdp: expected a mesh axis name and min_size an int >= 0, got "
        f"axis={axis!r}, min_size={min_size!r}."
    )


def fsdp_axis(axis: str, mesh: dict[str, int]) -> str:
    """Text of the error raised when `fsdp` names an axis the mesh lacks."""
    return (
        f"fsdp({axis!r}): the mesh {mesh} has no axis {axis!r}: name one of "
        f"its axes, or build the learner on a mesh with it "
        f"(data_parallel(learner, jax.make_mesh(...), params=fsdp({axis!r})))."
    )


def bad_pattern(pattern: object, why: str) -> str:
    """Text of the error raised for a parameter pattern that is no regex."""
    return (
        f"the parameter pattern {pattern!r} is not a regular expression ({why}): "
        f"escape brackets and dots, e.g. r'factors\\[0\\]\\.weight'."
    )


def needs_mesh(name: str, what: str) -> str:
    """Text of the error raised when a learner without a mesh meets a mesh-only use."""
    name = shown(name)
    return (
        f"{what}({name}): the learner has no mesh: make it with "
        f"data_parallel(learner) first."
    )


def uneven_shards(at: str, counts: list[int]) -> str:
    """Text of the error raised when processes feed different numbers of examples."""
    return (
        f"{at}: the processes hold {counts} examples: every process must "
        f"feed as many (drop or repeat a few to even them out)."
    )


def indivisible_shard(at: str, count: int, devices: int, index: int) -> str:
    """Text of the error raised when a process's examples cannot fill its devices."""
    return (
        f"{at}: process {index} holds {count} examples, which its {devices} "
        f"devices cannot share evenly: feed a multiple of {devices}."
    )


def settings_differ(name: str, what: str, values: list[object]) -> str:
    """Text of the error raised when processes run `fit` with other arguments."""
    name = shown(name)
    if what == "start":
        return (
            f"fit({name}): the start model differs between processes: build it "
            f"alike in every process (from the same key), or load one file."
        )
    if what == "state":
        return (
            f"{name}: the state differs between processes: every process must "
            f"pass the same one (learner.init of a model built alike everywhere)."
        )
    if what == "checkpoint":
        return (
            f"fit({name}): checkpoint= was given in processes {values} (True: "
            f"given): give it in every process; only process 0 reads and writes "
            f"the directory, so the others' need not exist."
        )
    called = {"key": "keys (key data)", "validation": "validation (True: given)"}
    return (
        f"fit({name}): the processes were given different {called.get(what, what)}: "
        f"{values}, from process 0 on. Run fit with the same arguments in every "
        f"process, each with its own share of the data."
    )


def refused_elsewhere(index: int, why: str) -> str:
    """Text of the error raised in every process when one refuses its data."""
    return f"process {index} stopped before training: {why}"


def uneven_global_batch(held: list[list[int]]) -> str:
    """Text of the error raised when `global_batch` gets unequal local batches."""
    same = all(len(set(sizes)) == 1 for sizes in held)
    counts = [sizes[0] for sizes in held] if same else held
    return (
        f"global_batch: the processes hold {counts} examples: every process "
        f"must pass as many, array by array (the global batch is their "
        f"concatenation)."
    )


def global_batch_scalar(value: object) -> str:
    """Text of the error raised when `global_batch` meets a leaf with no rows."""
    return (
        f"global_batch: every array needs the examples on its leading axis, but "
        f"one is a scalar ({value!r}); a Python list of numbers is a pytree of "
        f"scalars: convert it with np.asarray first."
    )


def indivisible_global_batch(rows: int, parts: int) -> str:
    """Text of the error raised when a local batch does not fill the devices."""
    return (
        f"global_batch: this process's batch holds {rows} examples, which its "
        f"{parts} devices on the mesh's 'batch' axis cannot share evenly: pass "
        f"a multiple of {parts}."
    )


def host_data_across_processes(name: str, kind: str) -> str:
    """Text of the error raised for host-batched data in a multi-process run."""
    name = shown(name)
    return (
        f"fit({name}): {kind} data are batched on the host, which fit does not "
        f"spread across processes: train on arrays (e.g. padded batches), or "
        f"step the learner on global_batch(...) of each process's batches."
    )


def build_arguments(path: object, hyperparameters: object, why: str) -> str:
    """Text of the error raised when `load`'s build cannot take the saved values."""
    return (
        f"cdl.load: model file {path} was saved with hyperparameters "
        f"{hyperparameters!r}, which build cannot take ({why}): give the function "
        f"that built the saved model."
    )


def hyperparameter_not_json(name: str, value: object, error: Exception) -> str:
    """Text of the error raised by `cdl.save` for a hyperparameter JSON cannot hold."""
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "dtype"):
        # An array (a PRNG key too): its repr spans lines and its values are
        # not the point; a list of its numbers is what the file can keep.
        return (
            f"cdl.save: hyperparameter {name}, an array {value.dtype}{list(shape)}, "
            f"is not JSON: the file keeps numbers, strings, bools, None, and lists, "
            f"tuples and dicts of them; give its numbers as a list "
            f"({name}={name}.tolist()), or a seed (an int) for a PRNG key, and "
            f"rebuild the array in `build`."
        )
    return (
        f"cdl.save: hyperparameter {name}={value!r} is not JSON ({error}): the file "
        f"keeps numbers, strings, bools, None, and lists, tuples and dicts of them; "
        f"pass a name (act='relu') and map it to the function in `build`."
    )


def save_failed(root: object, why: str) -> str:
    """Text of the error raised in every process when process 0 cannot save."""
    return f"process 0 could not save a checkpoint in {root}: {why}"


def save_failed_here(name: str, epoch: int, why: str, saved: str) -> str:
    """Text of the error raised when `fit` cannot write a checkpoint."""
    name = shown(name)
    return (
        f"fit({name}): could not save the checkpoint of epoch {epoch} ({why}); {saved}."
    )


def bad_patience(value: object) -> str:
    """Text of the error raised for an `EarlyStopping` patience that is not >= 1."""
    return f"EarlyStopping: `patience` must be a positive int, not {value!r}."


def bad_mode(value: object) -> str:
    """Text of the error raised for an unknown `EarlyStopping` mode."""
    return f"EarlyStopping: `mode` must be 'min', 'max' or 'auto', not {value!r}."


def bad_min_delta(value: object) -> str:
    """Text of the error raised for a negative `EarlyStopping` min_delta."""
    return f"EarlyStopping: `min_delta` must be a number >= 0, not {value!r}."


def unknown_monitor(monitor: str, names: list[str]) -> str:
    """Text of the error raised when `EarlyStopping` monitors a name fit lacks."""
    hint = (
        " (pass `validation=` to fit for val_ names)"
        if monitor.startswith("val_")
        else ""
    )
    return (
        f"EarlyStopping: fit reports no {monitor!r}{hint}; it reports "
        f"{', '.join(repr(n) for n in names)}: monitor one of those."
    )


def best_state_not_kept(monitor: str, best: int) -> str:
    """The line printed when `EarlyStopping` cannot return its best state."""
    return (
        f"EarlyStopping({monitor!r}): the best epoch, {best}, ran before the "
        f"checkpoint this run resumed from, which holds no state of it (it was "
        f"saved without restore_best=True, or without this EarlyStopping): "
        f"returning the last state instead."
    )


def not_a_loss(name: str, loss: object) -> str:
    """Text of the error raised when a learner's loss is not a loss lens."""
    name = shown(name)
    what = getattr(loss, "__name__", type(loss).__name__)
    return (
        f"Learner({name}): the loss must be a cdl loss lens (SoftmaxCrossEntropy(), "
        f"MeanSquaredError(), BinaryCrossEntropy(), or any parametric lens to a "
        f"scalar whose parameters are the labels), not {what}."
    )


def not_an_optimiser(name: str, optimiser: object) -> str:
    """Text of the error raised when a learner's optimiser is not an optimiser lens."""
    name = shown(name)
    hint = (
        ": wrap an optax transformation as from_optax(tx)"
        if hasattr(optimiser, "init") and hasattr(optimiser, "update")
        else ""
    )
    return (
        f"Learner({name}): the optimiser must be a cdl optimiser lens (SGD, Adam, "
        f"...), not {type(optimiser).__name__}{hint}."
    )


def metric_failed(name: str, metric_name: str, why: str) -> str:
    """Text of the error raised for a metric function that cannot be used."""
    name = shown(name)
    return (
        f"fit({name}): metric {metric_name!r} failed ({why}): a metric function is "
        f"called as f(model, xs, ys) on a batch and returns one number, the batch's "
        f"mean; a metric of each example's outputs and labels is an AbstractMetric "
        f"(its per_example(outputs, labels))."
    )


def metric_returned(given: str, rows: int | None) -> str:
    """What a metric function returned instead of one number, and on what batch."""
    batch = "" if rows is None else f" on a batch of {rows} example{'s' * (rows != 1)}"
    return f"it returned {given}{batch}"


def metric_cannot_score(
    name: str, metric_name: str, why: str, rows: int | None = None
) -> str:
    """Text of the error raised for a metric that cannot score the model's outputs."""
    name = shown(name)
    batch = (
        "" if rows is None else f" (on a batch of {rows} example{'s' * (rows != 1)})"
    )
    return (
        f"fit({name}): metric {metric_name!r} cannot score the model's outputs"
        f"{batch}: {why}"
    )


def bad_metric(name: str, metric_name: str, metric: object) -> str:
    """Text of the error raised for a metric that is neither kind `fit` takes."""
    name = shown(name)
    return (
        f"fit({name}): metric {metric_name!r} must be an AbstractMetric (e.g. "
        f"accuracy) or a function f(model, xs, ys), not {type(metric).__name__} "
        f"{metric!r}."
    )


def not_a_learner(value: object) -> str:
    """Text of the error raised when `fit` is given something else as its learner."""
    return (
        f"fit: the first argument must be a Learner(model, loss, optimiser), not "
        f"{type(value).__name__}: fit(learner, model, xs, ys, ...)."
    )


def metrics_not_a_mapping(name: str, metrics: object) -> str:
    """Text of the error raised when `metrics` is not a mapping of names."""
    name = shown(name)
    return (
        f"fit({name}): `metrics` must map names to metrics, e.g. "
        f"metrics={{'accuracy': accuracy}}, not {type(metrics).__name__}."
    )


def reserved_metric(name: str, metric_name: object) -> str:
    """Text of the error raised for a metric name the history uses for itself."""
    name = shown(name)
    if not isinstance(metric_name, str) or not metric_name:
        why = "a metric's name must be a non-empty str"
    elif metric_name.startswith("val_"):
        why = (
            "names beginning val_ are the history's names of the metrics on the "
            "validation data (metric 'acc' is recorded as 'acc' and 'val_acc')"
        )
    else:
        why = f"the history records {metric_name!r} itself, and the two would mix"
    return f"fit({name}): a metric may not be named {metric_name!r}: {why}."


_SETTINGS: Final = {
    "batch_size": "batch_size={}",
    "shuffle": "shuffle={}",
    "key": "the key {} (implementation, key data)",
    "examples": "{} training examples",
    "arrays": "training arrays {}",
    "values": "training data whose values hash to {} (SHA-256)",
    "val_examples": "{} validation examples",
    "val_arrays": "validation arrays {}",
    "val_values": "validation data whose values hash to {} (SHA-256)",
}


def resumed_otherwise(
    name: str, path: object, what: str, saved: object, given: object
) -> str:
    """Text of the error raised when a run resumes with another setting."""
    name = shown(name)
    form = _SETTINGS.get(what, what + "={}")
    return (
        f"fit({name}): checkpoint {path} was written by a run given "
        f"{form.format(saved)}, and this run is given {form.format(given)}: "
        f"resumed, it would no longer be the run it continues. To resume it, give "
        f"what it was given; to start a new run, point `checkpoint=` at a new "
        f"directory; to go on from its state with what is given now, pass "
        f"`resume_changed=True`."
    )


def not_a_flag(name: str, what: str, value: object) -> str:
    """Text of the error raised for a yes-or-no argument that is not a bool."""
    name = shown(name)
    return f"fit({name}): `{what}` must be True or False, not {value!r}."


def not_a_callback(name: str, callback: object) -> str:
    """Text of the error raised for an entry of `callbacks` that is no callback."""
    name = shown(name)
    if isinstance(callback, type):
        return (
            f"fit({name}): callbacks=[{callback.__name__}] holds the class, not a "
            f"callback: pass an instance, callbacks=[{callback.__name__}(...)]."
        )
    return (
        f"fit({name}): {type(callback).__name__} {callback!r} in `callbacks` is not "
        f"a callback: give Callback instances (CSVLogger(...), EarlyStopping(...))."
    )


def bad_checkpoint_path(name: str, checkpoint: object) -> str:
    """Text of the error raised when `checkpoint` names no directory."""
    name = shown(name)
    return (
        f"fit({name}): `checkpoint` must be a directory path (a non-empty str or "
        f"os.PathLike) or None, not {checkpoint!r}."
    )


def bad_callbacks(name: str, callbacks: object) -> str:
    """Text of the error raised when `callbacks` is not a sequence of callbacks."""
    name = shown(name)
    return (
        f"fit({name}): `callbacks` must be a list of callbacks, not "
        f"{type(callbacks).__name__}: pass callbacks=[...]."
    )


def bad_learning_rate(optimiser: str, value: object) -> str:
    """Text of the error raised for a learning rate an optimiser cannot use."""
    return (
        f"{optimiser}: the learning rate must be a number >= 0, an array or an "
        f"optax schedule (a function of the step count), not {value!r}."
    )


def losses_not_per_example(loss: str, given: str, rows: int) -> str:
    """Text of the error raised for a loss whose `losses` lack the batch axis."""
    return (
        f"{loss}.losses returned {given} for a batch of {rows} "
        f"example{'s' * (rows != 1)}: it must "
        f"return one value per example, of shape ({rows},), or one per position "
        f"of each example, of shape ({rows}, ...), which the loss averages over "
        f"the batch (leaving out padding); return no mean of the batch."
    )


def empty_batch(loss: str, predictions: object) -> str:
    """Text of the error raised by a loss of a batch with no examples."""
    return (
        f"{loss} was given a batch of no examples (predictions {predictions}): the "
        f"mean loss of none is undefined; give at least one example."
    )


def pattern_matches_nothing(pattern: str, paths: list[str]) -> str:
    """Text of the error raised by a parameter pattern that matches no parameter."""
    shown = ", ".join(paths[:6]) + (", ..." if len(paths) > 6 else "")
    return (
        f"the parameter pattern {pattern!r} matches no parameter's path, so it would "
        f"place nothing; the paths are {shown}."
    )


def derivative_of_non_morphism(functor: str, value: object) -> str:
    """Text of the error raised when a derivative functor is given no morphism."""
    return (
        f"{functor} takes a cdl.Para morphism, not {type(value).__name__}: make a "
        f"function or an Equinox module one with `cdl.lift(f, dom=..., cod=...)`."
    )


def step_needs_key(name: str) -> str:
    """Text of the error raised when a stochastic learner steps without a key."""
    name = shown(name)
    return (
        f"Learner({name}).step: the model is stochastic and needs a PRNG key, a "
        f"fresh one each step: `learner.step(state, xs, ys, key=k)` with "
        f"k = jax.random.fold_in(key, step)."
    )


def ragged_tree_labels() -> str:
    """Text of the error raised for `Trees` labels of different lengths."""
    return (
        "Trees: the labels are not one array with a row per term (their rows "
        "differ in length): labels on every node of each term go with "
        "Trees(functor, terms, node_labels, per_node=True) and a model of "
        "cdl.upwards, one row per node."
    )


def node_labels_not_nested(shape: tuple[int, ...], term: int | None = None) -> str:
    """Text of the error raised for per-node labels that are not one row per term."""
    where = (
        f"term {term}'s labels are one value"
        if term is not None
        else (f"the labels have shape {shape}")
    )
    return (
        f"Trees(..., per_node=True): {where}; give for each term a sequence of its "
        "nodes' labels, in node order (cdl.read_brackets(..., labels=True) "
        "returns them so)."
    )


def node_label_shapes(
    term: int, shape: tuple[int, ...], first: int, wanted: tuple[int, ...]
) -> str:
    """Text of the error raised for per-node labels of different shapes."""
    return (
        f"Trees(..., per_node=True): term {term}'s node labels are of shape "
        f"{shape}, but term {first}'s are of shape {wanted}: every "
        "node's label has one shape."
    )


def node_labels_not_numbers(term: int, dtype: object) -> str:
    """Text of the error raised for per-node labels that are not numbers."""
    return (
        f"Trees(..., per_node=True): term {term}'s labels are {dtype} values, not "
        "numbers: convert them (cdl.read_brackets returns each label as text: "
        "int(label), None kept for a node without one)."
    )


def node_labels_miscounted(term: int, nodes: int, labels: int) -> str:
    """Text of the error raised when a term's per-node labels miss its nodes."""
    return (
        f"Trees(..., per_node=True): term {term} has {nodes} node(s) in its table "
        f"but {labels} label(s): give one label per node (None for a node "
        "without one), in the order cdl.tree_table stores them."
    )


def batch_labels_miscounted(nodes: int, labels: int) -> str:
    """Text of the error raised when a built batch's table misses its node labels."""
    return (
        f"Trees(..., per_node=True): a batch's table has {nodes} node(s), but its "
        f"terms have {labels} label(s): a `tables` builder must store every node "
        "of every term once, in order."
    )


def rows_not_terms(rows: int, terms: int, per_node: bool) -> str:
    """The hint added where a tree model's rows do not meet the labels' rows."""
    if per_node:
        return (
            f" The model returns {rows} row(s) for {terms} term(s), but per-node "
            "labels need one row per entry of the table: fold with cdl.upwards, "
            "not cdl.cata."
        )
    return (
        f" The model returns {rows} row(s) for {terms} term(s), one per entry of "
        "the table (cdl.upwards): labels on every node go with "
        "Trees(..., per_node=True); one label per term wants cdl.cata."
    )


def payload_shapes_differ(
    at: str, constructor: str, term: int, shapes: object, first: int, seen: object
) -> str:
    """Text of the error raised where a term's payloads differ from an earlier's."""
    where = "another" if term == first else f"term {first}'s"
    return (
        f"{at}: term {term} has a {constructor} payload of shape {shapes}, where "
        f"{where} is {seen}: a batch stacks the payloads of each constructor, so "
        "they must agree in shape over the dataset."
    )


def rows_of_roots() -> str:
    """The hint for a layer after a tree fold that takes one row, not all roots."""
    return (
        " A fold of a forest returns one row per tree: map the layers after it "
        "over the rows with cdl.Each (cata(algebra) >> cdl.Each(head))."
    )


def accuracy_shapes(outputs: str, labels: str) -> str:
    """Text of the error raised when `accuracy` is given labels it cannot score."""
    return (
        f"accuracy compares each example's predicted class (the arg-max of its "
        f"outputs, or a single logit's sign) with an integer label, but the outputs "
        f"are {outputs} and the labels {labels}: give labels of the outputs' shape "
        f"less the last axis (or of the outputs' shape for a single logit); for a "
        f"regression use another metric."
    )


_ONE_LOSS: Final = (
    "for a model with several outputs, write one loss of them all: a subclass of "
    "AbstractLoss whose losses(labels, predictions) adds each output's per-example "
    "loss, e.g. MeanSquaredError().losses(labels[0], predictions[0]) + "
    "SoftmaxCrossEntropy().losses(labels[1], predictions[1])."
)


def several_outputs(loss: str, kind: str) -> str:
    """Text of the error raised when a loss of one array is given a tuple."""
    return (
        f"{loss} compares one array of predictions with one array of labels, "
        f"but was given a {kind}: {_ONE_LOSS}"
    )


def loss_not_scalar(name: str, given: str) -> str:
    """Text of the error raised when a learner's loss is not one number."""
    return (
        f"Learner({shown(name)}): the loss of a batch must be one number, but it "
        f"is {given} (a tensor of losses gives one per factor): {_ONE_LOSS}"
    )


def lens_components(lens: str, what: str, count: int, given: str) -> str:
    """Text of the error raised when a parallel lens gets no tuple of its width."""
    return (
        f"{lens} takes its {what} as a tuple of {count} components, one per "
        f"factor, but was given {given}."
    )


def lens_needs_tuple(lens: str, index: int, given: str) -> str:
    """Text of the error raised when `first()`/`second()` read no tuple.

    `given` is what they read, as `_lens.described` writes it (``f32[3]`` for an
    array, ``a tuple of 1``, ``a float``).
    """
    return (
        f"{lens} focuses on component {index} of a tuple, but was given {given}: "
        f"its source is a pair (or a longer tuple)."
    )


def lens_put_space(lens: str, path: str, expected: str, given: str, hint: str) -> str:
    """Text of the error raised when an `at` lens is given a view of another space."""
    where = f" (at {path})" if path else ""
    return (
        f"{lens}{where} writes back a view of {expected}, but was given {given}: "
        f"put must keep the view's shape and dtype, or reading it back would not "
        f"give what was read before{hint}."
    )


LENS_PUT_BROADCAST: Final = (
    "; to write one number everywhere, give jnp.full_like(lens.get(s), value)"
)
LENS_PUT_CAST: Final = "; cast it first, e.g. value.astype(lens.get(s).dtype)"
LENS_PUT_TREE: Final = "; a lens's put keeps the kind of the part it replaces"


def mask_not_per_example(
    loss: str, mask: tuple[int, ...], rows: int, losses: tuple[int, ...]
) -> str:
    """Text of the error raised for `Masked` labels of a mask of another shape."""
    also = "" if losses == (rows,) else f", or one per value of the losses, {losses}"
    return (
        f"{loss}: the mask of the Masked labels has shape {mask} for a batch of "
        f"{rows} example{'s' * (rows != 1)}: give one weight per example, of "
        f"shape ({rows},){also}; to "
        f"leave out positions inside an example (padded tokens, nodes), give a "
        f"loss of your own (subclass AbstractLoss) whose losses have one value "
        f"per position, and a mask of their shape."
    )
