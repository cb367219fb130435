-- A bucket's policy (a resource-based policy document), if it has one.
ALTER TABLE s3_buckets ADD COLUMN policy TEXT;
