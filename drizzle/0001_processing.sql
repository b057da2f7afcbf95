ALTER TABLE "messages" ADD COLUMN "processed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "processing_error" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "otp" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "link" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "extraction" jsonb;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "authentication" jsonb;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "safe_html" text;--> statement-breakpoint
CREATE INDEX "messages_unprocessed_idx" ON "messages" USING btree ("id") WHERE "messages"."processed_at" is null and "messages"."processing_error" is null;