"""Errors of the chutes.ai platform client.

They extend the root tree in :mod:`chutes_build.core._errors`::

    DeployError
    └── PlatformError            the platform answered with an error (status in .status)
        ├── PlatformConfigError  no usable config.ini / credentials
        ├── PlatformAuthError    401: bad credentials, signature or nonce
        ├── PaymentRequired      402: fee notice or balance message, shown verbatim
        ├── PlatformNotFound     404
        ├── PlatformConflict     409: the object already exists
        │   └── ImageConflict    (also a BuildError) same name:tag, different content
        ├── PlatformUnavailable  connection errors, 429 or 5xx after every retry
        └── RemoteBuildFailed    (also a BuildError) the platform's image build failed
    BuildError
    └── SecretFileRefused        a build context would upload a secret-looking file
"""

from __future__ import annotations

from ..core import BuildError, DeployError

__all__ = [
    "ImageConflict",
    "PaymentRequired",
    "PlatformAuthError",
    "PlatformConfigError",
    "PlatformConflict",
    "PlatformError",
    "PlatformNotFound",
    "PlatformUnavailable",
    "RemoteBuildFailed",
    "SecretFileRefused",
]


class PlatformError(DeployError):
    """The chutes.ai API answered with an error."""

    def __init__(self, message: str, *, status: int | None = None, **kwargs) -> None:
        self.status = status
        super().__init__(message, **kwargs)


class PlatformConfigError(PlatformError):
    """The client has no usable configuration (config.ini missing or incomplete)."""


class PlatformAuthError(PlatformError):
    """401: the platform rejected the credentials, signature or nonce."""


class PaymentRequired(PlatformError):
    """402: a deployment fee must be accepted, or the balance is too low."""


class PlatformNotFound(PlatformError):
    """404: no such image, chute, user or key (or it is not yours)."""


class PlatformConflict(PlatformError):
    """409: the object already exists."""


class ImageConflict(PlatformConflict, BuildError):
    """An image with this name:tag exists on the platform with different content."""


class PlatformUnavailable(PlatformError):
    """The platform could not be reached, or kept answering 429/5xx."""


class RemoteBuildFailed(PlatformError, BuildError):
    """The platform's image builder reported an error status."""


class SecretFileRefused(BuildError):
    """A build context would upload a file that looks like a secret."""
