-- prisma/migrations/20261123090000_introduce_organizations/migration.sql
-- What `prisma migrate dev` writes for the new schema, plus the data
-- migration a developer in a hurry adds by hand.

-- CreateTable
CREATE TABLE "Organization" (
    "id"         TEXT NOT NULL,
    "name"       TEXT NOT NULL,
    "slug"       TEXT NOT NULL,
    "isPersonal" BOOLEAN NOT NULL DEFAULT true,
    "createdAt"  TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Organization_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Membership" (
    "userId"         TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "role"           TEXT NOT NULL DEFAULT 'owner',
    CONSTRAINT "Membership_pkey" PRIMARY KEY ("userId", "organizationId")
);

-- AlterTable: invitation codes for team accounts
ALTER TABLE "User" ADD COLUMN "inviteCode" UUID NOT NULL DEFAULT gen_random_uuid();

-- AlterTable
ALTER TABLE "Project" ADD COLUMN "organizationId" TEXT;

-- Data: one personal organization per user, every project moves to it
INSERT INTO "Organization" ("id", "name", "slug")
SELECT 'org_' || "id", split_part("email", '@', 1) || '''s workspace', 'personal-' || "id"
  FROM "User";
INSERT INTO "Membership" ("userId", "organizationId")
SELECT "id", 'org_' || "id" FROM "User";
UPDATE "Project" SET "organizationId" = 'org_' || "userId";

-- AlterTable
ALTER TABLE "Project" ALTER COLUMN "organizationId" SET NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "Organization_slug_key" ON "Organization" ("slug");

-- CreateIndex
CREATE INDEX "Project_organizationId_idx" ON "Project" ("organizationId");

-- AddForeignKey
ALTER TABLE "Project" ADD CONSTRAINT "Project_organizationId_fkey"
    FOREIGN KEY ("organizationId") REFERENCES "Organization" ("id")
    ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Membership" ADD CONSTRAINT "Membership_userId_fkey"
    FOREIGN KEY ("userId") REFERENCES "User" ("id")
    ON DELETE RESTRICT ON UPDATE CASCADE;
