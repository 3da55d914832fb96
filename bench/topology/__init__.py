"""Process topologies: API processes, workers and a mail sink on loopback; the PostgreSQL server."""
