"""The PostgreSQL back end (``pip install 'memlane[postgres]'``): memories, versions, history,
messages, full text (tsvector), vectors (pgvector), profile, pending adds and the graph in one
database, every table carrying the tenant (the column to distribute or partition by)."""
