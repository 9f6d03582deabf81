import { eq } from 'drizzle-orm';
import { recordedAs } from '../audit/event.ts';
import type { Ledger } from '../audit/ledger.ts';
import type { PolicySet } from './policy-engine.ts';
import { loadPolicySet } from './policy-loader.ts';
import { policySets } from './tables.ts';

const SYSTEM = { sub: 'clearframe', role: 'system' };

/**
 * The policy set in force. Loading validates it (an invalid set never replaces a good one, and stops
 * start-up); the first time a set with a new digest runs, that is an audit event.
 */
export class PolicyRegistry {
  private constructor(
    private readonly dir: string,
    private readonly ledger: Ledger,
    private set: PolicySet,
  ) {}

  static async open(dir: string, ledger: Ledger): Promise<PolicyRegistry> {
    const registry = new PolicyRegistry(dir, ledger, await loadPolicySet(dir));
    await registry.record(SYSTEM);
    return registry;
  }

  get current(): PolicySet {
    return this.set;
  }

  /** Reloads policies/ from disk; returns whether the digest changed. Throws PolicySetError if invalid. */
  async reload(actor: { sub: string; role: string }): Promise<{ changed: boolean; digest: string }> {
    const next = await loadPolicySet(this.dir);
    const changed = next.digest !== this.set.digest;
    this.set = next;
    await this.record(actor);
    return { changed, digest: next.digest };
  }

  private async record(actor: { sub: string; role: string }): Promise<void> {
    const { digest, policies } = this.set;
    const known = await this.ledger.db.select({ d: policySets.digest }).from(policySets).where(eq(policySets.digest, digest));
    if (known.length > 0) return;
    await this.ledger.change(actor, async ({ tx, record }) => {
      const again = await tx.select({ d: policySets.digest }).from(policySets).where(eq(policySets.digest, digest));
      if (again.length > 0) return;
      const summary = policies.map((p) => ({ id: p.id, effect: p.effect, file: p.file, reason: p.reason }));
      const event = record({ action: 'policy-set.loaded', subjectId: `policy-set:${digest}`, content: { digest, policies: summary } });
      await tx.insert(policySets).values({ digest, policies: summary, ...recordedAs(event, 'firstLoadedAt') });
    });
  }
}
