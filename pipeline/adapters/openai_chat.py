"""Chat completions over any OpenAI-compatible endpoint (for cited answer synthesis)."""
from __future__ import annotations

from typing import Any

from pipeline.domain.errors import TransientError


class OpenAIChat:
    """ChatLLM port over the openai client; base_url selects an OpenAI-compatible server."""

    def __init__(self, *, api_key: str, model: str, base_url: str | None = None, timeout_s: float = 60.0,
                 client: Any = None) -> None:
        if client is None:
            from openai import OpenAI

            client = OpenAI(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=1)
        self._client = client
        self._model = model

    def complete(self, system: str, user: str) -> str:
        """One deterministic completion; TransientError when the endpoint fails."""
        import openai

        try:
            resp = self._client.chat.completions.create(
                model=self._model, temperature=0,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}])
        except (openai.APIConnectionError, openai.APITimeoutError, openai.RateLimitError,
                openai.InternalServerError) as exc:
            raise TransientError(f"LLM endpoint unavailable: {type(exc).__name__}") from exc
        return resp.choices[0].message.content or ""
