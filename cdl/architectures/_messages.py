"""Every user-facing error text of cdl's architecture builders, in one place."""


def bad_prompt(start: int, length: int) -> str:
    """Text of the error for a prompt that does not fit the sampled length."""
    return (
        f"generate: the prompt must hold between 1 and length={length} tokens, "
        f"but holds {start}."
    )


def bad_prompt_rank(shape: tuple[int, ...]) -> str:
    """Text of the error for a prompt that is not one sequence of tokens."""
    return (
        f"generate: the prompt must be one sequence of tokens, int[p], but has "
        f"shape {shape}; map generate over a batch of prompts with `jax.vmap`."
    )


def prompt_outside(position: int, token: int, layer: str, rows: int) -> str:
    """Text of the error for a prompt token the model's embedding has no row for."""
    return (
        f"generate: prompt[{position}] is token {token}, but the model's first "
        f"layer, {layer}, has rows for tokens 0..{rows - 1} only."
    )


def bad_temperature(temperature: object) -> str:
    """Text of the error for a sampling temperature that is no number >= 0."""
    return (
        f"generate: temperature must be 0 (the most likely token) or a positive "
        f"number, but was given {temperature!r}."
    )


def bad_traced_temperature() -> str:
    """Text of the error for a traced temperature found negative or NaN as it runs."""
    return (
        "generate: temperature must be 0 (the most likely token) or a positive "
        "number, but the traced temperature is negative or NaN."
    )


def bad_patch(size: int, patch: int) -> str:
    """Text of the error for an image size that patches do not tile."""
    return f"vit: image_size {size} is not a multiple of patch {patch}."


def bad_stages(stages: object, widths: object) -> str:
    """Text of the error for stage counts and widths of different lengths."""
    return (
        f"resnet: stages and widths must be sequences with one entry per stage "
        f"(resnet(stages, widths, channels, classes)), but were given {stages!r} "
        f"and {widths!r}."
    )


def bad_stem(stem: object) -> str:
    """Text of the error for an unknown ResNet stem."""
    return f"resnet: stem must be 'small' or 'imagenet', but was given {stem!r}."


def not_a_morphism(where: str, value: object) -> str:
    """Text of the error for a builder given something other than a cdl.Para."""
    return f"{where} must be a cdl.Para morphism, but was given {type(value).__name__}."


def not_an_activation(value: object) -> str:
    """Text of the error for a transformer block given an activation that is no Para."""
    name = getattr(value, "__name__", None)
    shown = repr(value) if isinstance(value, str) or name is None else name
    return (
        f"{not_a_morphism('transformer_block: activation', value)[:-1]} ({shown}): "
        "give a layer such as `cdl.Relu()` or `cdl.Gelu(approximate=False)`, or "
        "make one of a function with `cdl.lift`."
    )


def not_a_class(value: object) -> str:
    """Text of the error for a kind of layer that is not a class."""
    return (
        f"layers_of: kind must be a class (e.g. cdl.Linear), but was given {value!r}."
    )


def unet_sides(name: str, multiple: int, height: object, width: object) -> str:
    """Text of the error for an image whose sides a U-Net cannot halve."""
    depth = multiple.bit_length() - 1

    def up(side: object) -> object:
        return -(-side // multiple) * multiple if isinstance(side, int) else side

    return (
        f"{name}: a U-Net of depth {depth} needs a height and width that are "
        f"multiples of {multiple}, but the image is {height}×{width}: pad or crop "
        f"it (to {up(height)}×{up(width)}, say)."
    )


def even_kernel(kernel: int) -> str:
    """Text of the error for a `conv_bn` kernel that padding cannot centre."""
    return (
        f"conv_bn: kernel must be odd (it is padded by kernel // 2 on each side to "
        f"keep the size at stride 1), but was given {kernel}: an even kernel grows "
        f"the image by one pixel."
    )


def heads_not_dividing(builder: str, dim: int, heads: int) -> str:
    """Text of the error for attention heads that do not divide the width."""
    return f"{builder}: dim must be a multiple of heads ({heads}), but was given {dim}."


def not_logits(model: str, length: int, given: object) -> str:
    """Text of the error for a model `generate` cannot read next-token logits from."""
    return (
        f"generate: the model must give next-token logits at every position, "
        f"float[n, vocab] (here n = {length}), but {model} gives {given}."
    )
