"""A chat-completions client for OpenAI-compatible servers: retries on 429, 5xx and timeouts (tenacity,
Retry-After honoured), one-line errors for a wrong endpoint or key, and what the server said about itself.

Retries belong to one model call: the agent sees one answer (or one error), never a retry as a step.
"""

from __future__ import annotations

import random
import time
from typing import Any

import structlog
from pydantic import BaseModel, Field

from workers.errors import InfraError, UserInputError
from workers.rollout.spec import EndpointSpec, SamplingSpec

log = structlog.get_logger(__name__)
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
MAX_RETRY_AFTER_S = 120.0


class EndpointError(UserInputError):
    """The endpoint or its key is wrong (401/403/404, a model it does not serve): no retry helps."""


class EndpointUnavailable(InfraError):
    """The endpoint kept failing (429/5xx/timeouts) through every retry of one call."""


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ModelReply(BaseModel):
    """One answered model call."""

    message: dict[str, Any] = Field(description="The assistant message as the server returned it.")
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    server_model: str | None = Field(default=None, description="The 'model' field of the response.")
    system_fingerprint: str | None = None
    retries: int = Field(default=0, description="Failed tries before this answer (not agent steps).")
    duration_s: float = Field(default=0.0, description="Seconds of the call, retries and waits included.")

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number; HTTP dates are treated as absent)."""
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:
        return None


class ChatClient:
    """Calls ``{base_url}/chat/completions`` of one endpoint; thread-safe (one httpx client)."""

    def __init__(
        self,
        endpoint: EndpointSpec,
        sampling: SamplingSpec,
        *,
        api_key: str | None,
        seed: int | None,
        first_backoff_s: float = 0.5,
    ) -> None:
        import httpx

        self.endpoint, self.sampling, self.seed = endpoint, sampling, seed
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            base_url=endpoint.base_url.rstrip("/"), headers=headers, timeout=endpoint.timeout_s
        )
        self._first_backoff_s = first_backoff_s

    def close(self) -> None:
        self._http.close()

    def body(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.endpoint.model,
            "messages": messages,
            "temperature": self.sampling.temperature,
            "max_tokens": self.sampling.max_tokens,
        }
        if self.sampling.top_p is not None:
            body["top_p"] = self.sampling.top_p
        if self.endpoint.send_seed and self.seed is not None:
            body["seed"] = self.seed
        if tools:
            body["tools"] = tools
        return body

    def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> ModelReply:
        """One model call with its retries; EndpointError (no retry helps) or EndpointUnavailable."""
        from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

        body = self.body(messages, tools)
        t0 = time.monotonic()

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            after = exc.retry_after if isinstance(exc, _Transient) else None
            if after is not None:
                return after
            backoff = self._first_backoff_s * 2 ** (state.attempt_number - 1)
            return min(30.0, backoff) * (0.5 + random.random() / 2)

        retrying = Retrying(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(self.endpoint.max_retries + 1),
            wait=wait,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    data = self._post(body)
        except _Transient as exc:
            raise EndpointUnavailable(
                f"endpoint {self.endpoint.base_url}: {exc} (after {self.endpoint.max_retries + 1} tries)"
            ) from None
        tries = retrying.statistics.get("attempt_number", 1)
        return _reply(data, tries - 1, time.monotonic() - t0)

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        import httpx

        try:
            resp = self._http.post("/chat/completions", json=body)
        except httpx.TimeoutException:
            raise _Transient(f"no answer within {self.endpoint.timeout_s:g} s") from None
        except httpx.TransportError as exc:
            raise _Transient(f"cannot connect: {type(exc).__name__}: {exc}"[:200]) from None
        if resp.status_code in RETRY_STATUS:
            log.debug("model call retried", status=resp.status_code)
            raise _Transient(f"HTTP {resp.status_code}", retry_after(resp.headers.get("retry-after")))
        if resp.status_code >= 400:
            raise endpoint_error(self.endpoint, resp.status_code, resp.text)
        try:
            data: dict[str, Any] = resp.json()
            data["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise _Transient(f"malformed response: {resp.text[:120]!r}") from None
        return data


def endpoint_error(endpoint: EndpointSpec, status: int, text: str) -> EndpointError:
    """A one-line error for a response no retry can fix."""
    detail = " ".join(text.split())[:160]
    if status in (401, 403):
        where = (
            f"${endpoint.api_key_env}" if endpoint.api_key_env else "the endpoint's api_key_env (none set)"
        )
        fix = f"check the key in {where}"
    elif status == 404:
        fix = f"check base_url (it should end in /v1) and that the server serves model {endpoint.model!r}"
    else:
        fix = "check the request parameters (sampling) against the server"
    return EndpointError(
        f"endpoint {endpoint.base_url} answered HTTP {status}: {detail}", field="generate.endpoint", fix=fix
    )


def _reply(data: dict[str, Any], retries: int, duration: float) -> ModelReply:
    choice = data["choices"][0]
    usage = data.get("usage") or {}
    return ModelReply(
        message=choice["message"],
        finish_reason=choice.get("finish_reason"),
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        server_model=data.get("model"),
        system_fingerprint=data.get("system_fingerprint"),
        retries=retries,
        duration_s=round(duration, 4),
    )


def check_endpoint(endpoint: EndpointSpec, api_key: str | None, timeout: float = 15.0) -> list[str]:
    """Before a sweep: GET {base_url}/models. Raises EndpointError in one line when the server cannot be
    reached, refuses the key or does not serve the model; returns the models it lists."""
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    url = endpoint.base_url.rstrip("/") + "/models"
    try:
        resp = httpx.get(url, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise EndpointError(
            f"cannot reach endpoint {endpoint.base_url}: {type(exc).__name__}",
            field="generate.endpoint.base_url",
            fix="check the URL and that the server runs",
        ) from None
    if resp.status_code == 404:
        return []  # a server without a model list: the first call tells
    if resp.status_code >= 400:
        raise endpoint_error(endpoint, resp.status_code, resp.text)
    try:
        served = [str(m["id"]) for m in resp.json().get("data", [])]
    except (ValueError, KeyError, TypeError, AttributeError):
        return []
    if served and endpoint.model not in served:
        raise EndpointError(
            f"endpoint {endpoint.base_url} does not serve model {endpoint.model!r} (it serves "
            f"{', '.join(served[:5])})",
            field="generate.endpoint.model",
            fix="use one of the served names",
        )
    return served
