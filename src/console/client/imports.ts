// The Import page (legal, admin): a folder dropped or chosen, and its terms sheet; each file hashed here
// (WebCrypto), then POST /v1/imports with the hashes (the bytes stay on this machine) and the job's progress
// read from GET /v1/imports/{id}/events (Server-Sent Events, read with fetch so that the token goes in a
// header, never a URL). The error file comes from GET /v1/imports/{id}/errors.
import { ApiError, api, SessionEnded } from './api.ts';
import { append, facts, h, replaceChildren } from './dom.ts';

type Counts = {
  files: number;
  created: number;
  amended: number;
  unchanged: number;
  skipped: number;
  errors: number;
  done: number;
  planned: number;
  newAssets: number;
  newVersions: number;
};
type Job = { id: string; state: string; production: string; dryRun: boolean; counts: Counts; errorRows: number; message: string | null };
type Picked = { path: string; file: File };

const IMPORTABLE = /\.(jpe?g|png|webp|gif|tiff?|avif|hei[cf]|mp4|mov|psd)$/i;
const TYPE_BY_EXTENSION: Record<string, string> = { psd: 'image/vnd.adobe.photoshop', mov: 'video/quicktime', tif: 'image/tiff', jpg: 'image/jpeg' };

export function renderImports(root: HTMLElement, leave: AbortSignal): void {
  let picked: Picked[] = [];
  let folderName = '';
  const folderInput = h('input', { id: 'import-folder', type: 'file', multiple: true, webkitdirectory: true, class: 'visually-hidden' });
  const zone = h(
    'div',
    { class: 'drop-zone import-drop', tabindex: 0, 'aria-describedby': 'import-folder-help' },
    h('p', {}, 'Drop the folder of art here, or '),
    h('label', { class: 'button' }, 'Choose a folder', folderInput),
  );
  const folderHelp = h('p', { id: 'import-folder-help', class: 'help', role: 'status' }, 'No folder yet.');
  const sheetInput = h('input', {
    id: 'import-sheet',
    type: 'file',
    accept: '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'aria-describedby': 'import-sheet-help',
  });
  const production = h('input', { id: 'import-production', type: 'text', 'aria-describedby': 'import-production-help' });
  const dryRun = h('input', { id: 'import-dry-run', type: 'checkbox', checked: true });
  const skipErrors = h('input', { id: 'import-skip-errors', type: 'checkbox' });
  const amend = h('input', { id: 'import-amend', type: 'checkbox' });
  const check = (input: HTMLInputElement, label: string) => h('div', { class: 'form-field form-check' }, input, h('label', { for: input.id }, label));
  const submit = h('button', { type: 'submit' }, 'Check the sheet');
  const summary = h('div', { class: 'form-summary', role: 'alert', tabindex: -1 });
  const form = h(
    'form',
    { class: 'form import-form', novalidate: true },
    summary,
    h('div', { class: 'form-field' }, h('span', { class: 'label' }, 'Folder'), zone, folderHelp),
    h(
      'div',
      { class: 'form-field' },
      h('label', { for: 'import-sheet' }, 'Terms sheet (CSV or XLSX)'),
      sheetInput,
      h('p', { id: 'import-sheet-help', class: 'help' }, 'One row per file or glob (env/*.png); clearframe import --template prints the columns.'),
    ),
    h(
      'div',
      { class: 'form-field' },
      h('label', { for: 'import-production' }, 'Production'),
      production,
      h('p', { id: 'import-production-help', class: 'help' }, 'Defaults to the folder’s name.'),
    ),
    check(dryRun, 'Dry run: check and plan, write nothing'),
    check(skipErrors, 'Skip failing rows and import the rest'),
    check(amend, 'Record other terms as a new license version (amend)'),
    h('div', { class: 'form-actions' }, submit),
  );
  const progress = h('progress', { id: 'import-progress', max: 1, value: 0, 'aria-label': 'Import progress' });
  const progressText = h('p', { id: 'import-progress-text', role: 'status' });
  const result = h('section', { class: 'import-result', 'aria-live': 'polite' });
  progress.hidden = true;
  replaceChildren(
    root,
    h('h1', {}, 'Import'),
    h(
      'p',
      { class: 'help' },
      'The files stay on this machine: the console sends their SHA-256, computed here, with the sheet. Their own C2PA manifests are read when the folder is imported with clearframe import.',
    ),
    form,
    progress,
    progressText,
    result,
  );
  dryRun.addEventListener('change', () => {
    submit.textContent = dryRun.checked ? 'Check the sheet' : 'Import';
  });

  const take = (files: Picked[], name: string) => {
    picked = files.filter((f) => IMPORTABLE.test(f.path) && !f.path.split('/').some((s) => s.startsWith('.')));
    folderName = name;
    if (!production.value.trim() && name) production.value = name;
    folderHelp.textContent = `${picked.length} file${picked.length === 1 ? '' : 's'} of art in ${name || 'the folder'}.`;
  };
  folderInput.addEventListener('change', () => {
    const files = [...(folderInput.files ?? [])];
    const first = files[0]?.webkitRelativePath ?? '';
    const name = first.includes('/') ? first.slice(0, first.indexOf('/')) : '';
    take(
      files.map((file) => ({ path: stripFirst(file.webkitRelativePath || file.name), file })),
      name,
    );
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    void dropped(e.dataTransfer).then(({ files, name }) => take(files, name));
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });

  const run = async () => {
    summary.replaceChildren();
    result.replaceChildren();
    const sheet = sheetInput.files?.[0];
    const problems = [!picked.length && 'Choose or drop a folder of art.', !sheet && 'Choose the terms sheet.', !production.value.trim() && 'Name the production.'].filter(
      Boolean,
    ) as string[];
    if (problems.length) {
      summary.append(h('ul', {}, ...problems.map((p) => h('li', {}, p))));
      summary.focus();
      return;
    }
    submit.disabled = true;
    progress.hidden = false;
    try {
      // 1. Hashed here, a few at a time.
      const facts: { path: string; sha256: string; byteSize: number; mediaType: string }[] = new Array(picked.length);
      let hashed = 0;
      let next = 0;
      progress.max = picked.length;
      const lane = async () => {
        while (next < picked.length && !leave.aborted) {
          const i = next++;
          const { path, file } = picked[i]!;
          const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
          facts[i] = { path, sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''), byteSize: file.size, mediaType: mediaTypeOf(file, path) };
          hashed++;
          progress.value = hashed;
          progressText.textContent = `Hashed ${hashed} of ${picked.length} files.`;
        }
      };
      await Promise.all([lane(), lane(), lane(), lane()]);
      if (leave.aborted) return;
      // 2. The job.
      const content = base64(new Uint8Array(await sheet!.arrayBuffer()));
      const res = await api('/v1/imports', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          production: production.value.trim(),
          sheet: { name: sheet!.name, content },
          files: facts,
          dryRun: dryRun.checked,
          skipErrors: skipErrors.checked,
          amend: amend.checked,
        }),
      });
      let job = (await res.json()) as Job;
      // 3. Its progress, until done.
      if (job.state === 'running') {
        progress.max = Math.max(1, job.counts.planned);
        job = await follow(job, leave, (j) => {
          progress.value = j.counts.done;
          progressText.textContent = `Registered ${j.counts.done} of ${j.counts.planned} files.`;
        });
      }
      progress.value = progress.max;
      progressText.textContent = describe(job);
      showResult(result, job, folderName);
    } catch (e) {
      if (e instanceof SessionEnded) return;
      const p = e instanceof ApiError ? (e.problem as ApiError['problem'] & { errors?: { field: string; message: string }[] }) : null;
      append(summary, [
        h('p', {}, p ? `${p.title ?? 'The service refused this'}: ${p.detail ?? `HTTP ${p.status}`}` : 'The service did not answer. Try again.'),
        p?.errors?.length ? h('ul', {}, ...p.errors.map((x) => h('li', {}, `${x.field}: ${x.message}`))) : null,
      ]);
      summary.focus();
      progress.hidden = true;
      progressText.textContent = '';
    } finally {
      submit.disabled = false;
    }
  };
}

