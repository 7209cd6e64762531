-- Phase 1, expand (migration 1 of 4, in one transaction, as most migration tools run a file).
-- New tables, and nullable columns with no default: catalog changes only.
-- The foreign key is NOT VALID: from now on new rows are checked, the old
-- ones are not scanned under the lock.
BEGIN;

CREATE TABLE "Organization" (
    "id"         TEXT NOT NULL,
    "name"       TEXT NOT NULL,
    "slug"       TEXT NOT NULL,
    "isPersonal" BOOLEAN NOT NULL DEFAULT true,
    "createdAt"  TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Organization_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "Organization_slug_key" ON "Organization" ("slug");

CREATE TABLE "Membership" (
    "userId"         TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "role"           TEXT NOT NULL DEFAULT 'owner',
    CONSTRAINT "Membership_pkey" PRIMARY KEY ("userId", "organizationId"),
    CONSTRAINT "Membership_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id")
        ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "Membership_organizationId_fkey" FOREIGN KEY ("organizationId")
        REFERENCES "Organization" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE INDEX "Membership_organizationId_idx" ON "Membership" ("organizationId");

ALTER TABLE "User" ADD COLUMN "inviteCode" UUID;
ALTER TABLE "User" ALTER COLUMN "inviteCode" SET DEFAULT gen_random_uuid();

ALTER TABLE "Project" ADD COLUMN "organizationId" TEXT;
ALTER TABLE "Project" ADD CONSTRAINT "Project_organizationId_fkey"
    FOREIGN KEY ("organizationId") REFERENCES "Organization" ("id")
    ON DELETE RESTRICT ON UPDATE CASCADE NOT VALID;

COMMIT;

-- Migration 2 of 4: outside a transaction, because CONCURRENTLY cannot run
-- in one (Prisma: a migration file of its own).
CREATE INDEX CONCURRENTLY "Project_organizationId_idx" ON "Project" ("organizationId");
