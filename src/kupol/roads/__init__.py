"""Road safety: the accident registry and its imports, Kazakhstan's regions with their
population, the official crime statistics, and the analyses on them."""
