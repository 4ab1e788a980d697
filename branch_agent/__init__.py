"""The in-store branch agent: local durable ledger, POS gRPC API, auto-refill, usage reports."""
