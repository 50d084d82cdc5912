"""The trust capability's web side: the resident card check page and the published keys."""
