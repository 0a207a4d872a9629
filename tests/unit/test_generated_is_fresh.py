"""The generated gRPC code is what proto/ produces today: regenerate into a temp dir and compare."""

from __future__ import annotations

from pathlib import Path

from profile_api import codegen


def test_generated_code_matches_the_proto_files(tmp_path: Path):
    fresh = tmp_path / "_generated"
    codegen.generate(fresh)
    stale = codegen.differences(fresh, codegen.GENERATED)
    assert not stale, (f"profile_api/_generated is stale ({', '.join(stale)}): "
                       "run `python -m profile_api.codegen` and commit the result")


def test_generated_modules_import_from_their_own_package():
    from profile_api._generated.herken.v1 import profile_service_pb2, profile_service_pb2_grpc

    assert profile_service_pb2.DESCRIPTOR.package == "herken.v1"
    assert "ProfileService" in profile_service_pb2.DESCRIPTOR.services_by_name
    assert hasattr(profile_service_pb2_grpc, "ProfileServiceStub")
