import { outputFingerprints, outputVideoFrames } from '../fingerprints/tables.ts';

/**
 * Other capabilities' tables that the outputs' SQL names as text, declared in this one place. The state
 * replay of an output's fingerprint (replay.ts) joins output_fingerprints (and a video's, output_video_frames) to
 * outputs as SQL text.
 * test/unit/sql-tables.test.ts fails when SQL in src/outputs names another capability's table that is not
 * listed here, so the dependency shows in the imports above and a rename cannot go unnoticed.
 */
export const TABLES_NAMED_IN_SQL = [outputFingerprints, outputVideoFrames];
