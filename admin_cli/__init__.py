"""`einv-admin`: the HQ admin's client. It talks to HQ over the admin API only (mutual TLS with
the admin's own certificate) and keeps the CA's files (`certs`); it imports no server code."""
