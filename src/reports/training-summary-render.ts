/**
 * The public summary of a checkpoint's training content, in the shape of the Commission's template for
 * Article 53(1)(d) of the AI Act (July 2025): 1. general information, 2. list of data sources, 3. data
 * processing aspects. The model is what GET /v1/checkpoints/{id}/training-summary answers as JSON; this file
 * writes the same model as Markdown. Pure: no I/O, no clock.
 */
import { blocks, code, facts, table, text, when } from './markdown.ts';

export type Count = { name: string; count: number };

/** A fact stated by the ledger: the audit entry that recorded it. */
export type Entry = { action: string; auditIndex: number; at: string; by: string };

export type ExcludedAsset = {
  assetId: string;
  title: string;
  rightsHolder: string | null;
  /** The training-mining signals the ledger holds for the asset, as read from its own manifest. */
  signals: { c2paTrainingMining: string | null; cawgTrainingMining: string | null; embeddedManifest: string; embeddedTermsOverridden: boolean };
  licenseId: string | null;
  reasons: { policyId: string; reason: string }[];
};

export type SignalRead = {
  signal: string;
  standard: string;
  /** Whether the ledger keeps the value per asset (false: checked at import, not kept). */
  stored: boolean;
  /** Members of the requested dataset by the value read (absent: the art carried no such signal). */
  counts: Record<string, number>;
  excluded: number;
  note: string;
};

export type LicenseReliedOn = {
  licenseId: string;
  version: number;
  assetId: string;
  licensor: string;
  licensee: string;
  training: string;
  territories: string[];
  media: string[];
  term: { start: string; end: string };
  contractRef: string | null;
  /** Standing now: a revocation or an ended term since the clearance is stated, not hidden. */
  standingNow: 'standing' | 'revoked' | 'ended';
  recorded: Entry;
};

export type TrainingSummary = {
  document: 'training-summary';
  template: string;
  generatedAt: string;
  generalInformation: {
    provider: { name: string; description: string };
    model: {
      name: string;
      checkpointId: string;
      baseModel: string;
      source: 'vertex' | 'external';
      artifactDigest: string | null;
      tuningJob: { id: string; displayName: string | null; trainingDataUri: string; recorded: Entry } | null;
      registered: Entry;
      statusNow: string;
    };
    date: string;
    modalities: { modality: string; assetCount: number; mediaTypes: Count[] }[];
    trainingDataSize: { assets: number; bytes: number; bytesKnownFor: number; range: string };
    latestRegistrationAt: string | null;
  };
  dataSources: {
    publiclyAvailableDatasets: string;
    licensedData: {
      description: string;
      dataset: { id: string; name: string; digest: string; assetCount: number; created: Entry };
      requestedDataset: { id: string; name: string; digest: string; assetCount: number; created: Entry } | null;
      assetCount: number;
      productions: Count[];
      rightsHolders: Count[];
      mediaTypes: Count[];
      period: { firstRegisteredAt: string | null; lastRegisteredAt: string | null };
      bytes: number;
    };
    crawledData: string;
    userData: string;
    syntheticData: { assetCount: number; description: string };
    otherSources: string;
  };
  dataProcessing: {
    clearance: {
      id: string;
      decision: string;
      mode: 'all' | 'subset';
      purpose: string;
      vendor: string;
      baseModel: string;
      issuedAt: string;
      policyDigest: string;
      datasetDigest: string;
      decisionsDigest: string;
      counts: { requested: number; allowed: number; denied: number };
      standingNow: string;
      granted: Entry;
      policySetLoaded: Entry | null;
    };
    rightsReservations: {
      description: string;
      signalsRead: SignalRead[];
      excluded: ExcludedAsset[];
    };
    otherExclusions: ExcludedAsset[];
    licensesReliedOn: { count: number; byLicensor: Count[]; items: LicenseReliedOn[] };
  };
};

