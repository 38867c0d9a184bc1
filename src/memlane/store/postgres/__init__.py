"""The PostgreSQL back end (``pip install 'memlane[postgres]'``): memories, versions, history,
messages, full text (tsvector), vectors (pgvector), profile, pending adds and the graph in one
database, every table carrying the tenant (the column to distribute or partition by).

``PostgresStore`` lives in ``memlane.store.postgres.store`` (it needs psycopg); this package
imports none of it, so registering the provider costs nothing when psycopg is absent.
"""

from memlane.store.postgres.provider import register

__all__ = ["register"]
