"""Alert rules on camera events, and the alerts operators acknowledge and close."""
