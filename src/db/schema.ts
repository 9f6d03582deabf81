// Every table, for drizzle-kit and for typed queries. Each capability owns its tables file.
export * from '../audit/tables.ts';
export * from '../assets/tables.ts';
export * from '../licenses/tables.ts';
export * from '../keys/tables.ts';
export * from '../datasets/tables.ts';
export * from '../gate/tables.ts';
export * from '../tuning/tables.ts';
export * from '../checkpoints/tables.ts';
export * from '../outputs/tables.ts';
