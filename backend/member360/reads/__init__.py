"""Compiled reads: a GraphQL read planned into one SQL statement that builds its JSON."""
