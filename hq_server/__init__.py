"""The HQ server: assignments, branches, grants, usage, audit, over gRPC."""
