"""Every user-facing error text of cdl's architecture builders, in one place."""


def bad_prompt(start: int, length: int) -> str:
    """Text of the error for a prompt that does not fit the sampled length."""
    return (
        f"generate: the prompt must hold between 1 and length={length} tokens, "
        f"but holds {start}."
    )


def bad_patch(size: int, patch: int) -> str:
    """Text of the error for an image size that patches do not tile."""
    return f"vit: image_size {size} is not a multiple of patch {patch}."


def bad_stages(stages: object, widths: object) -> str:
    """Text of the error for stage counts and widths of different lengths."""
    return (
        f"resnet: stages and widths must have one entry per stage, "
        f"but were given {stages!r} and {widths!r}."
    )


def bad_stem(stem: object) -> str:
    """Text of the error for an unknown ResNet stem."""
    return f"resnet: stem must be 'small' or 'imagenet', but was given {stem!r}."
