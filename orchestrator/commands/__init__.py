"""One module a CLI command; each imports its heavy dependencies lazily."""
