-- legacy_code was only read by the old importer, removed in release 2024.1.
ALTER TABLE projects DROP COLUMN legacy_code;
