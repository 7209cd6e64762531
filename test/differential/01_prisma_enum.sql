-- Prisma: a new enum, the column cast to it (refused: a rewrite of big)
CREATE TYPE "Status" AS ENUM ('active', 'archived');
ALTER TABLE big ADD COLUMN "status" "Status";
ALTER TABLE big ALTER COLUMN code TYPE "Status" USING code::"Status";
