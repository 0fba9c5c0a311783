"""信用报告: credit reports (public, full, authorised, special) built from disclose(), signed, verifiable."""
