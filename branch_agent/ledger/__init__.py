"""The agent's durable ledger (SQLite, WAL, synchronous=FULL): its schema, its transactions, the
one writer that group-commits them, and the commands a POS call or a refill becomes. Everything
a POS was handed is here before the reply.
"""
