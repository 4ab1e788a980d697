"""The numbers a branch holds ahead of need: the buffer's state per period, the burn rate it is
refilled by, and the refiller that asks HQ for whole booklets.
"""
