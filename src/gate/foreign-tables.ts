import { assetEmbeddedOverrides, assets } from '../assets/tables.ts';
import { datasetAssets } from '../datasets/tables.ts';
import { licenseApprovals, licenseRevocations, licenseVersions } from '../licenses/tables.ts';

/**
 * Other capabilities' tables that the gate's SQL names as text, declared in this one place. Its set-based
 * statements (facts per member, resting licenses, changes since a read) are written as text, prepared once.
 * test/unit/sql-tables.test.ts fails when SQL in src/gate names another capability's table that is
 * not listed here, so the dependency shows in the imports above and a rename cannot go unnoticed.
 */
export const TABLES_NAMED_IN_SQL = [assetEmbeddedOverrides, assets, datasetAssets, licenseApprovals, licenseRevocations, licenseVersions];
