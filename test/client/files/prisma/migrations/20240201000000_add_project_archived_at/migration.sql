-- AlterTable
ALTER TABLE "Project" ADD COLUMN     "archivedAt" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX CONCURRENTLY "Project_archivedAt_idx" ON "Project"("archivedAt");
