"""Request and response models shared by several corpus chutes."""

from pydantic import BaseModel, Field


class Prompt(BaseModel):
    prompt: str
    max_tokens: int = Field(256, ge=1, le=4096)
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    stop: list[str] | None = None


class Completion(BaseModel):
    text: str
    tokens: int
