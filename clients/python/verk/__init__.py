"""Python client for the Verk API (standard library only).

    from verk import VerkClient
    client = VerkClient(api_key=os.environ["VERK_API_KEY"])
    task = client.tasks.create(title="New task", project_id="proj_123")
"""
from . import models
from .client import Page, VerkClient
from .errors import VerkConnectionError, VerkError, WebhookVerificationError
from .webhooks import verify_webhook

__version__ = "0.1.0"
__all__ = [
    "Page",
    "VerkClient",
    "VerkConnectionError",
    "VerkError",
    "WebhookVerificationError",
    "models",
    "verify_webhook",
]
