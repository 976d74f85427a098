"""The evidence vault: content-addressed files with an append-only chain of custody."""
