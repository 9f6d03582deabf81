import { assets } from '../assets/tables.ts';

/**
 * Other capabilities' tables that the datasets' SQL names as text, declared in this one place. Resolving
 * members reads their hashes from assets in one prepared statement.
 * test/unit/sql-tables.test.ts fails when SQL in src/datasets names another capability's table that is
 * not listed here, so the dependency shows in the imports above and a rename cannot go unnoticed.
 */
export const TABLES_NAMED_IN_SQL = [assets];
