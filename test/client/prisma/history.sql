-- The database as `prisma migrate deploy` left it: the first two migrations
-- applied; 20240103000000_add_project_name_index failed (its CREATE INDEX
-- CONCURRENTLY met lock_timeout) and was marked with `prisma migrate resolve
-- --rolled-back`, so Prisma applies it again on the next deploy.
-- `migration_guard check --pending` checks 20240103..., 20240104...,
-- 20240105... only. Run after fixture.sql, in the same database.

-- What the applied migrations did (the guard would refuse the CREATE INDEX
-- now that the application uses "Project": it was run in a maintenance window)
BEGIN;
SET LOCAL migration_guard.allow = 'all';
SET LOCAL migration_guard.reason = 'test fixture: migrations deployed before';
CREATE TABLE "Organization" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Organization_pkey" PRIMARY KEY ("id")
);
CREATE TABLE "Membership" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "role" TEXT NOT NULL DEFAULT 'member',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Membership_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "Membership_organizationId_userId_key" ON "Membership"("organizationId", "userId");
ALTER TABLE "Membership" ADD CONSTRAINT "Membership_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Membership" ADD CONSTRAINT "Membership_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Project" ADD COLUMN "status" TEXT NOT NULL DEFAULT 'active';
CREATE INDEX "Project_userId_status_idx" ON "Project"("userId", "status");
COMMIT;

-- Prisma's history table, as prisma-engines creates it on PostgreSQL
CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);

-- checksum: SHA-256 of the migration.sql files of prisma/migrations
INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs,
                                rolled_back_at, started_at, applied_steps_count) VALUES
('0b5c3f0e-6f43-4f8e-9a51-3d8f0c2a7e11',
 '9ae2a725dd868696dd1a24bed50c3273aaf1ad15a9970c79d0f22a73866fc957',
 '2024-01-01 10:00:01.412+00', '20240101000000_init', NULL,
 NULL, '2024-01-01 10:00:01.305+00', 1),
('6a1d7a2c-58f4-4c8b-b5a3-0e9b2f4d1c22',
 '3c9908d6e342377bcc7192e17a91ce2702cd7ea65ed05316f5912957c375ce56',
 '2024-01-02 22:14:09.876+00', '20240102000000_add_project_status_index', NULL,
 NULL, '2024-01-02 22:14:08.101+00', 1),
('c7e2b9d4-1f3a-4e6d-8b0c-5a4f3e2d1b33',
 '84c5dab2a23e4c18098fa73417c82b9b04df3b1a45feefcd18b1537ef43cb20f',
 NULL, '20240103000000_add_project_name_index',
 E'A migration failed to apply. New migrations cannot be applied before the error is recovered from. Read more about how to resolve migration issues in a production database: https://pris.ly/d/migrate-resolve\n\nMigration name: 20240103000000_add_project_name_index\n\nDatabase error code: 55P03\n\nDatabase error:\nERROR: canceling statement due to lock timeout\n',
 '2024-01-03 09:30:00.000+00', '2024-01-03 09:12:44.520+00', 0);