function describe(job: Job): string {
  const c = job.counts;
  if (job.state === 'rejected') return `Nothing was imported: ${c.errors} row${c.errors === 1 ? '' : 's'} failed.`;
  if (job.state === 'planned')
    return `Dry run, nothing written: ${c.newAssets} new assets, ${c.newVersions} new license versions, ${c.unchanged} unchanged, ${c.skipped} skipped, ${c.errors} errors.`;
  return `Imported: ${c.created} created, ${c.amended} amended, ${c.unchanged} unchanged, ${c.skipped} skipped, ${c.errors} errors.`;
}

function showResult(result: HTMLElement, job: Job, folder: string): void {
  const c = job.counts;
  const rows: [string, string | number][] = [
    ['Import', job.id],
    ['State', job.state],
    ['Files', c.files],
    ...(job.state === 'planned' || job.state === 'rejected'
      ? ([
          ['New assets', c.newAssets],
          ['New license versions', c.newVersions],
        ] as [string, number][])
      : ([
          ['Created', c.created],
          ['Amended', c.amended],
        ] as [string, number][])),
    ['Unchanged', c.unchanged],
    ['Skipped', c.skipped],
    ['Errors', c.errors],
  ];
  replaceChildren(result, h('h2', {}, job.dryRun ? 'The plan' : 'The import'), facts(rows.map(([k, v]) => [k, String(v)])));
  if (job.message) result.append(h('p', { class: 'help' }, job.message));
  if (job.errorRows > 0) {
    const link = h('a', { href: '#', class: 'download-errors' }, `Download the error file (${job.errorRows} row${job.errorRows === 1 ? '' : 's'})`);
    link.addEventListener('click', (e) => {
      e.preventDefault();
      void api(`/v1/imports/${encodeURIComponent(job.id)}/errors`)
        .then((r) => r.blob())
        .then((blob) => {
          const a = h('a', { href: URL.createObjectURL(blob), download: `${folder || job.production}.errors.csv` });
          a.click();
          setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
        })
        .catch(() => {});
    });
    result.append(h('p', {}, link));
  }
}

