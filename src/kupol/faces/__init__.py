"""Faces: detection, alignment, embedding and quality; watchlists, live matching, retrospective
search and retention. A match is a lead for a human, never a verdict."""
