"""Job queues: in-process worker threads and Dramatiq on Redis."""
