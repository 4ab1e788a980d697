"""What the store's POS terminals talk to: the POS gRPC service (loopback, a unix socket, or TLS
with a per-terminal credential), the NextNumbers/GiveBack use cases, and the einv-pos command
line.
"""
