import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { buildPolicySet, byCodeUnit, POLICY_FILE_SUFFIX, type PolicySet, PolicySetError, type PolicySetIssue, type PolicySource, SCHEMA_FILE } from './policy-engine.ts';

/**
 * Loads policies/*.cedar and policies/schema.cedarschema from `dir`, checks them and prepares them for
 * evaluation (buildPolicySet, which does no I/O). Throws PolicySetError listing every problem found, each
 * with file and position.
 */
export async function loadPolicySet(dir: string): Promise<PolicySet> {
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    names = entries
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && e.name.endsWith(POLICY_FILE_SUFFIX))
      .map((e) => e.name)
      .sort(byCodeUnit);
  } catch (err) {
    throw new PolicySetError(dir, [{ file: dir, message: `cannot read policy directory: ${(err as Error).message}` }]);
  }
  const issues: PolicySetIssue[] = [];

  const readSource = async (name: string): Promise<PolicySource | undefined> => {
    try {
      return { name, raw: await readFile(path.join(dir, name)) };
    } catch (err) {
      issues.push({ file: name, message: `cannot read: ${(err as Error).message}` });
      return undefined;
    }
  };
  const schemaFile = await readSource(SCHEMA_FILE);
  const policyFiles = (await Promise.all(names.map(readSource))).filter((f) => f !== undefined);

  return buildPolicySet(dir, schemaFile, policyFiles, issues);
}
