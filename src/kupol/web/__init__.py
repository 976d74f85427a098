"""The operator console: server-rendered pages, a live alerts feed, a map, search and audit."""
