"""Online document flow: protocols and resolutions, their workflow and signatures."""