const entry = (e: Entry) => `${text(e.action)}, ${when(e.at)}, by ${text(e.by)}, audit entry ${e.auditIndex}`;
const counts = (list: readonly Count[]) => (list.length ? list.map((c) => `${text(c.name)} (${c.count})`).join(', ') : '—');

function excludedTable(list: readonly ExcludedAsset[]): string {
  if (list.length === 0) return 'None.';
  return table(
    ['Asset', 'Title', 'Rights holder', 'C2PA', 'CAWG', 'Manifest', 'License', 'Why excluded'],
    list.map((a) => [
      code(a.assetId),
      text(a.title),
      text(a.rightsHolder),
      text(a.signals.c2paTrainingMining ?? 'absent'),
      text(a.signals.cawgTrainingMining ?? 'absent'),
      text(`${a.signals.embeddedManifest}${a.signals.embeddedTermsOverridden ? ' (overridden by legal)' : ''}`),
      code(a.licenseId),
      a.reasons.map((r) => `${code(r.policyId)}: ${text(r.reason)}`).join('; '),
    ]),
  );
}

/** The summary as Markdown, section for section as the template has them. */
export function renderTrainingSummary(s: TrainingSummary): string {
  const g = s.generalInformation;
  const d = s.dataSources;
  const l = d.licensedData;
  const p = s.dataProcessing;
  const c = p.clearance;
  return blocks([
    `# Public summary of training content: checkpoint ${code(g.model.checkpointId)}`,
    `${text(s.template)}. Generated from the Clearframe ledger at ${when(s.generatedAt)}. Every figure below is read from the ledger; the audit entries named can be checked against the log's signed tree head (\`GET /v1/audit/checkpoint\`).`,
    '## 1. General information',
    '### 1.1 Provider identification',
    facts([
      ['Provider', text(g.provider.name)],
      ['Role', text(g.provider.description)],
    ]),
    '### 1.2 Model identification',
    facts([
      ['Model name', text(g.model.name)],
      ['Checkpoint', code(g.model.checkpointId)],
      ['Base model (model dependency)', text(g.model.baseModel)],
      ['Trained', g.model.source === 'vertex' ? 'on Vertex AI, by a tuning job Clearframe submitted' : 'outside Clearframe, registered by the vendor'],
      ['Tuning job', g.model.tuningJob ? `${code(g.model.tuningJob.id)} ${text(g.model.tuningJob.displayName)} (${entry(g.model.tuningJob.recorded)})` : '—'],
      ['Artifact digest', code(g.model.artifactDigest)],
      ['Date', when(g.date)],
      ['Registered', entry(g.model.registered)],
      ['Status now', text(g.model.statusNow)],
    ]),
    '### 1.3 Modalities, overall training data size and other characteristics',
    table(
      ['Modality', 'Assets', 'Media types'],
      g.modalities.map((m) => [text(m.modality), String(m.assetCount), counts(m.mediaTypes)]),
    ),
    facts([
      ['Training data size', `${g.trainingDataSize.assets} asset${g.trainingDataSize.assets === 1 ? '' : 's'} (${text(g.trainingDataSize.range)})`],
      ['Bytes', `${g.trainingDataSize.bytes} (known for ${g.trainingDataSize.bytesKnownFor} of ${g.trainingDataSize.assets} assets)`],
      ['Latest registration of training data', when(g.latestRegistrationAt)],
    ]),
    '## 2. List of data sources',
    '### 2.1 Publicly available datasets',
    text(d.publiclyAvailableDatasets),
    '### 2.2 Private non-publicly available datasets obtained from third parties',
    '#### 2.2.1 Datasets commercially licensed by rightsholders or their representatives',
    text(l.description),
    facts([
      ['Dataset trained on', `${code(l.dataset.id)} ${text(l.dataset.name)}, ${l.dataset.assetCount} assets, digest ${code(l.dataset.digest)} (${entry(l.dataset.created)})`],
      [
        'Dataset asked for',
        l.requestedDataset
          ? `${code(l.requestedDataset.id)} ${text(l.requestedDataset.name)}, ${l.requestedDataset.assetCount} assets, digest ${code(l.requestedDataset.digest)} (${entry(l.requestedDataset.created)})`
          : 'the same dataset',
      ],
      ['Assets', String(l.assetCount)],
      ['Productions', counts(l.productions)],
      ['Rights holders', counts(l.rightsHolders)],
      ['Media types', counts(l.mediaTypes)],
      ['Period of registration', `${when(l.period.firstRegisteredAt)} to ${when(l.period.lastRegisteredAt)}`],
      ['Size', `${l.bytes} bytes`],
    ]),
    '#### 2.2.2 Private datasets obtained from other third parties',
    'None.',
    '### 2.3 Data crawled and scraped from online sources',
    text(d.crawledData),
    '### 2.4 User data',
    text(d.userData),
    '### 2.5 Synthetic data',
    d.syntheticData.assetCount ? `${d.syntheticData.assetCount} asset(s): ${text(d.syntheticData.description)}` : 'None.',
    '### 2.6 Other sources of data',
    text(d.otherSources),
    '## 3. Data processing aspects',
    '### 3.1 Respect of reservation of rights from the text and data mining exception or limitation',
    text(p.rightsReservations.description),
    facts([
      [
        'Clearance',
        `${code(c.id)}: ${text(c.decision)} (${text(c.mode)}) for ${text(c.vendor)}, ${text(c.purpose)} of ${text(c.baseModel)}, issued ${when(c.issuedAt)} (${entry(c.granted)})`,
      ],
      ['Policy digest', code(c.policyDigest)],
      ['Policy set', c.policySetLoaded ? entry(c.policySetLoaded) : '—'],
      ['Dataset digest', code(c.datasetDigest)],
      ['Decisions digest', code(c.decisionsDigest)],
      ['Assets asked for', String(c.counts.requested)],
      ['Allowed (trained on)', String(c.counts.allowed)],
      ['Excluded by the gate', String(c.counts.denied)],
      ['Clearance standing now', text(c.standingNow)],
    ]),
    '#### Training-mining signals read',
    table(
      ['Signal', 'Standard', 'Kept per asset', 'Values among the assets asked for', 'Assets it excluded', 'Note'],
      p.rightsReservations.signalsRead.map((r) => [
        code(r.signal),
        text(r.standard),
        r.stored ? 'yes' : 'no',
        Object.entries(r.counts)
          .map(([k, n]) => `${text(k)}: ${n}`)
          .join(', ') || '—',
        String(r.excluded),
        text(r.note),
      ]),
    ),
    '#### Assets excluded by a rights reservation',
    excludedTable(p.rightsReservations.excluded),
    '#### Assets excluded for other reasons',
    excludedTable(p.otherExclusions),
    '#### Licenses relied on',
    `${p.licensesReliedOn.count} license version${p.licensesReliedOn.count === 1 ? '' : 's'}; by licensor: ${counts(p.licensesReliedOn.byLicensor)}.`,
    p.licensesReliedOn.items.length
      ? table(
          ['License', 'Version', 'Asset', 'Licensor', 'Licensee', 'Training', 'Territories', 'Term', 'Contract', 'Standing now', 'Audit entry'],
          p.licensesReliedOn.items.map((i) => [
            code(i.licenseId),
            String(i.version),
            code(i.assetId),
            text(i.licensor),
            text(i.licensee),
            text(i.training),
            text(i.territories.join(', ')),
            `${when(i.term.start)} to ${when(i.term.end)}`,
            text(i.contractRef),
            text(i.standingNow),
            String(i.recorded.auditIndex),
          ]),
        )
      : 'None.',
    '### 3.2 Removal of illegal content',
    'The training data is the production’s own licensed concept art, registered one asset at a time; no content was collected from elsewhere.',
  ]);
}
