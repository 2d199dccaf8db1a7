"""Discord's limits on what a bot sends: message content, embeds, components, modals, files.

Each checker returns a list of (path, code, message) field errors; an empty list means valid.
"""

from __future__ import annotations

from typing import Any

from .errors import FieldError
from .model import JSON, MessageFlag

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
ACTION_ROWS_MAX = 5
ROW_COMPONENTS_MAX = 5
CUSTOM_ID_MAX = 100
SELECT_OPTIONS_MAX = 25
BUTTON_LABEL_MAX = 80
V2_COMPONENTS_MAX = 40
V2_TEXT_MAX = 4000
FILES_MAX = 10
MODAL_TITLE_MAX = 45

_EMBED_TEXT = {"title": 256, "description": 4096}
_SELECT_TYPES = (3, 5, 6, 7, 8)


def too_long(path: str, limit: int) -> FieldError:
    return (path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def check_length(path: str, value: Any, limit: int, *, minimum: int = 0) -> list[FieldError]:
    if value is None:
        return []
    if not isinstance(value, str):
        return [(path, "BASE_TYPE_STRING", "Must be a string.")]
    if len(value) > limit:
        return [too_long(path, limit)]
    if len(value) < minimum:
        return [(path, "BASE_TYPE_MIN_LENGTH", f"Must be {minimum} or more in length.")]
    return []


def check_message(payload: JSON, n_files: int) -> list[FieldError]:
    errors = check_length("content", payload.get("content"), CONTENT_MAX)
    embeds = payload.get("embeds") or []
    if len(embeds) > EMBEDS_MAX:
        errors.append(("embeds", "BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS_MAX} or fewer in length."))
    for i, embed in enumerate(embeds):
        errors += check_embed(f"embeds.{i}", embed)
    components = payload.get("components") or []
    if int(payload.get("flags") or 0) & MessageFlag.IS_COMPONENTS_V2:
        errors += check_v2(payload, components)
    else:
        errors += check_action_rows("components", components)
    if n_files > FILES_MAX:
        errors.append(("files", "BASE_TYPE_MAX_LENGTH", f"Must be {FILES_MAX} or fewer in length."))
    return errors


def check_embed(path: str, embed: JSON) -> list[FieldError]:
    errors: list[FieldError] = []
    total = 0
    for key, limit in _EMBED_TEXT.items():
        errors += check_length(f"{path}.{key}", embed.get(key), limit)
        total += len(embed.get(key) or "")
    fields = embed.get("fields") or []
    if len(fields) > 25:
        errors.append((f"{path}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))
    for i, item in enumerate(fields):
        errors += check_length(f"{path}.fields.{i}.name", item.get("name"), 256, minimum=1)
        errors += check_length(f"{path}.fields.{i}.value", item.get("value"), 1024, minimum=1)
        total += len(item.get("name") or "") + len(item.get("value") or "")
    for key, sub, limit in (("footer", "text", 2048), ("author", "name", 256)):
        part = embed.get(key) or {}
        errors += check_length(f"{path}.{key}.{sub}", part.get(sub), limit)
        total += len(part.get(sub) or "")
    if total > EMBED_TOTAL_MAX:
        errors.append((path, "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"))
    return errors


def check_action_rows(path: str, rows: list[JSON]) -> list[FieldError]:
    errors: list[FieldError] = []
    if len(rows) > ACTION_ROWS_MAX:
        errors.append((path, "BASE_TYPE_MAX_LENGTH", f"Must be {ACTION_ROWS_MAX} or fewer in length."))
    seen: set[str] = set()
    for i, row in enumerate(rows):
        here = f"{path}.{i}"
        if row.get("type") != 1:
            errors.append(
                (f"{here}.type", "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1,).')
            )
            continue
        errors += check_row(here, row.get("components") or [], seen)
    return errors


def check_row(path: str, children: list[JSON], seen: set[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    if not children:
        errors.append((f"{path}.components", "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length."))
    if len(children) > ROW_COMPONENTS_MAX:
        errors.append((f"{path}.components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."))
    if any(c.get("type") in _SELECT_TYPES for c in children) and len(children) > 1:
        errors.append(
            (f"{path}.components", "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "A select must be alone in its row.")
        )
    for j, child in enumerate(children):
        errors += check_interactive(f"{path}.components.{j}", child, seen)
    return errors


def check_interactive(path: str, comp: JSON, seen: set[str]) -> list[FieldError]:
    kind = comp.get("type")
    errors: list[FieldError] = []
    custom_id = comp.get("custom_id")
    if kind == 2 and comp.get("style") in (5, 6):
        if custom_id is not None:
            errors.append(
                (f"{path}.custom_id", "COMPONENT_CUSTOM_ID_NOT_ALLOWED", "Link buttons have no custom_id.")
            )
    elif kind in (2, 4, *_SELECT_TYPES):
        if not custom_id:
            errors.append((f"{path}.custom_id", "BASE_TYPE_REQUIRED", "This field is required"))
        errors += check_length(f"{path}.custom_id", custom_id, CUSTOM_ID_MAX)
        if isinstance(custom_id, str) and custom_id in seen:
            errors.append(
                (
                    f"{path}.custom_id",
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            )
        seen.add(str(custom_id))
    else:
        return [(f"{path}.type", "UNION_TYPE_CHOICES", f"Component type {kind} is not allowed here.")]
    if kind == 2:
        errors += check_length(f"{path}.label", comp.get("label"), BUTTON_LABEL_MAX)
    if kind in _SELECT_TYPES:
        errors += check_select(path, comp)
    return errors


def check_select(path: str, comp: JSON) -> list[FieldError]:
    errors = check_length(f"{path}.placeholder", comp.get("placeholder"), 150)
    options = comp.get("options") or []
    if comp.get("type") == 3:
        if not options:
            errors.append((f"{path}.options", "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length."))
        if len(options) > SELECT_OPTIONS_MAX:
            errors.append((f"{path}.options", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))
        values = [o.get("value") for o in options]
        if len(set(values)) != len(values):
            errors.append(
                (
                    f"{path}.options",
                    "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
                    "Option values must be unique",
                )
            )
        for k, opt in enumerate(options):
            for key in ("label", "value", "description"):
                errors += check_length(
                    f"{path}.options.{k}.{key}", opt.get(key), 100, minimum=int(key != "description")
                )
    low, high = int(comp.get("min_values", 1)), int(comp.get("max_values", 1))
    if not 0 <= low <= 25 or not 1 <= high <= 25 or low > high:
        errors.append((f"{path}.max_values", "BASE_TYPE_BAD_INT", "min_values/max_values out of range."))
    if comp.get("type") == 3 and options and high > len(options):
        errors.append(
            (f"{path}.max_values", "BASE_TYPE_MAX", f"Must be less than or equal to {len(options)}.")
        )
    return errors


def _walk_v2(comps: list[JSON]) -> list[JSON]:
    found: list[JSON] = []
    for comp in comps:
        found.append(comp)
        found += _walk_v2(comp.get("components") or [])
        if isinstance(comp.get("accessory"), dict):
            found.append(comp["accessory"])
    return found


def check_v2(payload: JSON, components: list[JSON]) -> list[FieldError]:
    """Components V2 messages: no content or embeds, at most 40 components, 4000 characters of text."""
    errors: list[FieldError] = []
    if payload.get("content"):
        errors.append(
            ("content", "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2", "No content with V2.")
        )
    if payload.get("embeds"):
        errors.append(("embeds", "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2", "No embeds with V2."))
    every = _walk_v2(components)
    if len(every) > V2_COMPONENTS_MAX:
        errors.append(
            ("components", "BASE_TYPE_MAX_LENGTH", f"Must be {V2_COMPONENTS_MAX} or fewer in total.")
        )
    text = sum(len(c.get("content") or "") for c in every if c.get("type") == 10)
    if text > V2_TEXT_MAX:
        errors.append(
            ("components", "BASE_TYPE_MAX_LENGTH", f"Text displays exceed {V2_TEXT_MAX} characters.")
        )
    seen: set[str] = set()
    for i, comp in enumerate(every):
        if comp.get("type") in (2, *_SELECT_TYPES):
            errors += check_interactive(f"components.{i}", comp, seen)
    return errors


def check_modal(data: JSON) -> list[FieldError]:
    errors = check_length("data.title", data.get("title"), MODAL_TITLE_MAX, minimum=1)
    errors += check_length("data.custom_id", data.get("custom_id"), CUSTOM_ID_MAX, minimum=1)
    rows = data.get("components") or []
    if not 1 <= len(rows) <= 5:
        errors.append(("data.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."))
    for i, row in enumerate(rows):
        inner = row.get("components") or (
            [row["component"]] if isinstance(row.get("component"), dict) else []
        )
        for comp in inner:
            errors += check_length(
                f"data.components.{i}.custom_id", comp.get("custom_id"), CUSTOM_ID_MAX, minimum=1
            )
            if comp.get("type") == 4:
                errors += check_length(f"data.components.{i}.label", comp.get("label"), MODAL_TITLE_MAX)
                errors += check_length(f"data.components.{i}.value", comp.get("value"), 4000)
    return errors


def check_choices(choices: Any) -> list[FieldError]:
    if not isinstance(choices, list):
        return [("data.choices", "BASE_TYPE_REQUIRED", "This field is required")]
    errors: list[FieldError] = []
    if len(choices) > 25:
        errors.append(("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))
    for i, choice in enumerate(choices):
        errors += check_length(f"data.choices.{i}.name", choice.get("name"), 100, minimum=1)
        if isinstance(choice.get("value"), str):
            errors += check_length(f"data.choices.{i}.value", choice["value"], 100)
    return errors
