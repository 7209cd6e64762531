-- Phase 4, enforce (migration 3 of 4). Each step is its own transaction:
-- the long scans run under SHARE UPDATE EXCLUSIVE, which lets the
-- application read and write; the ACCESS EXCLUSIVE steps are catalog-only.

-- Scans "Project" and "Organization" while reads and writes go on.
ALTER TABLE "Project" VALIDATE CONSTRAINT "Project_organizationId_fkey";

-- NOT NULL in three steps: a NOT VALID check (instant), its validation
-- (a scan that blocks nobody), then SET NOT NULL, which PostgreSQL proves
-- from the validated check instead of scanning the table again.
ALTER TABLE "Project" ADD CONSTRAINT "Project_organizationId_not_null"
    CHECK ("organizationId" IS NOT NULL) NOT VALID;
ALTER TABLE "Project" VALIDATE CONSTRAINT "Project_organizationId_not_null";
ALTER TABLE "Project" ALTER COLUMN "organizationId" SET NOT NULL;
ALTER TABLE "Project" DROP CONSTRAINT "Project_organizationId_not_null";

ALTER TABLE "User" ADD CONSTRAINT "User_inviteCode_not_null"
    CHECK ("inviteCode" IS NOT NULL) NOT VALID;
ALTER TABLE "User" VALIDATE CONSTRAINT "User_inviteCode_not_null";
ALTER TABLE "User" ALTER COLUMN "inviteCode" SET NOT NULL;
ALTER TABLE "User" DROP CONSTRAINT "User_inviteCode_not_null";

CREATE UNIQUE INDEX CONCURRENTLY "User_inviteCode_key" ON "User" ("inviteCode");
