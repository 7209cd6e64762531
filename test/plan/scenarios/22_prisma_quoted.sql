-- A Prisma migration on a table with quoted mixed-case names and a text
-- key: a rewriting column, its unique index, a type change, a foreign key
-- @rules: add_column_rewrite
-- @nondeterministic: Invoice.publicId
ALTER TABLE "Invoice" ADD COLUMN "publicId" UUID NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX "Invoice_publicId_key" ON "Invoice"("publicId");
ALTER TABLE "Invoice" ALTER COLUMN "amountCents" SET DATA TYPE BIGINT;
ALTER TABLE "Invoice" ADD CONSTRAINT "Invoice_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
