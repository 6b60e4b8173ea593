"""Users' own classes that define ``>>``: left to their own signatures."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Pipe:
    """A user's pipeline object whose ``>>`` appends a stage."""

    stages: tuple[str, ...]

    def __rshift__(self, stage: str) -> "Pipe":
        return Pipe((*self.stages, stage))


pipe = Pipe(()) >> "load" >> "train"
