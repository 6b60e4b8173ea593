"""Test configuration shared by the tests and the doctests."""

import os

# The tests compile a few thousand small programs, and compiling is most of their
# time. XLA's own passes (fusion, buffer reuse, in-place updates) still run; only
# LLVM's costly code optimisation is left out, which took about 17% off the CPU
# time of the heaviest test files. Set here, before JAX is imported, so that the
# processes the tests start inherit it; the benchmarks compile as users do.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
FAST_COMPILES = os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"] == "1"

import jax  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")
# Again in JAX's configuration, in case a plugin imported JAX first.
jax.config.update("jax_disable_most_optimizations", FAST_COMPILES)
