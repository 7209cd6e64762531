-- Edited by hand after `prisma migrate dev --create-only`: CONCURRENTLY, so
-- that the build does not block writes. Prisma sends a file with a single
-- statement outside a transaction block, which CONCURRENTLY requires.

-- CreateIndex
CREATE INDEX CONCURRENTLY "Project_name_idx" ON "Project"("name");
