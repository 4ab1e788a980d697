"""Tests of the allocation protocol's SPIN model (docs/model), run with the spin and gcc tools."""
