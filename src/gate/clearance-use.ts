import { eq } from 'drizzle-orm';
import type { Principal } from '../auth/tokens.ts';
import { Problem, problems } from '../http/problem.ts';
import { checkClearanceToken } from './clearance-token.ts';
import type { GateDeps } from './deps.ts';
import { standingOf } from './service.ts';
import { describeStandingCause } from './standing.ts';
import { clearances } from './tables.ts';

type ClearanceRow = typeof clearances.$inferSelect;

/**
 * Every reason a clearance does not let this caller train this model now. Empty means go. An unknown
 * clearance, or another vendor's, is a 404 thrown here.
 * Used before anything is sent to Vertex, and before an external checkpoint is registered.
 */
export async function clearanceRefusals(
  app: Pick<GateDeps, 'config' | 'database' | 'keyring'>,
  principal: Principal,
  ask: { clearanceId?: string; clearanceToken?: string; baseModel: string },
): Promise<{ clearance: ClearanceRow | null; reasons: string[] }> {
  const reasons: string[] = [];
  let clearanceId = ask.clearanceId;
  if (ask.clearanceToken) {
    const check = await checkClearanceToken(ask.clearanceToken, [app.keyring.clearance.publicJwk], app.config.clearance);
    if (check.signature === 'invalid') return { clearance: null, reasons: [`clearance token: ${check.error}`] };
    if (check.expired) reasons.push('the clearance token has expired');
    if (clearanceId && clearanceId !== check.claims.jti) reasons.push('clearanceId and clearanceToken name different clearances');
    clearanceId = check.claims.jti;
  }
  const [clearance] = await app.database.db.select().from(clearances).where(eq(clearances.id, clearanceId!));
  // Another vendor's clearance answers exactly as an unknown id (as GET /v1/clearances/{id} does): a
  // different message would tell a vendor that the id exists.
  if (!clearance || (principal.role === 'vendor' && clearance.vendor !== principal.vendor)) throw problems.notFound(`no clearance ${clearanceId}`);
  if (clearance.decision !== 'allow') reasons.push(`clearance ${clearance.id} is a denial`);
  if (clearance.purpose !== 'fine-tune') reasons.push(`clearance ${clearance.id} is for ${clearance.purpose}, not fine-tune`);
  if (clearance.baseModel !== ask.baseModel) reasons.push(`clearance ${clearance.id} is for ${clearance.baseModel}, not ${ask.baseModel}`);
  const standing = await standingOf(app.database.db, clearance);
  // A denial was named above; every other cause in the standing's own words.
  reasons.push(...standing.causes.filter((c) => c.cause !== 'denied').map(describeStandingCause));
  return { clearance, reasons };
}

export function refused(reasons: string[]): Problem {
  return new Problem(403, 'forbidden', `training is not cleared: ${reasons.join('; ')}`, { reasons });
}
