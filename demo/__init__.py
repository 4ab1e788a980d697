"""The demo scenario and the helpers that start real HQ and agent processes on loopback."""
