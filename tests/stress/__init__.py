"""Reliability proofs: no lost writes, no leaks across tenants, no crash on bad input."""
