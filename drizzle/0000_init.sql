CREATE TABLE "mailboxes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"address" text NOT NULL,
	"local_part" text NOT NULL,
	"domain" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" uuid PRIMARY KEY NOT NULL,
	"mailbox_id" uuid NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"size" integer NOT NULL,
	"seen" boolean DEFAULT false NOT NULL,
	"from_address" text,
	"from_name" text,
	"subject" text,
	"has_attachments" boolean DEFAULT false NOT NULL,
	"envelope" jsonb NOT NULL,
	"parsed" jsonb,
	"parse_error" text,
	"raw" "bytea" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_mailbox_id_mailboxes_id_fk" FOREIGN KEY ("mailbox_id") REFERENCES "public"."mailboxes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "mailboxes_address_key" ON "mailboxes" USING btree ("address");--> statement-breakpoint
CREATE UNIQUE INDEX "mailboxes_token_hash_key" ON "mailboxes" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "mailboxes_expires_at_idx" ON "mailboxes" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "messages_mailbox_id_id_idx" ON "messages" USING btree ("mailbox_id","id" DESC);