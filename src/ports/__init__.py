"""The interfaces the core needs from the outside world.

Every port is an abstract base class; adapters subclass it, so a missing
method fails at construction rather than at the first call.
"""
