"""Formatting Kafka storage works for every cluster id, including ids whose text starts with '-'."""
import base64
import uuid

import pytest

from deploy.kafka import KafkaBroker


@pytest.mark.parametrize("first_byte", [0xF8, 0x00])
def test_storage_formats_whatever_the_cluster_id_looks_like(tmp_path, first_byte):
    cluster_id = uuid.UUID(bytes=bytes([first_byte]) + uuid.uuid4().bytes[1:])
    if first_byte == 0xF8:
        assert base64.urlsafe_b64encode(cluster_id.bytes).decode().startswith("-")
    KafkaBroker(tmp_path / "kafka", port=29999).format_storage(cluster_id)
    assert f"cluster.id={base64.urlsafe_b64encode(cluster_id.bytes).decode().rstrip('=')}" in \
        (tmp_path / "kafka" / "logs" / "meta.properties").read_text()
