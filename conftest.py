"""Test configuration shared by the tests and the doctests."""

import jax

jax.config.update("jax_numpy_rank_promotion", "raise")
