"""The HQ back office on the web: pages over the admin API, served by einv-hq itself.

It owns the HTTP side only: login (its users, passwords, lock-out, signed session cookies,
CSRF tokens), the pages, their charts and texts (Traditional Chinese and English), and its
static files. Every figure and every change goes through the AdminService servicer in-process,
after the same authorization table decides (`hq_server.authz.RULES`), acting as the logged-in
user so the audit log names them; it reads no table the admin API serves. Started and stopped
by `hq_server.server.serve` on `--web-listen`, in the same event loop as gRPC.
"""
