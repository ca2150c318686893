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


SECRET = b"order_id,order_date,amount,currency\nSECRET1,2017-03-01,1,USD\n"


def _outside(tmp_path):
    """A folder outside the landing root holding a file that would load, were it read."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_bytes(SECRET)
    return outside


def _nothing_kept(db_url) -> None:
    assert query(db_url, "select count(*) from raw.orders where order_id = 'SECRET1'") == [(0,)]
    assert query(db_url, "select count(*) from ops.rejected_rows where raw_record::text like '%SECRET1%'"
                 ) == [(0,)]


def test_a_linked_folder_inside_a_channel_folder_is_refused_by_name(db_url, tmp_path):
    landing = tmp_path / "landing"
    (landing / "orders").mkdir(parents=True)
    (landing / "orders" / "a.csv").write_bytes(ORDERS)
    (landing / "orders" / "more").symlink_to(_outside(tmp_path))  # no data-file suffix: still listed

    found = [f["path"] for f in new_files(db_url, str(landing))]
    assert found == [str(landing / "orders" / "a.csv"), str(landing / "orders" / "more")]
    with pytest.raises(IngestionError, match="is a symbolic link; salesops reads only regular files") as exc:
        ingest_file(db_url, "orders", found[1], root=str(landing))
    assert "SECRET1" not in str(exc.value) and "secret.csv" not in str(exc.value)
    assert ingest_file(db_url, "orders", found[0], root=str(landing)).status == "loaded"
    _nothing_kept(db_url)


def test_a_linked_channel_folder_is_refused_not_followed(db_url, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "orders").symlink_to(_outside(tmp_path))

    assert not landing_is_empty(str(landing))
    found = new_files(db_url, str(landing))
    assert found == [{"channel": "orders", "path": str(landing / "orders")}]  # not the files behind it
    with pytest.raises(IngestionError, match="is a symbolic link"):
        ingest_file(db_url, "orders", found[0]["path"], root=str(landing))
    # A file named through the linked folder is refused too: the folder is not followed.
    with pytest.raises(IngestionError, match=r"is inside .*/landing/orders, a symbolic link"):
        ingest_file(db_url, "orders", str(landing / "orders" / "secret.csv"), root=str(landing))
    _nothing_kept(db_url)


def test_a_path_that_leaves_the_landing_root_is_refused(db_url, tmp_path):
    landing = tmp_path / "landing"
    (landing / "orders").mkdir(parents=True)
    _outside(tmp_path)
    escaping = f"{landing}/orders/../../outside/secret.csv"
    with pytest.raises(IngestionError, match="is outside the landing folder"):
        ingest_file(db_url, "orders", escaping, root=str(landing))
    with pytest.raises(IngestionError, match="is outside the landing folder"):
        ingest_file(db_url, "orders", "memory://landing/orders/../../x.csv", root="memory://landing")
    _nothing_kept(db_url)
    assert query(db_url, "select count(*) from ops.ingestion_batches") == [(0,)]  # nothing booked


def test_a_fifo_in_the_landing_folder_does_not_block_the_loader(db_url, tmp_path):
    import os

    fifo = tmp_path / "orders.csv"
    os.mkfifo(fifo)
    with pytest.raises(IngestionError, match="is not a regular file"):
        ingest_file(db_url, "orders", str(fifo), root=str(tmp_path))
