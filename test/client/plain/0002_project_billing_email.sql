BEGIN;
--
-- Add field billing_email to project
--
ALTER TABLE "projects" ADD COLUMN "billing_email" varchar(254) NULL;
CREATE INDEX "projects_billing_email_3b7c9e21" ON "projects" ("billing_email");
CREATE INDEX "projects_billing_email_3b7c9e21_like" ON "projects" ("billing_email" varchar_pattern_ops);
COMMIT;
