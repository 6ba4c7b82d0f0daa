"""Control plane of evalfleet: runs where the user launches a sweep."""
