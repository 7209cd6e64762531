-- Phase 5, contract (migration 4 of 4), weeks later, once no deployed code
-- reads or writes "Project"."userId". Catalog-only, but it takes ACCESS
-- EXCLUSIVE on "Project" and, through the foreign key, on "User" too.
ALTER TABLE "Project" DROP COLUMN "userId";
