"""Documents the platform issues (reports, 通报): typesetting to PDF. Ground level: it knows no chapter."""
