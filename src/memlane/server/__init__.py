"""memlane's REST server (``memlane serve``): mem0's OSS and platform routes over FastAPI.

Modules: ``keys`` (the API key store, usable without FastAPI), ``tenants`` (one Memory per
tenant), ``app`` (the FastAPI application), ``routes_*`` (thin routes over the public API).
"""
