"""Test configuration shared by the tests and the doctests."""

import os

# The suite compiles thousands of small programs and runs each a few times, so
# XLA's backend optimisations cost more than they save; the environment variable
# reaches the subprocesses that some tests start as well.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")

import jax  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")