/** The job's event stream read until `done` (or the page is left); each event's job handed to `onJob`. */
async function follow(job: Job, leave: AbortSignal, onJob: (j: Job) => void): Promise<Job> {
  const res = await api(`/v1/imports/${encodeURIComponent(job.id)}/events`, { signal: leave });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return job;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (data) {
        job = JSON.parse(data) as Job;
        onJob(job);
        if (/^event: done$/m.test(block)) {
          void reader.cancel();
          return job;
        }
      }
      end = buffer.indexOf('\n\n');
    }
  }
}

/** A dropped folder's files, walked through its entries, with paths relative to it. */
async function dropped(dt: DataTransfer | null): Promise<{ files: Picked[]; name: string }> {
  if (!dt) return { files: [], name: '' };
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry?.() ?? null);
  const files: Picked[] = [];
  let name = '';
  if (entries.length === 1 && entries[0]?.isDirectory) {
    name = entries[0].name;
    await walk(entries[0] as FileSystemDirectoryEntry, '', files);
  } else {
    // Loose files (or a browser without entries): each at the top of the folder.
    for (const file of [...dt.files]) files.push({ path: file.name, file });
  }
  return { files, name };
}

async function walk(dir: FileSystemDirectoryEntry, below: string, out: Picked[]): Promise<void> {
  const reader = dir.createReader();
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return;
    for (const entry of batch) {
      const rel = below ? `${below}/${entry.name}` : entry.name;
      if (entry.isDirectory) await walk(entry as FileSystemDirectoryEntry, rel, out);
      else out.push({ path: rel, file: await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)) });
    }
  }
}

const stripFirst = (p: string) => (p.includes('/') ? p.slice(p.indexOf('/') + 1) : p);

function mediaTypeOf(file: File, path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  return TYPE_BY_EXTENSION[ext] ?? (file.type || `image/${ext}`);
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
