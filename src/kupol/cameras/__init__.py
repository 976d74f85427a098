"""The camera registry: fixed, PTZ, drone, robot and body cameras, with positions and zones."""
