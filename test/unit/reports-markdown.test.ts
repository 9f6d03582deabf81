import { describe, expect, it } from 'vitest';
import { type ChainOfTitle, type Fact, type LicenseTitle, renderChainOfTitle } from '../../src/reports/chain-of-title-render.ts';
import { code, table, text } from '../../src/reports/markdown.ts';
import { renderTrainingSummary, type TrainingSummary } from '../../src/reports/training-summary-render.ts';

// What a person may type into a title, a licensee or a reason: table borders, emphasis, a heading on a new
// line, HTML, a link, a trailing backslash.
const HOSTILE = 'A | B *bold* _it_ `tick`\n# Heading\r\n<img src=x onerror=alert(1)> [x](javascript:alert(1)) ~~s~~ & \\';

/** Pipes a GFM table splits cells on: not escaped by a backslash (an escaped backslash does not escape). */
function borders(line: string): number {
  let n = 0;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\') i++;
    else if (line[i] === '|') n++;
  }
  return n;
}

/** The structure a Markdown document has: its headings and, per table, every row's cell count equal to its header's. */
function structure(md: string) {
  const lines = md.split('\n');
  const headings = lines.filter((l) => /^#{1,6} /.test(l));
  const tables: number[][] = [];
  let current: number[] | null = null;
  for (const l of lines) {
    if (l.startsWith('|')) {
      current ??= [];
      current.push(borders(l));
    } else if (current) {
      tables.push(current);
      current = null;
    }
  }
  if (current) tables.push(current);
  return { headings, tables };
}

/** Text outside code spans and fences: where HTML would be read as HTML. */
function outsideCode(md: string): string {
  return md.replace(/^(`{3,})[^\n]*\n[\s\S]*?^\1$/gm, '').replace(/(`+)[\s\S]*?\1/g, '');
}

const fact = (i: number, action: string, over: Partial<Fact> = {}): Fact => ({ action, auditIndex: i, at: '2026-03-01T10:00:00.000Z', by: HOSTILE, what: HOSTILE, ...over });

function summary(): TrainingSummary {
  const entry = { action: 'checkpoint.registered', auditIndex: 7, at: '2026-03-01T10:00:00.000Z', by: HOSTILE };
  const excluded = {
    assetId: 'ast_1',
    title: HOSTILE,
    rightsHolder: HOSTILE,
    signals: { c2paTrainingMining: 'notAllowed', cawgTrainingMining: null, embeddedManifest: 'valid', embeddedTermsOverridden: false },
    licenseId: 'lic_1',
    reasons: [{ policyId: 'c2pa-training-mining-not-allowed', reason: HOSTILE }],
  };
  return {
    document: 'training-summary',
    template: 'EU AI Act Article 53(1)(d)',
    generatedAt: '2026-03-02T00:00:00.000Z',
    generalInformation: {
      provider: { name: HOSTILE, description: HOSTILE },
      model: { name: HOSTILE, checkpointId: 'ckp_1', baseModel: 'imagen-4.0', source: 'external', artifactDigest: null, tuningJob: null, registered: entry, statusNow: 'active' },
      date: '2026-03-01T10:00:00.000Z',
      modalities: [{ modality: 'image', assetCount: 2, mediaTypes: [{ name: HOSTILE, count: 2 }] }],
      trainingDataSize: { assets: 2, bytes: 10, bytesKnownFor: 1, range: 'less than 1 million images' },
      latestRegistrationAt: '2026-03-01T10:00:00.000Z',
    },
    dataSources: {
      publiclyAvailableDatasets: 'None.',
      licensedData: {
        description: HOSTILE,
        dataset: { id: 'dst_1', name: HOSTILE, digest: 'sha256:ab', assetCount: 2, created: entry },
        requestedDataset: { id: 'dst_0', name: HOSTILE, digest: 'sha256:cd', assetCount: 4, created: entry },
        assetCount: 2,
        productions: [{ name: HOSTILE, count: 2 }],
        rightsHolders: [{ name: HOSTILE, count: 2 }],
        mediaTypes: [{ name: 'image/png', count: 2 }],
        period: { firstRegisteredAt: '2026-01-01T00:00:00.000Z', lastRegisteredAt: '2026-02-01T00:00:00.000Z' },
        bytes: 10,
      },
      crawledData: 'None.',
      userData: 'None.',
      syntheticData: { assetCount: 1, description: HOSTILE },
      otherSources: 'None.',
    },
    dataProcessing: {
      clearance: {
        id: 'clr_1',
        decision: 'allow',
        mode: 'subset',
        purpose: 'fine-tune',
        vendor: HOSTILE,
        baseModel: 'imagen-4.0',
        issuedAt: '2026-03-01T09:00:00.000Z',
        policyDigest: 'sha256:policy',
        datasetDigest: 'sha256:ab',
        decisionsDigest: 'sha256:dec',
        counts: { requested: 4, allowed: 2, denied: 2 },
        standingNow: 'standing',
        granted: entry,
        policySetLoaded: null,
      },
      rightsReservations: {
        description: HOSTILE,
        signalsRead: [{ signal: 'c2pa.training-mining', standard: HOSTILE, stored: true, counts: { absent: 3, notAllowed: 1 }, excluded: 1, note: HOSTILE }],
        excluded: [excluded],
      },
      otherExclusions: [{ ...excluded, assetId: 'ast_2', reasons: [{ policyId: 'license-revoked', reason: HOSTILE }] }],
      licensesReliedOn: {
        count: 1,
        byLicensor: [{ name: HOSTILE, count: 1 }],
        items: [
          {
            licenseId: 'lic_3',
            version: 2,
            assetId: 'ast_3',
            licensor: HOSTILE,
            licensee: HOSTILE,
            training: 'allowed',
            territories: ['US', HOSTILE],
            media: [HOSTILE],
            term: { start: '2026-01-01T00:00:00.000Z', end: '2028-01-01T00:00:00.000Z' },
            contractRef: HOSTILE,
            standingNow: 'standing',
            recorded: entry,
          },
        ],
      },
    },
  };
}

function chain(): ChainOfTitle {
  const license = (id: string, i: number): LicenseTitle => ({
    licenseId: id,
    version: 1,
    supersedes: null,
    licensor: HOSTILE,
    licensee: HOSTILE,
    vendors: [HOSTILE],
    grants: { training: 'allowed', derivatives: 'allowed', commercial: 'notAllowed' },
    territories: ['WORLD'],
    media: [HOSTILE],
    term: { start: '2026-01-01T00:00:00.000Z', end: '2028-01-01T00:00:00.000Z' },
    exclusivity: false,
    contractRef: { id: HOSTILE, sha256: 'ab'.repeat(32) },
    statusNow: 'revoked',
    recorded: fact(i, 'license.granted'),
    approvals: [fact(i + 1, 'license.approval-recorded')],
    revocation: fact(i + 2, 'license.revoked'),
  });
  const asset = (id: string, i: number) => ({
    assetId: id,
    title: HOSTILE,
    sha256: 'cd'.repeat(32),
    mediaType: 'image/png',
    creator: HOSTILE,
    production: HOSTILE,
    rightsHolder: null,
    derivedFromOutputId: null,
    embeddedTrainingMining: { c2pa: null, cawg: 'notAllowed' },
    embeddedManifest: 'valid',
    registered: fact(i, 'asset.registered'),
    embeddedTermsOverride: null,
    licenses: [license(`lic_${id}`, i + 1)],
  });
  const output = {
    outputId: 'out_1',
    mimeType: 'image/jpeg',
    signedSha256: 'ef'.repeat(32),
    signed: fact(20, 'output.signed'),
    withdrawn: null,
    checkpoint: {
      id: 'ckp_1',
      baseModel: 'imagen',
      vendor: HOSTILE,
      statusNow: 'tainted',
      registered: fact(12, 'checkpoint.registered'),
      statusChanges: [fact(21, 'checkpoint.tainted')],
    },
    clearance: {
      id: 'clr_1',
      vendor: HOSTILE,
      purpose: 'fine-tune',
      baseModel: 'imagen',
      decision: 'allow',
      policyDigest: 'p',
      datasetDigest: 'd',
      standingNow: 'revoked',
      granted: fact(11, 'clearance.granted'),
    },
    dataset: { id: 'dst_1', name: HOSTILE, digest: 'd', assetCount: 1, created: fact(10, 'dataset.created') },
    assets: [{ role: 'training' as const, licenseAtClearanceId: 'lic_ast_1', asset: asset('ast_1', 1), derivedFrom: { outputId: 'out_1', describedAbove: true as const } }],
  };
  const entries = [
    ...[1, 2, 3, 4].map((i) => fact(i, ['asset.registered', 'license.granted', 'license.approval-recorded', 'license.revoked'][i - 1]!)),
    fact(10, 'dataset.created'),
    fact(11, 'clearance.granted'),
    fact(12, 'checkpoint.registered'),
    fact(20, 'output.signed'),
    fact(21, 'checkpoint.tainted'),
  ];
  return {
    document: 'chain-of-title',
    generatedAt: '2026-03-02T00:00:00.000Z',
    subject: { kind: 'output', id: 'out_1' },
    treeHead: { origin: 'clearframe.test/audit', treeSize: 22, rootHash: 'cm9vdA==', note: 'clearframe.test/audit\n22\ncm9vdA==\n\n— clearframe.test/audit sig==\n' },
    asset: null,
    output,
    entries,
  };
}

describe('Markdown from ledger values', () => {
  it('keeps a value on one line, as text: HTML as entities, inline punctuation escaped', () => {
    const t = text(HOSTILE);
    expect(t).not.toContain('\n');
    expect(t).not.toContain('<');
    expect(t).toContain('A \\| B \\*bold\\* \\_it\\_ \\`tick\\` \\# Heading &lt;img');
    expect(t).toContain('&amp; \\\\');
    expect(text(null)).toBe('—');
    expect(text('')).toBe('—');
  });

  it('fences a code span longer than any backtick run inside it, with pipes escaped for tables', () => {
    expect(code('ast_1')).toBe('`ast_1`');
    expect(code('a``b')).toBe('```a``b```');
    expect(code('`x`')).toBe('`` `x` ``');
    expect(code('a|b\nc')).toBe('`a\\|b c`');
    expect(borders(table(['a', 'b'], [[code('x|y'), text('p|q')]]).split('\n')[2]!)).toBe(3);
  });
});

describe('the training summary as Markdown', () => {
  const s = summary();
  const md = renderTrainingSummary(s);

  it('has the template’s sections, and only them, whatever the ledger values', () => {
    const { headings, tables } = structure(md);
    expect(headings).toEqual([
      '# Public summary of training content: checkpoint `ckp_1`',
      '## 1. General information',
      '### 1.1 Provider identification',
      '### 1.2 Model identification',
      '### 1.3 Modalities, overall training data size and other characteristics',
      '## 2. List of data sources',
      '### 2.1 Publicly available datasets',
      '### 2.2 Private non-publicly available datasets obtained from third parties',
      '#### 2.2.1 Datasets commercially licensed by rightsholders or their representatives',
      '#### 2.2.2 Private datasets obtained from other third parties',
      '### 2.3 Data crawled and scraped from online sources',
      '### 2.4 User data',
      '### 2.5 Synthetic data',
      '### 2.6 Other sources of data',
      '## 3. Data processing aspects',
      '### 3.1 Respect of reservation of rights from the text and data mining exception or limitation',
      '#### Training-mining signals read',
      '#### Assets excluded by a rights reservation',
      '#### Assets excluded for other reasons',
      '#### Licenses relied on',
      '### 3.2 Removal of illegal content',
    ]);
    expect(tables).toHaveLength(5);
    for (const t of tables) expect(new Set(t).size, JSON.stringify(t)).toBe(1); // every row as many cells as its header
    expect(tables.map((t) => t.length)).toEqual([3, 3, 3, 3, 3]); // header, rule, one row each
    expect(outsideCode(md)).not.toMatch(/<[a-z]/i);
  });

  it('states the figures and digests of its model', () => {
    expect(md).toContain('- **Assets asked for:** 4');
    expect(md).toContain('- **Allowed (trained on):** 2');
    expect(md).toContain('- **Excluded by the gate:** 2');
    expect(md).toContain('`sha256:policy`');
    expect(md).toContain('`sha256:ab`');
    expect(md).toContain('absent: 3, notAllowed: 1');
    expect(md).toContain('`c2pa-training-mining-not-allowed`');
    expect(md.endsWith('\n')).toBe(true);
  });
});

describe('the chain of title as Markdown', () => {
  const doc = chain();
  const md = renderChainOfTitle(doc);

  it('names every audit entry with its action, and the tree head they verify against', () => {
    for (const e of doc.entries) expect(md).toContain(`| ${e.auditIndex} | \`${e.action}\` |`);
    expect(md).toContain('- **Tree size:** 22');
    expect(md).toContain('`cm9vdA==`');
    expect(md).toContain(`\`\`\`text\n${doc.treeHead.note}\`\`\``); // the note as signed
    expect(md).toContain('whose chain is given above');
  });

  it('keeps its structure whatever the ledger values', () => {
    const { headings, tables } = structure(md);
    expect(headings).toEqual([
      '# Chain of title: output `out_1`',
      '## Output `out_1`',
      '### Checkpoint `ckp_1`',
      '### Clearance `clr_1`',
      `### Dataset \`dst_1\`: ${text(HOSTILE)}`,
      `### Training asset \`ast_1\`: ${text(HOSTILE)}`,
      '#### License `lic_ast_1`, version 1',
      '## Audit entries stated',
      '## Signed tree head',
    ]);
    for (const t of tables) expect(new Set(t).size, JSON.stringify(t)).toBe(1);
    expect(tables.at(-1)).toHaveLength(2 + doc.entries.length);
    expect(outsideCode(md)).not.toMatch(/<[a-z]/i);
  });
});
