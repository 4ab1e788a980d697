"""gRPC server reflection, v1 beside v1alpha, for every server of ours (grpcurl, Postman).

grpcio-reflection (1.85) ships only v1alpha (grpc/grpc#38576). The v1 protocol is the same
messages under another package, so the same servicer answers both: its v1alpha messages are
the v1 messages byte for byte. The v1 file is registered in the descriptor pool under its
upstream name, so `describe grpc.reflection.v1.ServerReflection` works too.
"""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection, reflection_pb2
from grpc_reflection.v1alpha._async import ReflectionServicer

V1ALPHA_SERVICE = reflection.SERVICE_NAME
V1_PACKAGE = "grpc.reflection.v1"
V1_FILE = "grpc/reflection/v1/reflection.proto"
V1_SERVICE = f"{V1_PACKAGE}.ServerReflection"
METHOD = "ServerReflectionInfo"
METHODS = (f"/{V1ALPHA_SERVICE}/{METHOD}", f"/{V1_SERVICE}/{METHOD}")


def _register_v1_file() -> None:
    """Put grpc/reflection/v1/reflection.proto in the default pool (once), made from v1alpha's."""
    pool = descriptor_pool.Default()
    try:
        pool.FindFileByName(V1_FILE)
        return  # a library (or an earlier call) has it already
    except KeyError:
        pass
    proto = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(proto)
    alpha = proto.package
    proto.name, proto.package = V1_FILE, V1_PACKAGE
    proto.ClearField("options")

    def moved(name: str) -> str:
        return name.replace(f".{alpha}.", f".{V1_PACKAGE}.")

    for message in proto.message_type:
        for field in message.field:
            if field.HasField("type_name"):  # messages and enums only: scalars have none
                field.type_name = moved(field.type_name)
    for method in proto.service[0].method:
        method.input_type, method.output_type = moved(method.input_type), moved(method.output_type)
    pool.Add(proto)


def enable(server: grpc.aio.Server, service_names: Iterable[str]) -> tuple[str, ...]:
    """Serve reflection v1alpha and v1 for `service_names` (and themselves); the names listed."""
    _register_v1_file()
    names = (*service_names, V1ALPHA_SERVICE, V1_SERVICE)
    servicer = ReflectionServicer(names)
    handler = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    for service in (V1ALPHA_SERVICE, V1_SERVICE):
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(service, {METHOD: handler}),)
        )
    return names
