BEGIN;
--
-- Remove field legacy_code from project
--
ALTER TABLE "projects" DROP COLUMN "legacy_code" CASCADE;
COMMIT;
