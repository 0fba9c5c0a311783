"""权益: the subject's rights — authorisations (授权查询) and the query log it can read."""
