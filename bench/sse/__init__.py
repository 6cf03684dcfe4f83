"""bench/sse: how many live event streams one API process holds, and at what cost."""
