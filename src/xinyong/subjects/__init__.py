"""The subject registry (法人库/自然人库): one row per credit subject, every identifier it is known by."""
