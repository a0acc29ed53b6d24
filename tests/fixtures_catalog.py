"""Realistic answers of the models and routers endpoints, shaped like Inworld's documented examples
(the models list's "real example response"; routers in the snake_case of the router API reference)."""

from __future__ import annotations

from typing import Any

from tests.router_server import RouterServer, error_reply, json_reply

MODELS_PATH = "/llm/v1alpha/models"
ROUTERS_PATH = "/router/v1/routers"

MODELS: list[dict[str, Any]] = [
    {
        "model": "gemini-2.5-flash",
        "provider": "google",
        "modelCreator": "Google",
        "pricing": {"prompt": 3e-7, "completion": 0.0000025},
        "spec": {
            "inputModalities": ["text", "image", "audio", "video"],
            "outputModalities": ["text"],
            "contextLength": 1048576,
        },
    },
    {
        "model": "claude-opus-4-6",
        "provider": "anthropic",
        "modelCreator": "Anthropic",
        "pricing": {"prompt": 0.000015, "completion": 0.000075},
        "spec": {
            "inputModalities": ["text", "image"],
            "outputModalities": ["text"],
            "contextLength": "200000",
        },
    },
    {
        "model": "claude-haiku-4-5",
        "provider": "anthropic",
        "modelCreator": "Anthropic",
        "pricing": {"prompt": "0.000001", "completion": "0.000005"},
        "spec": {"contextLength": 200000},
    },
    {
        "model": "llama-3.3-70b-versatile",
        "provider": "groq",
        "modelCreator": "Meta",
        "pricing": {"prompt": 5.9e-7, "completion": 7.9e-7},
        "spec": {"contextLength": 131072},
        "deprecated": False,  # a field this CLI does not know: kept in --json
    },
    {"model": "mystery-model", "provider": "openai"},  # no pricing, no spec
]

SUPPORT_ROUTER: dict[str, Any] = {
    "name": "routers/support-router",
    "displayName": "Support router",
    "routes": [
        {
            "route": {
                "route_id": "premium-tier",
                "variants": [
                    {"variant": {"variant_id": "premium-gpt5", "model_id": "openai/gpt-5.2"}, "weight": 70},
                    {
                        "variant": {"variant_id": "premium-opus", "model_id": "anthropic/claude-opus-4-6"},
                        "weight": 30,
                    },
                ],
            },
            "condition": {"cel_expression": 'tier == "premium"'},
        },
        {
            "route": {
                "route_id": "spanish",
                "variants": [
                    {
                        "variant": {
                            "variant_id": "auto-cheap",
                            "model_selection": {
                                "models": ["groq/llama-3.3-70b-versatile"],
                                "sort": ["price"],
                            },
                        },
                        "weight": 100,
                    }
                ],
            },
            "condition": {"cel_expression": 'language == "es"'},
            "priority": 2,  # unknown: shown, not dropped
        },
    ],
    "defaultRoute": {
        "route_id": "default",
        "variants": [
            {
                "variant": {"variant_id": "default", "model_id": "google-ai-studio/gemini-2.5-flash"},
                "weight": 100,
            }
        ],
    },
    "defaults": {"message_templates": [{"role": "system", "content": "You are a helpful support agent."}]},
    "createTime": "2026-10-01T12:00:00Z",
}

AB_ROUTER: dict[str, Any] = {
    "name": "routers/ab-test",
    "displayName": "A/B test",
    "routes": [],
    "defaultRoute": {
        "routeId": "default",
        "variants": [
            {"variant": {"variantId": "a", "modelId": "openai/gpt-5"}, "weight": 50},
            {"variant": {"variantId": "b", "modelId": "anthropic/claude-sonnet-4-6"}, "weight": 50},
        ],
    },
}

ROUTERS: list[dict[str, Any]] = [SUPPORT_ROUTER, AB_ROUTER]


def serve_catalog(router: RouterServer) -> None:
    """The models list, the routers list in two pages, and each router by id; anything else is a 404."""
    router.routes[MODELS_PATH] = json_reply({"models": MODELS})
    router.routes[f"{ROUTERS_PATH}/support-router"] = json_reply(SUPPORT_ROUTER)
    router.routes[f"{ROUTERS_PATH}/ab-test"] = json_reply(AB_ROUTER)
    router.routes[f"{ROUTERS_PATH}?page_size=100&page_token=page-2"] = json_reply({"routers": [AB_ROUTER]})
    router.routes[f"{ROUTERS_PATH}?"] = json_reply({"routers": [SUPPORT_ROUTER], "nextPageToken": "page-2"})
    router.routes[f"{ROUTERS_PATH}/"] = error_reply(404, "router not found", "not_found_error")
