ALTER TABLE "clearance_licenses" DROP CONSTRAINT "clearance_licenses_clearance_id_clearances_id_fk";
