"""Tasks API: projects, tasks and attachments read by OCR and summarized.

The package is laid out as a hexagon. ``tasks_api.domain``, ``tasks_api.ports``
and ``tasks_api.usecases`` are the core and import no framework;
``tasks_api.adapters`` implements the ports; ``tasks_api.entrypoints`` wires
adapters into the HTTP app, the worker and the command line.
"""
