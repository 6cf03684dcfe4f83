"""A thin API client for end-to-end tests against a running server."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import requests


@dataclass
class ApiClient:
    url: str
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def call(
        self, method: str, path: str, expect: int | None = None, **kwargs: object
    ) -> requests.Response:
        response = requests.request(
            method,
            f"{self.url}/api/v1{path}",
            headers={**self.headers, **kwargs.pop("headers", {})},
            timeout=kwargs.pop("timeout", 30),
            **kwargs,
        )
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.text)
        return response

    def sign_up(self, email: str | None = None) -> ApiClient:
        email = email or f"{uuid.uuid4().hex[:12]}@example.com"
        password = "a long enough password"
        self.call(
            "POST",
            "/auth/register",
            201,
            json={"email": email, "password": password, "name": "E2E"},
        )
        login = self.call(
            "POST", "/auth/login", 200, json={"email": email, "password": password}
        )
        return ApiClient(self.url, login.json()["access_token"])

    def new_task(self) -> str:
        project = self.call("POST", "/projects", 201, json={"name": "E2E"}).json()
        task = self.call(
            "POST", f"/projects/{project['id']}/tasks", 201, json={"title": "Read"}
        )
        return task.json()["id"]

    def upload(self, task_id: str, name: str, data: bytes, **fields: str) -> dict:
        answer = self.call(
            "POST",
            f"/tasks/{task_id}/attachments",
            202,
            files={"file": (name, io.BytesIO(data))},
            data=fields,
        )
        return answer.json()

    def job(self, job_id: str) -> dict:
        return self.call("GET", f"/jobs/{job_id}", 200).json()
