// A report of the ledger (a checkpoint's training summary, a chain of title) as a download: the same
// document as Markdown or JSON, fetched with the session's token and saved from a blob URL. Shared by the
// checkpoint, asset and rights chain pages.
import { ApiError, api, SessionEnded } from './api.ts';
import { h } from './dom.ts';

const FORMATS = [
  { label: 'Markdown', accept: 'text/markdown', ext: 'md' },
  { label: 'JSON', accept: 'application/json', ext: 'json' },
] as const;

/** A section with a heading, one button per format, and a status line; `file` names the saved file (without its extension). */
export function reportDownload(id: string, title: string, help: string, path: string, file: string): HTMLElement {
  const status = h('p', { class: 'help report-status', role: 'status' });
  const buttons = FORMATS.map((f) => {
    const b = h('button', { type: 'button', class: 'download', 'data-format': f.ext }, `Download ${title.toLowerCase()} (${f.label})`);
    b.addEventListener('click', async () => {
      status.textContent = 'Preparing…';
      try {
        const res = await api(path, { headers: { accept: f.accept } });
        const url = URL.createObjectURL(await res.blob());
        const a = h('a', { href: url, download: `${file}.${f.ext}`, hidden: true });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
        status.textContent = `Downloaded ${file}.${f.ext}.`;
      } catch (err) {
        if (err instanceof SessionEnded) return;
        status.textContent = err instanceof ApiError ? `The download was refused: ${err.message}` : 'The download failed.';
      }
    });
    return b;
  });
  return h(
    'section',
    { class: 'report-download', 'aria-labelledby': `${id}-h`, 'data-report': id },
    h('h2', { id: `${id}-h` }, title),
    h('p', { class: 'help' }, help),
    h('p', { class: 'report-actions' }, ...buttons.flatMap((b, i) => (i ? [' ', b] : [b]))),
    status,
  );
}
