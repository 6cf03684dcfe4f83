"""The client commands of ``tasks-api``: the public API from a terminal.

    tasks-api login                      save a token for a server
    tasks-api projects list|create       your projects
    tasks-api tasks list|create          a project's tasks, filtered
    tasks-api upload FILE --task ID      attach a file, follow its job
    tasks-api follow JOB / job JOB       watch or read a job

These commands need none of the server's settings. They talk to the API
over HTTP only, as any other client would, and follow jobs over the same
live stream.
"""

from tasks_api.entrypoints.client.errors import EXIT_CODES_HELP
from tasks_api.entrypoints.client.parser import add_client_commands, main

__all__ = ["EXIT_CODES_HELP", "add_client_commands", "main"]
