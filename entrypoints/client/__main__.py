"""Run the client commands alone: ``python -m tasks_api.entrypoints.client``."""

from tasks_api.entrypoints.client.parser import main

if __name__ == "__main__":
    main()
