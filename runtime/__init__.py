"""What every server shell shares: the clock, the loopback rule, domain errors as gRPC codes."""
