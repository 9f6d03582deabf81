import { randomBytes } from 'node:crypto';

/** Opaque ids with a prefix that says what they name (ast_, lic_, rev_, ...). */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}
