"""Camera events: what sources observed, recorded once, searchable, with evidence."""
