CREATE TABLE "audit_signed_heads" (
	"origin" text NOT NULL,
	"key_id" text NOT NULL,
	"tree_size" bigint NOT NULL,
	"root_hash" "bytea" NOT NULL,
	"signed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_signed_heads_origin_key_id_tree_size_pk" PRIMARY KEY("origin","key_id","tree_size")
);
--> statement-breakpoint
CREATE INDEX "audit_signed_heads_size_idx" ON "audit_signed_heads" USING btree ("tree_size");--> statement-breakpoint
CREATE TRIGGER audit_signed_heads_append_only BEFORE UPDATE OR DELETE ON audit_signed_heads
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_signed_heads_no_truncate BEFORE TRUNCATE ON audit_signed_heads
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
