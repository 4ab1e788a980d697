"""Everything that talks to HQ: the client and its failover, HQ's refusals read as reasons, the
config stream, usage reports, and the branch identity (enrolment, renewal).
"""
