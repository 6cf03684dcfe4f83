"""Schemathesis hooks for the contract run, loaded through SCHEMATHESIS_HOOKS.

Two things the command line cannot say:

- Status codes are checked against what each operation declares, not
  against the ``default`` response flask-smorest adds to every operation:
  with it, any status at all conforms, and ``status_code_conformance``
  would check nothing.
- A second user (Bob) owns a project, a task, an attachment and a job,
  whose ids arrive in CONTRACT_FOREIGN_IDS (a JSON object by path
  parameter name). Generated requests use them now and then in place of
  their own ids, and ``foreign_ids_stay_hidden`` fails any success for
  one of them and any response that shows one.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from hypothesis import strategies as st

FOREIGN_IDS: dict[str, str] = json.loads(os.environ.get("CONTRACT_FOREIGN_IDS", "{}"))


@schemathesis.hook
def before_load_schema(context: Any, raw_schema: dict[str, Any]) -> None:
    """Drop every operation's catch-all ``default`` response."""
    for item in raw_schema.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                operation.get("responses", {}).pop("default", None)


@schemathesis.hook
def flatmap_path_parameters(
    context: Any, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    """The generated ids, or the same with the other user's ids in their place."""
    theirs = {
        name: FOREIGN_IDS[name] for name in path_parameters or {} if name in FOREIGN_IDS
    }
    if not theirs:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**(path_parameters or {}), **theirs}])


@schemathesis.check
def foreign_ids_stay_hidden(ctx: Any, response: Any, case: Any) -> None:
    """Another user's id is never answered with success, nor ever shown."""
    foreign = set(FOREIGN_IDS.values())
    asked = foreign & {str(value) for value in (case.path_parameters or {}).values()}
    if asked and response.status_code < 400:
        raise AssertionError(
            f"Answered {response.status_code} for another user's id: "
            f"{', '.join(sorted(asked))}."
        )

    body = response.content.decode("utf-8", "replace")
    shown = sorted(value for value in foreign if value in body)
    if shown:
        raise AssertionError(f"The response shows another user's id: {shown}.")
