"""The shipped MIG schemas, loaded from the package and compiled once per thread.

The XSDs live in `mof_sync/schemas/` (see PROVENANCE.md there). They are read with
importlib.resources, so they work from a wheel or a zip too; their `xsd:include`s are served by
a resolver from the same package folder, never from the file system at large or the network.
"""

from __future__ import annotations

import threading
from importlib import resources
from importlib.resources.abc import Traversable

from lxml import etree

from mof_sync.mig import MessageType, MigVersion

_SCHEME = "mof-sync-schemas:///"
_SCHEMA_FILES = {
    (MessageType.E0401, MigVersion.V4_0): "v4.0/E0401.xsd",
    (MessageType.E0402, MigVersion.V4_0): "v4.0/E0402.xsd",
    (MessageType.E0501, MigVersion.V4_0): "v4.0/E0501.xsd",
    (MessageType.E0401, MigVersion.V4_1): "v4.1/messages/E0401.xsd",
    (MessageType.E0402, MigVersion.V4_1): "v4.1/messages/E0402.xsd",
}
# Compiled schemas are reused (compiling costs far more than validating a small document), but
# per thread: an XMLSchema keeps its last error log on the object.
_local = threading.local()


def schema_resource(relative: str) -> Traversable:
    """A file of the shipped schema folder, e.g. `v4.1/messages/E0402.xsd`."""
    node = resources.files("mof_sync").joinpath("schemas")
    for part in relative.split("/"):
        node = node.joinpath(part)
    return node


def schema_for(message: MessageType, version: MigVersion) -> etree.XMLSchema:
    """The compiled XSD of a message in a MIG version (cached per thread)."""
    cache: dict[tuple[MessageType, MigVersion], etree.XMLSchema] | None = getattr(
        _local, "schemas", None
    )
    if cache is None:
        cache = _local.schemas = {}
    schema = cache.get((message, version))
    if schema is None:
        try:
            relative = _SCHEMA_FILES[(message, version)]
        except KeyError:
            raise LookupError(
                f"no shipped schema for {message.value} MIG {version.value}"
            ) from None
        schema = cache[(message, version)] = _compile(relative)
    return schema


class _PackageResolver(etree.Resolver):
    """Serves includes from the package's schema folder and refuses everything else."""

    def resolve(self, system_url: str, public_id: str, context: object) -> object:
        if not system_url.startswith(_SCHEME):
            raise LookupError(f"schema include {system_url!r} is outside the shipped schemas")
        data = schema_resource(system_url[len(_SCHEME) :]).read_bytes()
        return self.resolve_string(data, context, base_url=system_url)


def _compile(relative: str) -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    parser.resolvers.add(_PackageResolver())
    text = schema_resource(relative).read_bytes()
    root = etree.fromstring(text, parser, base_url=_SCHEME + relative)
    return etree.XMLSchema(etree.ElementTree(root))
