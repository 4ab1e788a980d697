"""The in-store branch agent, by role: `ledger/` (the durable SQLite ledger, its one writer and
the commands it commits), `buffer/` (the numbers held per period, the burn rate, the refill),
`pos/` (the POS terminals' gRPC service, NextNumbers/GiveBack, einv-pos) and `hq/` (everything
that talks to HQ: client and failover, refusals by reason, config stream, usage reports, the
branch identity). `agent.py` composes them; `cli.py` is einv-agent.
"""
