-- The sampled frames of signed video outputs (PDQ of a frame a second plus each scene cut, 256 bits), for
-- finding a video output again from a copy whose manifest was stripped or re-encoded away, or a cut of it.
-- Each frame at its time from the start of the video, in milliseconds. Chunked and indexed as
-- output_fingerprints is (migration 0016), so a frame is found by the same multi-index lookup. Written with
-- the output, never changed.
CREATE TABLE "output_video_frames" (
	"output_id" text NOT NULL,
	"at_ms" integer NOT NULL,
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
	CONSTRAINT "output_video_frames_output_id_at_ms_pk" PRIMARY KEY("output_id","at_ms")
);
--> statement-breakpoint
CREATE INDEX "output_video_frames_c0_idx" ON "output_video_frames" USING btree ("c0");--> statement-breakpoint
CREATE INDEX "output_video_frames_c1_idx" ON "output_video_frames" USING btree ("c1");--> statement-breakpoint
CREATE INDEX "output_video_frames_c2_idx" ON "output_video_frames" USING btree ("c2");--> statement-breakpoint
CREATE INDEX "output_video_frames_c3_idx" ON "output_video_frames" USING btree ("c3");--> statement-breakpoint
CREATE INDEX "output_video_frames_c4_idx" ON "output_video_frames" USING btree ("c4");--> statement-breakpoint
CREATE INDEX "output_video_frames_c5_idx" ON "output_video_frames" USING btree ("c5");--> statement-breakpoint
CREATE INDEX "output_video_frames_c6_idx" ON "output_video_frames" USING btree ("c6");--> statement-breakpoint
CREATE INDEX "output_video_frames_c7_idx" ON "output_video_frames" USING btree ("c7");--> statement-breakpoint
CREATE INDEX "output_video_frames_c8_idx" ON "output_video_frames" USING btree ("c8");--> statement-breakpoint
CREATE INDEX "output_video_frames_c9_idx" ON "output_video_frames" USING btree ("c9");--> statement-breakpoint
CREATE INDEX "output_video_frames_c10_idx" ON "output_video_frames" USING btree ("c10");--> statement-breakpoint
CREATE INDEX "output_video_frames_c11_idx" ON "output_video_frames" USING btree ("c11");--> statement-breakpoint
CREATE INDEX "output_video_frames_c12_idx" ON "output_video_frames" USING btree ("c12");--> statement-breakpoint
CREATE INDEX "output_video_frames_c13_idx" ON "output_video_frames" USING btree ("c13");--> statement-breakpoint
CREATE INDEX "output_video_frames_c14_idx" ON "output_video_frames" USING btree ("c14");--> statement-breakpoint
CREATE INDEX "output_video_frames_c15_idx" ON "output_video_frames" USING btree ("c15");--> statement-breakpoint
CREATE TRIGGER output_video_frames_append_only BEFORE UPDATE OR DELETE ON output_video_frames
  FOR EACH ROW EXECUTE FUNCTION clearframe_refuse_change();
--> statement-breakpoint
CREATE TRIGGER output_video_frames_no_truncate BEFORE TRUNCATE ON output_video_frames
  FOR EACH STATEMENT EXECUTE FUNCTION clearframe_refuse_change();
