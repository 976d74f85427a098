"""Vehicle plates: formats, synthetic rendering for OCR training, and reading."""
