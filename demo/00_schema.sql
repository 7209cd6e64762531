-- The application as it is today: a Prisma schema with "User" and "Project",
-- cuid-like text ids, about 180,000 users and 720,000 projects.
--
-- Everything happens in one transaction: the tables are new, so nobody else
-- can see them yet and the guard lets the index builds through in silence.
-- The rows go in before the keys, as pg_restore does it: one sorted build
-- per index and one join for the foreign key, not a lookup per row.  The
-- schema is the same as Prisma's, in about half the time.
BEGIN;

CREATE TABLE "User" (
    "id"               TEXT NOT NULL,
    "email"            TEXT NOT NULL,
    "plan"             TEXT NOT NULL DEFAULT 'free',
    "stripeCustomerId" TEXT,
    "createdAt"        TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE "Project" (
    "id"        TEXT NOT NULL,
    "name"      TEXT NOT NULL,
    "userId"    TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- cuid-like ids: 'c' and 24 hex digits, deterministic so runs compare.
INSERT INTO "User" ("id", "email", "plan", "stripeCustomerId", "createdAt")
SELECT 'c' || substr(md5('user' || i), 1, 24),
       'user' || i || '@example.com',
       CASE WHEN i % 10 = 0 THEN 'pro' ELSE 'free' END,
       CASE WHEN i % 10 = 0 THEN 'cus_' || substr(md5('stripe' || i), 1, 14) END,
       timestamp '2023-01-01' + i * interval '3 minutes'
  FROM generate_series(1, 180000) AS i;

INSERT INTO "Project" ("id", "name", "userId", "createdAt")
SELECT 'c' || substr(md5('project' || i), 1, 24),
       'Project ' || i,
       'c' || substr(md5('user' || (1 + i % 180000)), 1, 24),
       timestamp '2023-01-01' + i * interval '45 seconds'
  FROM generate_series(1, 720000) AS i;

ALTER TABLE "User" ADD CONSTRAINT "User_pkey" PRIMARY KEY ("id");
ALTER TABLE "Project" ADD CONSTRAINT "Project_pkey" PRIMARY KEY ("id");
CREATE UNIQUE INDEX "User_email_key" ON "User" ("email");
CREATE UNIQUE INDEX "User_stripeCustomerId_key" ON "User" ("stripeCustomerId");
CREATE INDEX "Project_userId_idx" ON "Project" ("userId");
ALTER TABLE "Project" ADD CONSTRAINT "Project_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id")
    ON DELETE RESTRICT ON UPDATE CASCADE;

COMMIT;
