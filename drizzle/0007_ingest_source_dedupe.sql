ALTER TABLE "messages" ADD COLUMN "source" text DEFAULT 'smtp' NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "dedupe_key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "messages_mailbox_dedupe_key_idx" ON "messages" USING btree ("mailbox_id","dedupe_key") WHERE "messages"."dedupe_key" is not null;