"""The chutes.ai platform: settings, request signing, the API client, deploy history.

Imported only by entry points and the engine (it pulls in httpx and trio); the
definitions never import it.
"""

from ._account import (
    create_secret,
    delete_object,
    get_object,
    list_objects,
    login_url,
    redact,
    report_invocation,
    resolve_api_key,
    resolve_chute,
    resolve_image,
    resolve_secret,
    transfer_balance,
)
from ._client import ChutesClient
from ._config import (
    DEFAULT_API_URL,
    PlatformSettings,
    config_path,
    load_settings,
    render_config,
    write_config,
)
from ._errors import (
    ImageConflict,
    PaymentRequired,
    PlatformAuthError,
    PlatformConfigError,
    PlatformConflict,
    PlatformError,
    PlatformNotFound,
    PlatformUnavailable,
    RemoteBuildFailed,
    SecretFileRefused,
)
from ._history import Deploy, History, find_deploy, load_history, record_deploy, rollback
from ._ops import (
    BUILT,
    ImageResult,
    deploy,
    deploy_checked,
    ensure_image,
    preflight,
    upload_logo,
    wait_for_image,
)
from ._payloads import (
    ContextArchive,
    build_context,
    chute_definition,
    deploy_body,
    encode_json,
    encode_multipart,
    image_digest,
    image_fields,
)
from ._signing import SDK_COMPAT_VERSION, Signer, auth_headers, signing_message
from ._sse import LogLine
from ._startup_logs import decrypt_chunks, fetch_startup_logs, stream_instance_logs
from ._wallet import Wallet, default_wallets_path, read_wallet
from ._warm import warm_chutes

__all__ = [
    "BUILT",
    "DEFAULT_API_URL",
    "SDK_COMPAT_VERSION",
    "ChutesClient",
    "ContextArchive",
    "Deploy",
    "History",
    "ImageConflict",
    "ImageResult",
    "LogLine",
    "PaymentRequired",
    "PlatformAuthError",
    "PlatformConfigError",
    "PlatformConflict",
    "PlatformError",
    "PlatformNotFound",
    "PlatformSettings",
    "PlatformUnavailable",
    "RemoteBuildFailed",
    "SecretFileRefused",
    "Signer",
    "Wallet",
    "auth_headers",
    "build_context",
    "chute_definition",
    "config_path",
    "create_secret",
    "decrypt_chunks",
    "default_wallets_path",
    "delete_object",
    "deploy",
    "deploy_body",
    "deploy_checked",
    "encode_json",
    "encode_multipart",
    "ensure_image",
    "fetch_startup_logs",
    "find_deploy",
    "get_object",
    "image_digest",
    "image_fields",
    "list_objects",
    "load_history",
    "load_settings",
    "login_url",
    "preflight",
    "read_wallet",
    "record_deploy",
    "redact",
    "render_config",
    "report_invocation",
    "resolve_api_key",
    "resolve_chute",
    "resolve_image",
    "resolve_secret",
    "rollback",
    "signing_message",
    "stream_instance_logs",
    "transfer_balance",
    "upload_logo",
    "wait_for_image",
    "warm_chutes",
    "write_config",
]
