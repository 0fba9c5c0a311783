"""归集 collection: providers' files are read, normalised, validated, matched to subjects and loaded."""
