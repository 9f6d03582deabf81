-- Webhook notifications (src/notifications). A subscription is made and deleted through the audit log; its
-- outbox rows are written in the transaction of the change that causes them (a revocation, a taint), so a
-- commit is never without its notifications; the worker delivers them and logs every attempt.
CREATE TABLE "notification_subscriptions" (
	"id" text PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"events" jsonb NOT NULL,
	"days_before" jsonb NOT NULL,
	"filter" jsonb NOT NULL,
	"owner_sub" text NOT NULL,
	"owner_role" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"audit_index" bigint NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_by" text,
	"deleted_audit_index" bigint
);
--> statement-breakpoint
CREATE TABLE "notification_outbox" (
	"id" text PRIMARY KEY NOT NULL,
	"subscription_id" text NOT NULL,
	"event_type" text NOT NULL,
	"dedupe_key" text NOT NULL,
	"body" text NOT NULL,
	"cause_index" bigint,
	"state" text NOT NULL,
	"attempts" integer NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"delivered_at" timestamp with time zone,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "notification_deliveries" (
	"outbox_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"subscription_id" text NOT NULL,
	"attempted_at" timestamp with time zone NOT NULL,
	"outcome" text NOT NULL,
	"status_code" integer,
	"error" text,
	"duration_ms" integer NOT NULL,
	CONSTRAINT "notification_deliveries_outbox_id_attempt_pk" PRIMARY KEY("outbox_id","attempt")
);
--> statement-breakpoint
ALTER TABLE "notification_outbox" ADD CONSTRAINT "notification_outbox_subscription_id_notification_subscriptions_id_fk" FOREIGN KEY ("subscription_id") REFERENCES "public"."notification_subscriptions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_outbox_id_notification_outbox_id_fk" FOREIGN KEY ("outbox_id") REFERENCES "public"."notification_outbox"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "notification_outbox_dedupe_key" ON "notification_outbox" USING btree ("dedupe_key");--> statement-breakpoint
CREATE INDEX "notification_outbox_due_idx" ON "notification_outbox" USING btree ("next_attempt_at") WHERE "state" = 'pending';--> statement-breakpoint
CREATE INDEX "notification_outbox_subscription_idx" ON "notification_outbox" USING btree ("subscription_id");--> statement-breakpoint
CREATE INDEX "notification_deliveries_subscription_idx" ON "notification_deliveries" USING btree ("subscription_id","attempted_at");--> statement-breakpoint
CREATE TRIGGER notification_deliveries_append_only BEFORE UPDATE OR DELETE ON notification_deliveries
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER notification_deliveries_no_truncate BEFORE TRUNCATE ON notification_deliveries
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
