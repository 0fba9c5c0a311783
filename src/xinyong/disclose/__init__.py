"""披露: what an audience may see about a subject, and the search that finds it (see service.disclose)."""
