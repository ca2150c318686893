"""Discovery of new landing files, on a local folder and on an fsspec object-storage URI."""

from __future__ import annotations

import fsspec
import pytest

from ingestion.discovery import landing_is_empty, new_files
from ingestion.errors import IngestionError
from ingestion.loader import ingest_file
from tests.conftest import query

ORDERS = b"order_id,order_date,amount,currency\nO1,2017-03-01,\"1,054.00\",USD\nO2,2017-03-02,99,EUR\n"


def test_object_storage_landing_is_discovered_and_loaded(db_url):
    fs = fsspec.filesystem("memory")
    fs.pipe("/landing-test/orders/2017/erp.csv", ORDERS)
    fs.pipe("/landing-test/orders/notes.pdf", b"%PDF")  # not a data file
    landing = "memory://landing-test"

    found = new_files(db_url, landing)

    assert found == [{"channel": "orders", "path": fs.unstrip_protocol("/landing-test/orders/2017/erp.csv")}]
    result = ingest_file(db_url, "orders", found[0]["path"])
    assert (result.status, result.rows_loaded) == ("loaded", 2)
    amounts = query(db_url, "select amount::text from raw.orders order by 1")
    assert [r[0] for r in amounts] == ["1054.00", "99"]
    assert new_files(db_url, landing) == []
    assert not landing_is_empty(landing)


def test_local_landing_skips_loaded_and_refused_files(db_url, tmp_path):
    (tmp_path / "orders").mkdir()
    good, bad = tmp_path / "orders" / "a.csv", tmp_path / "orders" / "b.csv"
    good.write_bytes(ORDERS)
    bad.write_bytes(b"lead_id\nL1\n")
    assert landing_is_empty(str(tmp_path / "nothing-here"))
    assert [f["path"] for f in new_files(db_url, str(tmp_path))] == [str(good), str(bad)]

    ingest_file(db_url, "orders", str(good))
    with pytest.raises(IngestionError):
        ingest_file(db_url, "orders", str(bad))

    assert new_files(db_url, str(tmp_path)) == []
    bad.write_bytes(ORDERS.replace(b"O1", b"O3") + b"O4,2017-03-05,1,USD\n")  # fixed, new size
    assert [f["path"] for f in new_files(db_url, str(tmp_path))] == [str(bad)]
