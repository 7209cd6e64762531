-- Phase 3, backfill in batches: each batch is its own short transaction, so
-- no row lock is held for long and the application's writes interleave.
-- (In production this is a script with a pause between batches.)

-- One personal organization and membership per user, 20,000 users a batch.
DO $$
DECLARE
    n bigint;
BEGIN
    LOOP
        WITH batch AS (
            SELECT u."id", u."email"
              FROM "User" u
             WHERE NOT EXISTS (SELECT 1 FROM "Membership" m WHERE m."userId" = u."id")
             LIMIT 20000
        ), orgs AS (
            INSERT INTO "Organization" ("id", "name", "slug")
            SELECT 'org_' || "id", split_part("email", '@', 1) || '''s workspace', 'personal-' || "id"
              FROM batch
            ON CONFLICT ("id") DO NOTHING
        )
        INSERT INTO "Membership" ("userId", "organizationId")
        SELECT "id", 'org_' || "id" FROM batch;
        GET DIAGNOSTICS n = ROW_COUNT;
        EXIT WHEN n = 0;
        COMMIT;
    END LOOP;
END
$$;

-- Invitation codes, 20,000 users a batch.
DO $$
DECLARE
    n bigint;
BEGIN
    LOOP
        UPDATE "User" SET "inviteCode" = DEFAULT
         WHERE "id" IN (SELECT "id" FROM "User" WHERE "inviteCode" IS NULL LIMIT 20000);
        GET DIAGNOSTICS n = ROW_COUNT;
        EXIT WHEN n = 0;
        COMMIT;
    END LOOP;
END
$$;

-- Every project to its owner's personal organization, 50,000 a batch.
DO $$
DECLARE
    n bigint;
BEGIN
    LOOP
        UPDATE "Project" SET "organizationId" = 'org_' || "userId"
         WHERE "id" IN (SELECT "id" FROM "Project" WHERE "organizationId" IS NULL LIMIT 50000);
        GET DIAGNOSTICS n = ROW_COUNT;
        EXIT WHEN n = 0;
        COMMIT;
    END LOOP;
END
$$;
