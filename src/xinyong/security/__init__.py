"""Organisations, users, roles, tokens, the audit chain, and protection of personal identifiers."""
