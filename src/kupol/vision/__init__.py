"""The vision pipeline: video sources, frame analysis, and the events they produce."""
