"""Whether the router accepts a key, asked with a request that generates nothing.

The request is the models catalogue, `GET {base}/llm/v1alpha/models`: the router documents it with the
same key (as Basic auth), it costs nothing and starts no model, and `models` already uses it, so what it
answers here is what `models` would see. A Messages request would make the router route and generate, and
a saved-routers listing is account administration, which a key meant for requests might not be allowed.
What it cannot tell: whether the account has credit (a 402 only comes with a request that generates).
"""

from __future__ import annotations

from collections.abc import Mapping

from inworld_cli.errors import AuthError
from inworld_cli.router.catalog import MODELS_PATH, catalogue_endpoint, get_json
from inworld_cli.router.transport import Endpoint, Transport

CHECK_REQUEST = f"GET {MODELS_PATH}"


def check_key(transport: Transport, endpoint: Endpoint, env: Mapping[str, str], refused_hint: str) -> None:
    """Returns when the router accepts the key; raises AuthError (refused, exit 3), NetworkFailure
    (unreachable, exit 6) or the error of any other answer (4 or 5), with the usual messages."""
    endpoint = catalogue_endpoint(endpoint)
    try:
        get_json(transport, endpoint, MODELS_PATH, "the models", env=env)
    except AuthError as exc:
        raise AuthError(
            f"the key was refused by {endpoint.url}: {exc.message}", refused_hint, details=exc.details
        ) from None
