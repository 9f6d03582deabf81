import { clearances } from '../gate/tables.ts';

/**
 * Other capabilities' tables that the checkpoints' SQL names as text, declared in this one place. The dry
 * run of a revocation (downstream.ts) joins clearances to the gate's resting-license rows as SQL text.
 * test/unit/sql-tables.test.ts fails when SQL in src/checkpoints names another capability's table that is
 * not listed here, so the dependency shows in the imports above and a rename cannot go unnoticed.
 */
export const TABLES_NAMED_IN_SQL = [clearances];
