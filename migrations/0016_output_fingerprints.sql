-- The perceptual fingerprints of signed outputs (PDQ, 256 bits), for finding an output again from a file
-- whose manifest was stripped or re-encoded away. Multi-index hashing: the value is also cut into sixteen
-- 16-bit chunks, each indexed; candidates come from exact matches on chunks (two hashes within t bits share
-- a chunk within floor(t/16) bits), then the exact distance. Written with the output, never changed.
CREATE TABLE "output_fingerprints" (
	"output_id" text NOT NULL,
	"algorithm" text NOT NULL,
	"value" text NOT NULL,
	"quality" smallint NOT NULL,
	"c0" integer NOT NULL,
	"c1" integer NOT NULL,
	"c2" integer NOT NULL,
	"c3" integer NOT NULL,
	"c4" integer NOT NULL,
	"c5" integer NOT NULL,
	"c6" integer NOT NULL,
	"c7" integer NOT NULL,
	"c8" integer NOT NULL,
	"c9" integer NOT NULL,
	"c10" integer NOT NULL,
	"c11" integer NOT NULL,
	"c12" integer NOT NULL,
	"c13" integer NOT NULL,
	"c14" integer NOT NULL,
	"c15" integer NOT NULL,
	CONSTRAINT "output_fingerprints_output_id_algorithm_value_pk" PRIMARY KEY("output_id","algorithm","value")
);
--> statement-breakpoint
CREATE INDEX "output_fingerprints_c0_idx" ON "output_fingerprints" USING btree ("c0");--> statement-breakpoint
CREATE INDEX "output_fingerprints_c1_idx" ON "output_fingerprints" USING btree ("c1");--> statement-breakpoint
CREATE INDEX "output_fingerprints_c2_idx" ON "output_fingerprints" USING btree ("c2");--> statement-breakpoint
CREATE INDEX "output_fingerprints_c3_idx" ON "output_fingerprints" USING btree ("c3");--> statement-breakpoint
CREATE INDEX "output_fingerprints_c4_idx" ON "output_fingerprints" USING btree ("c4");--> statement-breakpoint
CREATE INDEX "output_fingerprints_c5_idx" ON "output_fingerprints" USING btree ("c5");--> statement-breakpoint
CREATE INDEX "output_fingerprints_c6_idx" ON "output_fingerprints" USING btree ("c6");--> statement-breakpoint
CREATE INDEX "output_fingerprints_c7_idx" ON "output_fingerprints" USING btree ("c7");--> statement-breakpoint
CREATE INDEX "output_fingerprints_c8_idx" ON "output_fingerprints" USING btree ("c8");--> statement-breakpoint
CREATE INDEX "output_fingerprints_c9_idx" ON "output_fingerprints" USING btree ("c9");--> statement-breakpoint
CREATE INDEX "output_fingerprints_c10_idx" ON "output_fingerprints" USING btree ("c10");--> statement-breakpoint
CREATE INDEX "output_fingerprints_c11_idx" ON "output_fingerprints" USING btree ("c11");--> statement-breakpoint
CREATE INDEX "output_fingerprints_c12_idx" ON "output_fingerprints" USING btree ("c12");--> statement-breakpoint
CREATE INDEX "output_fingerprints_c13_idx" ON "output_fingerprints" USING btree ("c13");--> statement-breakpoint
CREATE INDEX "output_fingerprints_c14_idx" ON "output_fingerprints" USING btree ("c14");--> statement-breakpoint
CREATE INDEX "output_fingerprints_c15_idx" ON "output_fingerprints" USING btree ("c15");--> statement-breakpoint
CREATE TRIGGER output_fingerprints_append_only BEFORE UPDATE OR DELETE ON output_fingerprints
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER output_fingerprints_no_truncate BEFORE TRUNCATE ON output_fingerprints
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
