-- The file a raw row came from lives on its batch (ops.ingestion_batches.source_file, one
-- batch per file) and no longer on every row: the staging models read it by joining the
-- batch. Repeated on every row it was the widest load-metadata column, and the server's
-- extra work per row over a plain COPY of the file (issue 9: ~0.5-0.7 CPU-seconds per 1M
-- rows of binary COPY, 47 MB of the 272 MB stream).
--
-- dbt's staging views select * from the raw tables, so they depend on the column: they are
-- dropped with it and the next `dbt build` (salesops build, the transform DAG) recreates
-- them. Nothing is lost: the values are on the batches.
do $$
declare
    landing record;
begin
    for landing in
        select table_name from information_schema.columns
        where table_schema = 'raw' and column_name = '_source_file'
    loop
        execute format('alter table raw.%I drop column _source_file cascade', landing.table_name);
    end loop;
end
$$;
