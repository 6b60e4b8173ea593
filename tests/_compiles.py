"""How many programs XLA has compiled in this process: a reused program adds none."""

import jax

_EVENTS: list[str] = []
jax.monitoring.register_event_duration_secs_listener(
    lambda event, _seconds, **_: (
        _EVENTS.append(event)
        if event == "/jax/core/compile/backend_compile_duration"
        else None
    )
)


def compiles() -> int:
    """The number of XLA compiles so far."""
    return len(_EVENTS)
