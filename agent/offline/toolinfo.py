"""What the planner knows about each bound tool: name, description, argument schema, phrases.

Built from whatever `bind_tools` received (LangChain tools, ToolSpecs, dicts), enriched with the
registry's ToolSpec (declared phrases, stage, risk, the pydantic model for validation) when the
tool is registered under the same name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

KNOWLEDGE_TOOLS = ("recommend_services", "describe_service", "list_stages")


@dataclass
class FieldInfo:
    name: str
    types: tuple[
        str, ...
    ]  # JSON schema types ("string", "integer", "number", "boolean", "array", "object")
    description: str = ""
    enum: tuple[Any, ...] = ()
    default: Any = None
    has_default: bool = False
    required: bool = False
    item_types: tuple[str, ...] = ()
    item_enum: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    @property
    def is_array(self) -> bool:
        return "array" in self.types

    @property
    def is_number(self) -> bool:
        return bool({"integer", "number"} & set(self.types))

    @property
    def is_bool(self) -> bool:
        return self.types == ("boolean",) or (
            "boolean" in self.types and not ({"string", "integer"} & set(self.types))
        )

    @property
    def words(self) -> str:
        return f"{self.name.replace('_', ' ')} {self.description}".lower()


@dataclass
class ToolInfo:
    name: str
    description: str
    schema: dict[str, Any]
    fields: dict[str, FieldInfo]
    phrases: tuple[str, ...] = ()
    stage: str = "general"
    risk: str = "read"
    args_model: type[BaseModel] | None = None
    extra_words: list[str] = field(default_factory=list)
    context_kind: str = ""  # the kind of thing its first required name argument refers to

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields.values() if f.required]

    def validate(self, args: dict[str, Any]) -> list[tuple[str, str, str]]:
        """Problems with these arguments as (field, error type, message); [] when valid."""
        if self.args_model is None:
            missing = [name for name in self.required if name not in args]
            return [(m, "missing", "is required") for m in missing]
        from pydantic import ValidationError

        try:
            self.args_model.model_validate(args)
        except ValidationError as exc:
            out = []
            for err in exc.errors():
                loc = str(err["loc"][0]) if err["loc"] else ""
                out.append((loc, err["type"], err["msg"].removeprefix("Value error, ")))
            return out
        except Exception as exc:  # a validator that raised something odd
            return [("", "error", str(exc))]
        return []


def _resolve(node: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    if depth > 20:
        return node
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"].split("/")[-1]
            target = dict(defs.get(ref, {}))
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return _resolve({**target, **rest}, defs, depth + 1)
        return {k: _resolve(v, defs, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, defs, depth + 1) for v in node]
    return node


def _field_from_schema(name: str, prop: dict[str, Any], required: bool) -> FieldInfo:
    variants = prop.get("anyOf") or prop.get("oneOf") or [prop]
    types: list[str] = []
    enum: list[Any] = []
    item_types: list[str] = []
    item_enum: list[Any] = []
    minimum = maximum = None
    for v in variants:
        t = v.get("type")
        if isinstance(t, list):
            types.extend(x for x in t if x != "null")
        elif t and t != "null":
            types.append(t)
        if "const" in v:
            enum.append(v["const"])
            types.append("string" if isinstance(v["const"], str) else "integer")
        enum.extend(v.get("enum", []))
        if not t and v.get("enum"):
            types.append("string" if isinstance(v["enum"][0], str) else "integer")
        if t == "array" and isinstance(v.get("items"), dict):
            items = v["items"]
            it = items.get("type")
            if it:
                item_types.append(it)
            item_enum.extend(items.get("enum", []))
        for key in ("minimum", "exclusiveMinimum"):
            if key in v:
                minimum = v[key]
        for key in ("maximum", "exclusiveMaximum"):
            if key in v:
                maximum = v[key]
    return FieldInfo(
        name=name,
        types=tuple(dict.fromkeys(types)) or ("string",),
        description=str(prop.get("description", "")),
        enum=tuple(dict.fromkeys(enum)),
        default=prop.get("default"),
        has_default="default" in prop,
        required=required,
        item_types=tuple(item_types),
        item_enum=tuple(item_enum),
        minimum=minimum,
        maximum=maximum,
    )


def fields_from_schema(schema: dict[str, Any]) -> dict[str, FieldInfo]:
    defs = schema.get("$defs") or schema.get("definitions") or {}
    resolved = _resolve(schema, defs)
    required = set(resolved.get("required", []))
    return {
        name: _field_from_schema(name, prop if isinstance(prop, dict) else {}, name in required)
        for name, prop in (resolved.get("properties") or {}).items()
    }


# ToolSpecs seen by bind_tools (also test-only ones that are not registered), by name.
KNOWN_SPECS: dict[str, Any] = {}


def remember_spec(tool: Any) -> None:
    from tools.core.declaration import ToolSpec

    spec = tool if isinstance(tool, ToolSpec) else getattr(tool, "spec", None)
    if isinstance(spec, ToolSpec):
        KNOWN_SPECS[spec.name] = spec


def _registry_spec(name: str) -> Any:
    if name in KNOWN_SPECS:
        return KNOWN_SPECS[name]
    try:
        from tools.core.declaration import REGISTRY

        if name in REGISTRY:
            return REGISTRY.get(name)
        from tools.core.registry import load_all

        reg = load_all()
        return reg.get(name) if name in reg else None
    except Exception:
        return None


def tool_info_from_any(tool: Any) -> ToolInfo:
    """Accepts a LangChain tool, a ToolSpec, an OpenAI/Bedrock tool dict, or a pydantic model."""
    from tools.core.declaration import ToolSpec, tool_input_schema

    if isinstance(tool, ToolSpec):
        name, desc, schema = tool.name, tool.description, tool_input_schema(tool.args_model)
    elif isinstance(tool, dict) and "toolSpec" in tool:
        ts = tool["toolSpec"]
        name, desc, schema = ts["name"], ts.get("description", ""), ts["inputSchema"]["json"]
    else:
        from langchain_core.utils.function_calling import convert_to_openai_tool

        fn = convert_to_openai_tool(tool)["function"]
        name, desc, schema = fn["name"], fn.get("description", ""), fn.get("parameters", {})
    spec = tool if isinstance(tool, ToolSpec) else _registry_spec(name)
    info = ToolInfo(
        name=name,
        description=desc or (spec.description if spec else ""),
        schema=schema,
        fields=fields_from_schema(schema),
    )
    if spec is not None:
        info.phrases = tuple(spec.phrases)
        info.stage = spec.stage
        info.risk = spec.risk
        info.args_model = spec.args_model
        # The registry's schema is the ground truth for defaults and requiredness.
        if not info.fields:
            info.fields = fields_from_schema(tool_input_schema(spec.args_model))
    return info
